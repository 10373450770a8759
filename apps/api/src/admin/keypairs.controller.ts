import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ACCESS_KEY_PATTERN, SecretBox, generateKeypair } from '@gridline/auth';
import { KeypairRecord, KeypairRepository, Page } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { notFound } from './admin-errors';
import { CredentialOwner, assertMintingCaller, ownerFilter } from './credential-owner';
import { CreateKeypairDto, KeypairQueryDto, RotateKeypairDto, UpdateKeypairDto } from './dto/admin.dto';

export type NewKeypair = KeypairRecord & { secretKey: string };

@ApiTags('keypairs')
@Controller('api/v1/keypairs')
export class KeypairsController {
  constructor(
    private readonly keypairs: KeypairRepository,
    private readonly owner: CredentialOwner,
    private readonly secrets: SecretBox,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Authenticated({ scope: 'management' })
  list(@CurrentPrincipal() p: Principal, @Query() q: KeypairQueryDto): Promise<Page<KeypairRecord>> {
    return this.keypairs.list(scopeFor(p), { userId: ownerFilter(p, q.userId), isActive: q.active }, q);
  }

  /** Creates a keypair. The secret is in this response only. */
  @Post()
  @Authenticated({ scope: 'management' })
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateKeypairDto, @Req() req: Request): Promise<NewKeypair> {
    const { userId, teamId } = await this.owner.resolve(p, dto);
    const created = await this.issue(p, userId, teamId, dto.expiresAt ? new Date(dto.expiresAt) : null);
    await this.audit.record(p, req, { action: 'keypair.create', targetType: 'keypair', targetId: created.accessKey, teamId, details: { userId, expiresAt: dto.expiresAt ?? null } });
    return created;
  }

  @Get(':accessKey')
  @Authenticated({ scope: 'management' })
  async get(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string): Promise<KeypairRecord> {
    return this.find(p, accessKey);
  }

  @Patch(':accessKey')
  @Authenticated({ scope: 'management' })
  async update(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string, @Body() dto: UpdateKeypairDto, @Req() req: Request): Promise<KeypairRecord> {
    const current = await this.find(p, accessKey);
    const changes = {
      ...(dto.isActive !== undefined ? { isActive: dto.isActive } : {}),
      ...(dto.expiresAt !== undefined ? { expiresAt: dto.expiresAt === null ? null : new Date(dto.expiresAt) } : {}),
    };
    if (Object.keys(changes).length === 0) return current;
    const updated = await this.keypairs.update(scopeFor(p), accessKey, changes);
    if (!updated) throw notFound('keypair', accessKey);
    await this.audit.record(p, req, { action: 'keypair.update', targetType: 'keypair', targetId: accessKey, teamId: current.teamId, details: { ...dto } });
    return updated;
  }

  /** Issues a new keypair for the same owner and team; the old one keeps working for `graceSeconds`. */
  @Post(':accessKey/rotate')
  @Authenticated({ scope: 'management' })
  async rotate(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string, @Body() dto: RotateKeypairDto, @Req() req: Request): Promise<NewKeypair> {
    assertMintingCaller(p);
    const old = await this.find(p, accessKey);
    const created = await this.issue(p, old.userId, old.teamId, old.expiresAt);
    const until = new Date(Date.now() + dto.graceSeconds * 1000);
    await this.keypairs.update(scopeFor(p), accessKey, dto.graceSeconds === 0 ? { isActive: false } : { expiresAt: old.expiresAt && old.expiresAt < until ? old.expiresAt : until });
    await this.audit.record(p, req, {
      action: 'keypair.rotate',
      targetType: 'keypair',
      targetId: accessKey,
      teamId: old.teamId,
      details: { replacedBy: created.accessKey, graceSeconds: dto.graceSeconds },
    });
    return created;
  }

  @Delete(':accessKey')
  @HttpCode(204)
  @Authenticated({ scope: 'management' })
  async delete(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string, @Req() req: Request): Promise<void> {
    const current = await this.find(p, accessKey);
    if (!(await this.keypairs.delete(scopeFor(p), accessKey))) throw notFound('keypair', accessKey);
    await this.audit.record(p, req, { action: 'keypair.delete', targetType: 'keypair', targetId: accessKey, teamId: current.teamId });
  }

  private async find(p: Principal, accessKey: string): Promise<KeypairRecord> {
    const found = ACCESS_KEY_PATTERN.test(accessKey) ? await this.keypairs.get(scopeFor(p), accessKey) : null;
    if (!found || !(await this.owner.mayManage(p, found.userId))) throw notFound('keypair', accessKey);
    return found;
  }

  private async issue(p: Principal, userId: string, teamId: string, expiresAt: Date | null): Promise<NewKeypair> {
    const pair = generateKeypair();
    const record = await this.keypairs.create({ accessKey: pair.accessKey, secretSealed: this.secrets.seal(pair.secretKey, pair.accessKey), userId, teamId, expiresAt, createdBy: p.userId });
    return { ...record, secretKey: pair.secretKey };
  }
}
