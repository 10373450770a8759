import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { ApiTokenEntity, KeypairEntity, QuotaLimitEntity } from '../entities';
import { TeamScope, scopedTeam } from './team-scope';

/** The limits of one scope; null: no limit. */
export interface QuotaLimitValues {
  maxConcurrentJobs: number | null;
  maxQueuedJobs: number | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  tokensPerDay: number | null;
}

export const QUOTA_LIMIT_FIELDS = ['maxConcurrentJobs', 'maxQueuedJobs', 'requestsPerMinute', 'tokensPerMinute', 'tokensPerDay'] as const satisfies readonly (keyof QuotaLimitValues)[];

/** Whom a row limits: the team as a whole, one of its keys, or one model as the team uses it. */
export type QuotaSubjectRef = { kind: 'team' } | { kind: 'keypair'; id: string } | { kind: 'token'; id: string } | { kind: 'model'; model: string };

export interface QuotaEntry {
  subject: QuotaSubjectRef;
  limits: QuotaLimitValues;
}

export interface QuotaEntryRecord extends QuotaEntry {
  updatedAt: Date;
}

function toEntry(row: QuotaLimitEntity): QuotaEntryRecord {
  const subject: QuotaSubjectRef = row.keypairId ? { kind: 'keypair', id: row.keypairId } : row.apiTokenId ? { kind: 'token', id: row.apiTokenId } : row.model !== null ? { kind: 'model', model: row.model } : { kind: 'team' };
  const limits = Object.fromEntries(QUOTA_LIMIT_FIELDS.map((f) => [f, row[f]])) as unknown as QuotaLimitValues;
  return { subject, limits, updatedAt: row.updatedAt };
}

/** Order of a team's entries: the team's own, then keys, then models. */
const RANK: Record<QuotaSubjectRef['kind'], number> = { team: 0, keypair: 1, token: 1, model: 2 };
function sortKey(e: QuotaEntry): string {
  const s = e.subject;
  return `${RANK[s.kind]}:${s.kind === 'keypair' || s.kind === 'token' ? s.id : s.kind === 'model' ? s.model : ''}`;
}

/** Inference quota limits per team, key and model (the QuotaGate of @gridline/jobs enforces them). */
@Injectable()
export class QuotaRepository {
  constructor(private readonly db: DataSource) {}

  /** Every entry of a team (an empty list: no quota), in a stable order; null when the team is outside the scope. */
  async forTeam(scope: TeamScope, teamId: string): Promise<QuotaEntryRecord[] | null> {
    const team = scopedTeam(scope);
    if (team && team !== teamId) return null;
    const rows = await this.db.getRepository(QuotaLimitEntity).find({ where: { teamId } });
    return rows.map(toEntry).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  }

  /**
   * Replaces every entry of a team at once (in one transaction: readers see the old set or the
   * new one). Returns null when the team is outside the scope. The caller checks that the keys
   * are the team's (`foreignKeys`).
   */
  async replace(scope: TeamScope, teamId: string, entries: QuotaEntry[]): Promise<QuotaEntryRecord[] | null> {
    const team = scopedTeam(scope);
    if (team && team !== teamId) return null;
    await this.db.transaction(async (m) => {
      await m.getRepository(QuotaLimitEntity).delete({ teamId });
      if (!entries.length) return;
      await m.getRepository(QuotaLimitEntity).insert(
        entries.map((e) => ({
          teamId,
          keypairId: e.subject.kind === 'keypair' ? e.subject.id : null,
          apiTokenId: e.subject.kind === 'token' ? e.subject.id : null,
          model: e.subject.kind === 'model' ? e.subject.model : null,
          ...e.limits,
        })),
      );
    });
    return this.forTeam(scope, teamId);
  }

  /** Of the given keys, those that are not the team's (unknown, or another team's). */
  async foreignKeys(teamId: string, keys: { keypairs: string[]; tokens: string[] }): Promise<{ keypairs: string[]; tokens: string[] }> {
    const own = async (ids: string[], entity: typeof KeypairEntity | typeof ApiTokenEntity): Promise<Set<string>> =>
      ids.length ? new Set((await this.db.getRepository(entity).find({ select: { id: true }, where: { id: In(ids), teamId } })).map((r) => r.id)) : new Set();
    const [keypairs, tokens] = await Promise.all([own(keys.keypairs, KeypairEntity), own(keys.tokens, ApiTokenEntity)]);
    return { keypairs: keys.keypairs.filter((id) => !keypairs.has(id)), tokens: keys.tokens.filter((id) => !tokens.has(id)) };
  }
}
