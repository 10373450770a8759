import { Injectable } from '@nestjs/common';
import { generateApiToken } from '@gridline/auth';
import { TokenRecord, TokenRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { CredentialOwner, ownerFilter } from '../auth/credential-owner';
import { Principal, scopeFor } from '../auth/principal';
import { toPageDto } from '../common/dto/page.dto';
import { notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { CreateTokenDto, NewTokenDto, TokenDto, TokenPageDto, TokenQueryDto, toTokenDto } from './dto/token.dto';

/** Bearer tokens: shown once, stored as a hash; see CredentialOwner for who manages which. */
@Injectable()
export class TokensService {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly owner: CredentialOwner,
    private readonly audit: AuditService,
  ) {}

  async list(p: Principal, q: TokenQueryDto): Promise<TokenPageDto> {
    return toPageDto(await this.tokens.list(scopeFor(p), { userId: ownerFilter(p, q.userId), includeRevoked: q.includeRevoked }, q), toTokenDto);
  }

  async get(p: Principal, id: string): Promise<TokenDto> {
    return toTokenDto(await this.find(p, id));
  }

  /** Creates a bearer token. The token is in this response only; Gridline keeps its hash. */
  async create(p: Principal, dto: CreateTokenDto, origin: RequestOrigin): Promise<NewTokenDto> {
    const { userId, teamId } = await this.owner.resolve(p, dto);
    const generated = generateApiToken();
    const record = await this.tokens.create({
      teamId,
      userId,
      name: dto.name,
      prefix: generated.prefix,
      tokenHash: generated.hash,
      scope: dto.scope,
      models: dto.models ?? null,
      expiresAt: dto.expiresAt ? new Date(dto.expiresAt) : null,
      createdBy: p.userId,
    });
    await this.audit.record(p, origin, {
      action: 'token.create',
      targetType: 'token',
      targetId: record.id,
      teamId,
      details: { prefix: record.prefix, name: dto.name, scope: dto.scope, models: dto.models ?? null, userId },
    });
    return { ...toTokenDto(record), token: generated.token };
  }

  async revoke(p: Principal, id: string, origin: RequestOrigin): Promise<void> {
    const token = await this.find(p, id);
    if (!(await this.tokens.revoke(scopeFor(p), id, new Date()))) throw notFound('token', id, 'id');
    await this.audit.record(p, origin, { action: 'token.revoke', targetType: 'token', targetId: id, teamId: token.teamId, details: { prefix: token.prefix } });
  }

  private async find(p: Principal, id: string): Promise<TokenRecord> {
    const found = await this.tokens.get(scopeFor(p), id);
    if (!found || !this.owner.mayManage(p, found.userId)) throw notFound('token', id, 'id');
    return found;
  }
}
