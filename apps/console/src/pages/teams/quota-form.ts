/** The quotas tab's form: the team's five limits as inputs (empty: no limit), and the PUT that keeps the key and model entries. */

export const LIMIT_FIELDS = [
  { key: 'maxConcurrentJobs', label: 'Concurrent jobs', use: 'concurrentJobs', unit: 'jobs' },
  { key: 'maxQueuedJobs', label: 'Queued jobs', use: 'queuedJobs', unit: 'jobs' },
  { key: 'requestsPerMinute', label: 'Requests per minute', use: 'requestsThisMinute', unit: 'requests' },
  { key: 'tokensPerMinute', label: 'Tokens per minute', use: 'tokensThisMinute', unit: 'tokens' },
  { key: 'tokensPerDay', label: 'Tokens per day', use: 'tokensToday', unit: 'tokens' },
] as const;

export type LimitKey = (typeof LIMIT_FIELDS)[number]['key'];
export type UseKey = (typeof LIMIT_FIELDS)[number]['use'];
export type Limits = Record<LimitKey, number | null>;
export type LimitsForm = Record<LimitKey, number | string>;

export interface QuotasView {
  limits: Limits | null;
  keys: { kind: 'keypair' | 'token'; id: string; limits: Limits }[];
  models: { model: string; limits: Limits }[];
}

export function formOf(limits: Limits | null): LimitsForm {
  const form = {} as LimitsForm;
  for (const f of LIMIT_FIELDS) form[f.key] = limits?.[f.key] ?? '';
  return form;
}

/** A number input's value as a limit: empty (or not a whole number ≥ 0) is "no limit". */
export function limitsOf(form: LimitsForm): Limits {
  const limits = {} as Limits;
  for (const f of LIMIT_FIELDS) {
    const v = form[f.key];
    limits[f.key] = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
  }
  return limits;
}

/** The PUT body: the new team limits (null when all are empty), the key and model entries unchanged (a PUT replaces them all). */
export function putBodyOf(current: QuotasView, form: LimitsForm): { limits: Limits | null; keys: QuotasView['keys']; models: QuotasView['models'] } {
  const limits = limitsOf(form);
  const any = LIMIT_FIELDS.some((f) => limits[f.key] !== null);
  return {
    limits: any ? limits : null,
    keys: current.keys.map((k) => ({ kind: k.kind, id: k.id, limits: k.limits })),
    models: current.models.map((m) => ({ model: m.model, limits: m.limits })),
  };
}

/** Share of a limit in use, 0..100, for a progress bar; null when there is no limit or no figure. */
export function usedPercent(used: number | null | undefined, limit: number | null | undefined): number | null {
  if (used === null || used === undefined || limit === null || limit === undefined) return null;
  if (limit === 0) return used > 0 ? 100 : 0;
  return Math.min(100, (used / limit) * 100);
}
