import { Injectable, Logger } from '@nestjs/common';
import { ApiError, errorSummary, quote } from '@gridline/common';
import { ModelRepository, QUOTA_LIMIT_FIELDS, QuotaEntry, QuotaEntryRecord, QuotaLimitValues, QuotaRepository, TeamRepository, TeamScope } from '@gridline/db';
import { QuotaGate, QuotaPolicies, QuotaScopeKind, QuotaSubject } from '@gridline/jobs';
import { AuditService } from '../audit/audit.service';
import { Principal, scopeFor } from '../auth/principal';
import { notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { MeshViews } from '../mesh/mesh-views';
import { PutTeamQuotasDto, QuotaLimitsDto, QuotaUsageDto, TeamQuotasDto } from './dto/quota.dto';

function values(l: QuotaLimitsDto): QuotaLimitValues {
  return Object.fromEntries(QUOTA_LIMIT_FIELDS.map((f) => [f, l[f] ?? null])) as unknown as QuotaLimitValues;
}

const USAGE_OF: Record<keyof QuotaLimitValues, keyof QuotaUsageDto> = {
  maxConcurrentJobs: 'concurrentJobs',
  maxQueuedJobs: 'queuedJobs',
  requestsPerMinute: 'requestsThisMinute',
  tokensPerMinute: 'tokensThisMinute',
  tokensPerDay: 'tokensToday',
};

/**
 * Inference quotas of a team, its keys and its models: superadmins set them (one PUT replaces
 * them all, audited); every member of the team reads them, with their current use.
 */
@Injectable()
export class QuotasService {
  private readonly logger = new Logger('Quotas');

  constructor(
    private readonly quotas: QuotaRepository,
    private readonly teams: TeamRepository,
    private readonly models: ModelRepository,
    private readonly mesh: MeshViews,
    private readonly gate: QuotaGate,
    private readonly policies: QuotaPolicies,
    private readonly audit: AuditService,
  ) {}

  async get(p: Principal, teamId: string): Promise<TeamQuotasDto> {
    const entries = (await this.teams.get(scopeFor(p), teamId)) ? await this.quotas.forTeam(scopeFor(p), teamId) : null;
    if (!entries) throw notFound('team', teamId, 'id');
    return this.view(teamId, entries);
  }

  async put(p: Principal, teamId: string, dto: PutTeamQuotasDto, origin: RequestOrigin): Promise<TeamQuotasDto> {
    // The team first (404), then what the body names (404 naming the entry): checked before anything is written.
    if (!(await this.teams.get(scopeFor(p), teamId))) throw notFound('team', teamId, 'id');
    const keys = dto.keys ?? [];
    const models = dto.models ?? [];
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (seen.has(k.id)) throw new ApiError('validation_failed', `the key ${quote(k.id)} is listed twice`, { param: `keys[${i}].id` });
      seen.add(k.id);
    });
    models.forEach((m, i) => {
      if (seen.has(`model:${m.model}`)) throw new ApiError('validation_failed', `the model ${quote(m.model)} is listed twice`, { param: `models[${i}].model` });
      seen.add(`model:${m.model}`);
    });
    const foreign = await this.quotas.foreignKeys(teamId, { keypairs: keys.filter((k) => k.kind === 'keypair').map((k) => k.id), tokens: keys.filter((k) => k.kind === 'token').map((k) => k.id) });
    const badKey = keys.findIndex((k) => (k.kind === 'keypair' ? foreign.keypairs : foreign.tokens).includes(k.id));
    if (badKey >= 0) throw notFound(keys[badKey].kind === 'keypair' ? "the team's keypair" : "the team's token", keys[badKey].id, `keys[${badKey}].id`);
    for (const [i, m] of models.entries()) {
      // A model of the catalog, or one an endpoint offers the team.
      if (!(await this.models.findVisible(TeamScope.team(teamId), m.model)) && (await this.mesh.offersFor(teamId, m.model)).length === 0) throw new ApiError('model_not_found', `The model ${quote(m.model)} does not exist for this team`, { param: `models[${i}].model` });
    }
    const entries: QuotaEntry[] = [
      ...(dto.limits ? [{ subject: { kind: 'team' as const }, limits: values(dto.limits) }] : []),
      ...keys.map((k) => ({ subject: { kind: k.kind, id: k.id }, limits: values(k.limits) })),
      ...models.map((m) => ({ subject: { kind: 'model' as const, model: m.model }, limits: values(m.limits) })),
    ];
    const saved = await this.quotas.replace(scopeFor(p), teamId, entries);
    if (!saved) throw notFound('team', teamId, 'id');
    this.policies.forget(teamId);
    await this.audit.record(p, origin, { action: 'team.quotas.update', targetType: 'team', targetId: teamId, teamId, details: { limits: dto.limits ?? null, keys, models } });
    return this.view(teamId, saved);
  }

  private async view(teamId: string, entries: QuotaEntryRecord[]): Promise<TeamQuotasDto> {
    const team = entries.find((e) => e.subject.kind === 'team');
    const usage = (e: QuotaEntryRecord | undefined, subject: QuotaSubject, kind: QuotaScopeKind) => (e ? this.usage(e.limits, subject, kind) : Promise.resolve(null));
    const keys = entries.filter((e) => e.subject.kind === 'keypair' || e.subject.kind === 'token');
    const models = entries.filter((e) => e.subject.kind === 'model');
    return {
      teamId,
      limits: team?.limits ?? null,
      usage: await usage(team, { teamId }, 'team'),
      keys: await Promise.all(
        keys.map(async (e) => {
          const s = e.subject as { kind: 'keypair' | 'token'; id: string };
          return { kind: s.kind, id: s.id, limits: e.limits, usage: await usage(e, { teamId, keyId: s.id }, 'key') };
        }),
      ),
      models: await Promise.all(
        models.map(async (e) => {
          const s = e.subject as { kind: 'model'; model: string };
          return { model: s.model, limits: e.limits, usage: await usage(e, { teamId, model: s.model }, 'model') };
        }),
      ),
    };
  }

  /** The current use of the limits that are set (the gate counts nothing for the others). */
  private async usage(limits: QuotaLimitValues, subject: QuotaSubject, kind: QuotaScopeKind): Promise<QuotaUsageDto | null> {
    try {
      const now = await this.gate.usage(subject, kind);
      const out = { concurrentJobs: null, queuedJobs: null, requestsThisMinute: null, tokensThisMinute: null, tokensToday: null } as QuotaUsageDto;
      for (const f of QUOTA_LIMIT_FIELDS) if (limits[f] !== null) out[USAGE_OF[f]] = now[USAGE_OF[f]];
      return out;
    } catch (e) {
      this.logger.warn(`reading quota usage failed: ${errorSummary(e)}`);
      return null;
    }
  }
}
