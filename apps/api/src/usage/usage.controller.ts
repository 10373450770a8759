import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiError } from '@gridline/common';
import { TeamScope, USAGE_GROUPS, UsageGroup, UsageRepository, UsageRow } from '@gridline/db';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { ApiErrors, QUERY_ERRORS } from '../common/api-errors.decorator';
import { UsageDto, UsageQueryDto } from './dto/usage.dto';

const DAY_MS = 24 * 3600 * 1000;
/** The longest period one query may cover: the aggregation reads every job in it. */
const MAX_PERIOD_DAYS = 366;

@ApiTags('usage')
@Authenticated({ scope: 'management', roles: ['team_admin'] })
@Controller('api/v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageRepository) {}

  @Get()
  @ApiOperation({ summary: "Usage from the jobs table, grouped by team, model, key, user, UTC day and/or endpoint (the remote endpoint that served the job, or this cluster): requests by outcome, tokens (prompt, cached, completion), queue wait, time to first token, total time. Team admins: their team; superadmins: every team (or `teamId`). `format=csv` for a spreadsheet" })
  @ApiOkResponse({ type: UsageDto })
  @ApiProduces('application/json', 'text/csv')
  @ApiErrors(QUERY_ERRORS)
  async get(@CurrentPrincipal() p: Principal, @Query() q: UsageQueryDto, @Res({ passthrough: true }) res: Response): Promise<UsageDto | string> {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from.getTime() >= to.getTime()) throw new ApiError('validation_failed', '`from` must be before `to`', { param: 'from' });
    if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * DAY_MS) throw new ApiError('validation_failed', `one query covers at most ${MAX_PERIOD_DAYS} days`, { param: 'from' });
    let scope = scopeFor(p);
    if (q.teamId) {
      if (p.role !== 'superadmin' && q.teamId !== p.teamId) throw new ApiError('forbidden', "team admins see their own team's usage only", { param: 'teamId' });
      scope = TeamScope.team(q.teamId);
    }
    const groupBy = (q.groupBy ?? 'team,model,day').split(',').filter((g): g is UsageGroup => (USAGE_GROUPS as readonly string[]).includes(g));
    const items = await this.usage.aggregate({ scope, from, to, groupBy });
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="gridline-usage-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.csv"`);
      return usageCsv(items, groupBy);
    }
    return { from: from.toISOString(), to: to.toISOString(), groupBy, items };
  }
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled; a leading =, +, - or @ is prefixed so a spreadsheet never runs it. */
function field(v: string | number | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per group: the groups' columns, then the figures. */
export function usageCsv(rows: readonly UsageRow[], groupBy: readonly UsageGroup[]): string {
  const groupCols: Record<UsageGroup, { head: string[]; of: (r: UsageRow) => (string | null)[] }> = {
    team: { head: ['team_id', 'team'], of: (r) => [r.team?.id ?? null, r.team?.name ?? null] },
    model: { head: ['model'], of: (r) => [r.model] },
    key: { head: ['key_kind', 'key'], of: (r) => [r.key?.kind ?? null, r.key?.label ?? null] },
    user: { head: ['user_id', 'user_email'], of: (r) => [r.user?.id ?? null, r.user?.email ?? null] },
    day: { head: ['day'], of: (r) => [r.day] },
    // A removed endpoint has no name left: its id tells its rows apart from jobs served here.
    endpoint: { head: ['endpoint'], of: (r) => [r.endpoint === null ? 'local' : (r.endpoint.name ?? r.endpoint.id)] },
  };
  const groups = USAGE_GROUPS.filter((g) => groupBy.includes(g));
  const head = [
    ...groups.flatMap((g) => groupCols[g].head),
    'requests',
    'succeeded',
    'failed',
    'cancelled',
    'expired',
    'open',
    'prompt_tokens',
    'cached_prompt_tokens',
    'completion_tokens',
    'queue_wait_ms_mean',
    'queue_wait_ms_p50',
    'first_token_ms_mean',
    'first_token_ms_p50',
    'total_ms_mean',
    'total_ms_p50',
  ];
  const lines = rows.map((r) =>
    [
      ...groups.flatMap((g) => groupCols[g].of(r)),
      r.requests,
      r.outcomes.succeeded,
      r.outcomes.failed,
      r.outcomes.cancelled,
      r.outcomes.expired,
      r.outcomes.open,
      r.promptTokens,
      r.cachedPromptTokens,
      r.completionTokens,
      r.queueWaitMs.mean,
      r.queueWaitMs.p50,
      r.firstTokenMs.mean,
      r.firstTokenMs.p50,
      r.totalMs.mean,
      r.totalMs.p50,
    ]
      .map(field)
      .join(','),
  );
  return `${[head.join(','), ...lines].join('\r\n')}\r\n`;
}
