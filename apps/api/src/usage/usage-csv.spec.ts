import type { UsageRow } from '@gridline/db';
import { usageCsv } from './usage.controller';

const row = (over: Partial<UsageRow>): UsageRow => ({
  team: null,
  model: null,
  key: null,
  user: null,
  day: null,
  endpoint: null,
  requests: 1,
  outcomes: { succeeded: 1, failed: 0, cancelled: 0, expired: 0, open: 0 },
  promptTokens: 10,
  cachedPromptTokens: 0,
  completionTokens: 5,
  queueWaitMs: { mean: 1.5, p50: 1.5 },
  firstTokenMs: { mean: null, p50: null },
  totalMs: { mean: 20, p50: 20 },
  ...over,
});

describe('usage CSV', () => {
  it('quotes what needs quoting, leaves unknown figures empty, and never lets a spreadsheet run a cell', () => {
    const csv = usageCsv([row({ team: { id: 't1', name: 'ops, "night"' }, model: '=cmd()' })], ['team', 'model']);
    const [head, line] = csv.split('\r\n');
    expect(head.split(',').slice(0, 4)).toEqual(['team_id', 'team', 'model', 'requests']);
    expect(line).toBe(`t1,"ops, ""night""",'=cmd(),1,1,0,0,0,0,10,0,5,1.5,1.5,,,20,20`);
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it("names the endpoint that served the jobs, 'local' for this cluster, and a removed endpoint by its id", () => {
    const csv = usageCsv([row({ model: 'm' }), row({ model: 'm', endpoint: { id: 'e1', name: 'east' } }), row({ model: 'm', endpoint: { id: 'e2', name: null } })], ['model', 'endpoint']);
    expect(csv.split('\r\n').map((l) => l.split(',').slice(0, 2))).toEqual([['model', 'endpoint'], ['m', 'local'], ['m', 'east'], ['m', 'e2'], ['']]);
  });
});
