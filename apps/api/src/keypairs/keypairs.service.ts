import { Injectable } from '@nestjs/common';
import { ACCESS_KEY_PATTERN, SecretBox, generateKeypair } from '@gridline/auth';
import { KeypairRecord, KeypairRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { CredentialOwner, assertMintingCaller, ownerFilter } from '../auth/credential-owner';
import { Principal, scopeFor } from '../auth/principal';
import { toPageDto } from '../common/dto/page.dto';
import { notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { CreateKeypairDto, KeypairDto, KeypairPageDto, KeypairQueryDto, NewKeypairDto, RotateKeypairDto, UpdateKeypairDto, toKeypairDto } from './dto/keypair.dto';

/** HMAC keypairs: secrets sealed under the master key and shown once; see CredentialOwner for who manages which. */
@Injectable()
export class KeypairsService {
  constructor(
    private readonly keypairs: KeypairRepository,
    private readonly owner: CredentialOwner,
    private readonly secrets: SecretBox,
    private readonly audit: AuditService,
  ) {}

  async list(p: Principal, q: KeypairQueryDto): Promise<KeypairPageDto> {
    return toPageDto(await this.keypairs.list(scopeFor(p), { userId: ownerFilter(p, q.userId), isActive: q.active }, q), toKeypairDto);
  }

  async get(p: Principal, accessKey: string): Promise<KeypairDto> {
    return toKeypairDto(await this.find(p, accessKey));
  }

  /** Creates a keypair. The secret is in this response only. */
  async create(p: Principal, dto: CreateKeypairDto, origin: RequestOrigin): Promise<NewKeypairDto> {
    const { userId, teamId } = await this.owner.resolve(p, dto);
    const created = await this.issue(p, userId, teamId, dto.expiresAt ? new Date(dto.expiresAt) : null);
    await this.audit.record(p, origin, { action: 'keypair.create', targetType: 'keypair', targetId: created.accessKey, teamId, details: { userId, expiresAt: dto.expiresAt ?? null } });
    return created;
  }

  async update(p: Principal, accessKey: string, dto: UpdateKeypairDto, origin: RequestOrigin): Promise<KeypairDto> {
    const current = await this.find(p, accessKey);
    const changes = {
      ...(dto.isActive !== undefined ? { isActive: dto.isActive } : {}),
      ...(dto.expiresAt !== undefined ? { expiresAt: dto.expiresAt === null ? null : new Date(dto.expiresAt) } : {}),
    };
    if (Object.keys(changes).length === 0) return toKeypairDto(current);
    const updated = await this.keypairs.update(scopeFor(p), accessKey, changes);
    if (!updated) throw notFound('keypair', accessKey, 'accessKey');
    await this.audit.record(p, origin, { action: 'keypair.update', targetType: 'keypair', targetId: accessKey, teamId: current.teamId, details: { ...dto } });
    return toKeypairDto(updated);
  }

  /** Issues a new keypair for the same owner and team; the old one keeps working for `graceSeconds`. */
  async rotate(p: Principal, accessKey: string, dto: RotateKeypairDto, origin: RequestOrigin): Promise<NewKeypairDto> {
    assertMintingCaller(p);
    const old = await this.find(p, accessKey);
    const created = await this.issue(p, old.userId, old.teamId, old.expiresAt);
    const until = new Date(Date.now() + dto.graceSeconds * 1000);
    await this.keypairs.update(scopeFor(p), accessKey, dto.graceSeconds === 0 ? { isActive: false } : { expiresAt: old.expiresAt && old.expiresAt < until ? old.expiresAt : until });
    await this.audit.record(p, origin, {
      action: 'keypair.rotate',
      targetType: 'keypair',
      targetId: accessKey,
      teamId: old.teamId,
      details: { replacedBy: created.accessKey, graceSeconds: dto.graceSeconds },
    });
    return created;
  }

  async delete(p: Principal, accessKey: string, origin: RequestOrigin): Promise<void> {
    const current = await this.find(p, accessKey);
    if (!(await this.keypairs.delete(scopeFor(p), accessKey))) throw notFound('keypair', accessKey, 'accessKey');
    await this.audit.record(p, origin, { action: 'keypair.delete', targetType: 'keypair', targetId: accessKey, teamId: current.teamId });
  }

  /** A keypair the caller may manage; anything else, malformed keys included, is the same 404. */
  private async find(p: Principal, accessKey: string): Promise<KeypairRecord> {
    const found = ACCESS_KEY_PATTERN.test(accessKey) ? await this.keypairs.get(scopeFor(p), accessKey) : null;
    if (!found || !this.owner.mayManage(p, found.userId)) throw notFound('keypair', accessKey, 'accessKey');
    return found;
  }

  private async issue(p: Principal, userId: string, teamId: string, expiresAt: Date | null): Promise<NewKeypairDto> {
    const pair = generateKeypair();
    const record = await this.keypairs.create({ accessKey: pair.accessKey, secretSealed: this.secrets.seal(pair.secretKey, pair.accessKey), userId, teamId, expiresAt, createdBy: p.userId });
    return { ...toKeypairDto(record), secretKey: pair.secretKey };
  }
}
