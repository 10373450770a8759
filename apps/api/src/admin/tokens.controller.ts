import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { generateApiToken } from '@gridline/auth';
import { Page, TokenRecord, TokenRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { notFound } from './admin-errors';
import { CredentialOwner, ownerFilter } from './credential-owner';
import { CreateTokenDto, TokenQueryDto } from './dto/admin.dto';

@ApiTags('tokens')
@Controller('api/v1/tokens')
export class TokensController {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly owner: CredentialOwner,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Authenticated({ scope: 'management' })
  list(@CurrentPrincipal() p: Principal, @Query() q: TokenQueryDto): Promise<Page<TokenRecord>> {
    return this.tokens.list(scopeFor(p), { userId: ownerFilter(p, q.userId), includeRevoked: q.includeRevoked }, q);
  }

  /** Creates a bearer token. The token is in this response only; Gridline keeps its hash. */
  @Post()
  @Authenticated({ scope: 'management' })
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTokenDto, @Req() req: Request): Promise<TokenRecord & { token: string }> {
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
    await this.audit.record(p, req, {
      action: 'token.create',
      targetType: 'token',
      targetId: record.id,
      teamId,
      details: { prefix: record.prefix, name: dto.name, scope: dto.scope, models: dto.models ?? null, userId },
    });
    return { ...record, token: generated.token };
  }

  @Get(':id')
  @Authenticated({ scope: 'management' })
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<TokenRecord> {
    return this.find(p, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'management' })
  async revoke(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string, @Req() req: Request): Promise<void> {
    const token = await this.find(p, id);
    if (!(await this.tokens.revoke(scopeFor(p), id, new Date()))) throw notFound('token', id);
    await this.audit.record(p, req, { action: 'token.revoke', targetType: 'token', targetId: id, teamId: token.teamId, details: { prefix: token.prefix } });
  }

  private async find(p: Principal, id: string): Promise<TokenRecord> {
    const found = await this.tokens.get(scopeFor(p), id);
    if (!found || !(await this.owner.mayManage(p, found.userId))) throw notFound('token', id);
    return found;
  }
}
