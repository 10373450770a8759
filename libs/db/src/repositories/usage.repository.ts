import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TeamScope, scopedTeam } from './team-scope';

/** What usage can be grouped by: the team, the model, the credential (keypair or bearer token), the user, the UTC day, the endpoint that served the job (or this cluster). */
export const USAGE_GROUPS = ['team', 'model', 'key', 'user', 'day', 'endpoint'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  scope: TeamScope;
  /** Jobs created in [from, to). */
  from: Date;
  to: Date;
  groupBy: readonly UsageGroup[];
}

/** One group's figures. Times are in milliseconds; null where no job of the group reached that point. */
export interface UsageRow {
  team: { id: string; name: string } | null;
  model: string | null;
  /** `keypair` with its access key, or `token` with its name; null for a job without a recorded credential. */
  key: { kind: 'keypair' | 'token'; id: string; label: string } | null;
  user: { id: string; email: string | null } | null;
  /** `YYYY-MM-DD` (UTC). */
  day: string | null;
  /** The remote endpoint that served the job; null for jobs served here. The name is null once the endpoint was removed (its jobs keep its id). */
  endpoint: { id: string; name: string | null } | null;
  requests: number;
  /** By outcome: succeeded, failed, cancelled, expired; jobs still open count in `open`. */
  outcomes: { succeeded: number; failed: number; cancelled: number; expired: number; open: number };
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  /** Created to started (queue wait), created to first token, created to finished: mean and median. */
  queueWaitMs: { mean: number | null; p50: number | null };
  firstTokenMs: { mean: number | null; p50: number | null };
  totalMs: { mean: number | null; p50: number | null };
}

/** Each group's SQL: the expression grouped by and the columns it selects. */
const GROUP_SQL: Record<UsageGroup, { by: string[]; select: string }> = {
  team: { by: ['j.team_id', 't.name'], select: 'j.team_id AS team_id, t.name AS team_name' },
  model: { by: ['j.model'], select: 'j.model AS model' },
  key: { by: ['j.keypair_id', 'k.access_key', 'j.api_token_id', 'tok.name'], select: 'j.keypair_id AS keypair_id, k.access_key AS access_key, j.api_token_id AS api_token_id, tok.name AS token_name' },
  user: { by: ['j.user_id', 'u.email'], select: 'j.user_id AS user_id, u.email AS user_email' },
  day: { by: ["to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"], select: "to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day" },
  endpoint: { by: ['j.endpoint_id', 'e.name'], select: 'j.endpoint_id AS endpoint_id, e.name AS endpoint_name' },
};

const ms = (from: string, to: string) => `EXTRACT(EPOCH FROM (${to} - ${from})) * 1000`;
const stat = (expr: string, name: string) => `avg(${expr}) AS ${name}_mean, percentile_cont(0.5) WITHIN GROUP (ORDER BY ${expr}) AS ${name}_p50`;

interface Raw {
  team_id?: string;
  team_name?: string;
  model?: string;
  keypair_id?: string | null;
  access_key?: string | null;
  api_token_id?: string | null;
  token_name?: string | null;
  user_id?: string | null;
  user_email?: string | null;
  day?: string;
  endpoint_id?: string | null;
  endpoint_name?: string | null;
  requests: string;
  succeeded: string;
  failed: string;
  cancelled: string;
  expired: string;
  open: string;
  prompt_tokens: string;
  cached_prompt_tokens: string;
  completion_tokens: string;
  [stat: `${string}_${'mean' | 'p50'}`]: string | number | null;
}

const num = (v: string | number | null | undefined) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

/**
 * Usage, aggregated from the jobs table (the source of truth: one row per job with its team,
 * credential, user, model, node, tokens and timings). One statement per query; rows ordered by
 * the groups. The scope limits it to a team for anyone but a superadmin.
 */
@Injectable()
export class UsageRepository {
  constructor(private readonly db: DataSource) {}

  async aggregate(q: UsageQuery): Promise<UsageRow[]> {
    const groups = USAGE_GROUPS.filter((g) => q.groupBy.includes(g));
    const params: unknown[] = [q.from, q.to];
    let where = 'j.created_at >= $1 AND j.created_at < $2';
    const teamId = scopedTeam(q.scope);
    if (teamId !== null) {
      params.push(teamId);
      where += ` AND j.team_id = $${params.length}`;
    }
    const by = groups.flatMap((g) => GROUP_SQL[g].by);
    const sql = `
      SELECT ${[...groups.map((g) => GROUP_SQL[g].select), 'count(*) AS requests'].join(', ')},
             count(*) FILTER (WHERE j.status = 'succeeded') AS succeeded,
             count(*) FILTER (WHERE j.status = 'failed') AS failed,
             count(*) FILTER (WHERE j.status = 'cancelled') AS cancelled,
             count(*) FILTER (WHERE j.status = 'expired') AS expired,
             count(*) FILTER (WHERE j.status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')) AS open,
             coalesce(sum(j.prompt_tokens), 0) AS prompt_tokens,
             coalesce(sum(j.cached_prompt_tokens), 0) AS cached_prompt_tokens,
             coalesce(sum(j.completion_tokens), 0) AS completion_tokens,
             ${stat(ms('j.created_at', 'j.started_at'), 'queue_wait')},
             ${stat(ms('j.created_at', 'j.first_token_at'), 'first_token')},
             ${stat(ms('j.created_at', 'j.finished_at'), 'total')}
      FROM jobs j
      JOIN teams t ON t.id = j.team_id
      LEFT JOIN keypairs k ON k.id = j.keypair_id
      LEFT JOIN api_tokens tok ON tok.id = j.api_token_id
      LEFT JOIN users u ON u.id = j.user_id
      LEFT JOIN endpoints e ON e.id = j.endpoint_id
      WHERE ${where}
      ${by.length > 0 ? `GROUP BY ${by.join(', ')} ORDER BY ${by.map((b) => `${b} NULLS FIRST`).join(', ')}` : ''}`;
    const rows: Raw[] = await this.db.query(sql, params);
    return rows.map((r) => ({
      team: groups.includes('team') && r.team_id ? { id: r.team_id, name: r.team_name ?? '' } : null,
      model: groups.includes('model') ? (r.model ?? null) : null,
      key: !groups.includes('key')
        ? null
        : r.keypair_id
          ? { kind: 'keypair', id: r.keypair_id, label: r.access_key ?? '' }
          : r.api_token_id
            ? { kind: 'token', id: r.api_token_id, label: r.token_name ?? '' }
            : null,
      user: groups.includes('user') && r.user_id ? { id: r.user_id, email: r.user_email ?? null } : null,
      day: groups.includes('day') ? (r.day ?? null) : null,
      endpoint: groups.includes('endpoint') && r.endpoint_id ? { id: r.endpoint_id, name: r.endpoint_name ?? null } : null,
      requests: Number(r.requests),
      outcomes: { succeeded: Number(r.succeeded), failed: Number(r.failed), cancelled: Number(r.cancelled), expired: Number(r.expired), open: Number(r.open) },
      promptTokens: Number(r.prompt_tokens),
      cachedPromptTokens: Number(r.cached_prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      queueWaitMs: { mean: num(r.queue_wait_mean), p50: num(r.queue_wait_p50) },
      firstTokenMs: { mean: num(r.first_token_mean), p50: num(r.first_token_p50) },
      totalMs: { mean: num(r.total_mean), p50: num(r.total_p50) },
    }));
  }
}
