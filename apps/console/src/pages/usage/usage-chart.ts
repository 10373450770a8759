/** Shapes /api/v1/usage rows (grouped by team, model and day) into chart series and totals. */

export interface UsageItem {
  team: { id: string; name: string } | null;
  model: string | null;
  day: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

export type SplitBy = 'team' | 'model';

export interface DaySeries {
  /** One row per UTC day of the range, oldest first: `day` and one number per series key. */
  data: Record<string, string | number>[];
  /**
   * Series, largest total first, without those that used no tokens. Keys are `s0`, `s1`…: a chart
   * library reads a dotted key (a model called `llama-3.1-8b`) as a path into the row.
   */
  series: { key: string; name: string }[];
}

const DAY_MS = 24 * 3600 * 1000;

/** Every UTC day from `from` to `to` (both included), as YYYY-MM-DD. */
export function daysBetween(from: string, to: string): string[] {
  const start = Date.UTC(Number(from.slice(0, 4)), Number(from.slice(5, 7)) - 1, Number(from.slice(8, 10)));
  const end = Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5, 7)) - 1, Number(to.slice(8, 10)));
  const days: string[] = [];
  for (let t = start; t <= end && days.length < 400; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export function seriesName(item: UsageItem, by: SplitBy): string {
  return by === 'team' ? (item.team?.name ?? 'no team') : (item.model ?? 'no model');
}

/** Tokens (prompt + completion) per day, one series per team or model; days without use are zeros. */
export function tokensPerDay(items: readonly UsageItem[], by: SplitBy, days: readonly string[]): DaySeries {
  const totals = new Map<string, number>();
  const cells = new Map<string, Map<string, number>>();
  for (const item of items) {
    if (!item.day) continue;
    const name = seriesName(item, by);
    const tokens = item.promptTokens + item.completionTokens;
    totals.set(name, (totals.get(name) ?? 0) + tokens);
    const row = cells.get(item.day) ?? new Map<string, number>();
    row.set(name, (row.get(name) ?? 0) + tokens);
    cells.set(item.day, row);
  }
  const series = [...totals.entries()]
    .filter(([, total]) => total > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name], i) => ({ key: `s${i}`, name }));
  const data = days.map((day) => {
    const row: Record<string, string | number> = { day };
    for (const { key, name } of series) row[key] = cells.get(day)?.get(name) ?? 0;
    return row;
  });
  return { data, series };
}

/** Totals per team or model, largest first: for the bar chart beside the daily one. */
export function totalsBy(items: readonly UsageItem[], by: SplitBy): { name: string; prompt: number; completion: number; requests: number }[] {
  const m = new Map<string, { name: string; prompt: number; completion: number; requests: number }>();
  for (const item of items) {
    const name = seriesName(item, by);
    const t = m.get(name) ?? { name, prompt: 0, completion: 0, requests: 0 };
    t.prompt += item.promptTokens;
    t.completion += item.completionTokens;
    t.requests += item.requests;
    m.set(name, t);
  }
  return [...m.values()].sort((a, b) => b.prompt + b.completion - (a.prompt + a.completion) || a.name.localeCompare(b.name));
}

export function grandTotal(items: readonly UsageItem[]): { requests: number; promptTokens: number; completionTokens: number } {
  return items.reduce((t, i) => ({ requests: t.requests + i.requests, promptTokens: t.promptTokens + i.promptTokens, completionTokens: t.completionTokens + i.completionTokens }), { requests: 0, promptTokens: 0, completionTokens: 0 });
}
