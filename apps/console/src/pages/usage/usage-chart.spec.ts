import { daysBetween, grandTotal, tokensPerDay, totalsBy, type UsageItem } from './usage-chart';

const row = (team: string, model: string, day: string, prompt: number, completion: number, requests = 1): UsageItem => ({ team: { id: team, name: team }, model, day, requests, promptTokens: prompt, completionTokens: completion });

const items = [row('red', 'tiny', '2026-12-01', 10, 5), row('red', 'big', '2026-12-01', 100, 50, 2), row('blue', 'tiny', '2026-12-03', 7, 3), row('blue', 'llama-3.1-8b', '2026-12-03', 0, 0)];

describe('daysBetween', () => {
  it('lists every UTC day, both ends included, across a month end', () => {
    expect(daysBetween('2026-11-29', '2026-12-02')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
  });
});

describe('tokensPerDay', () => {
  it('sums prompt and completion tokens per day and series, with zeros on idle days, largest series first', () => {
    const byTeam = tokensPerDay(items, 'team', daysBetween('2026-12-01', '2026-12-03'));
    expect(byTeam.series).toEqual([
      { key: 's0', name: 'red' },
      { key: 's1', name: 'blue' },
    ]);
    expect(byTeam.data).toEqual([
      { day: '2026-12-01', s0: 165, s1: 0 },
      { day: '2026-12-02', s0: 0, s1: 0 },
      { day: '2026-12-03', s0: 0, s1: 10 },
    ]);
  });

  it('keys series apart from their names (a dotted model name is not a path) and leaves out those without tokens', () => {
    const byModel = tokensPerDay(items, 'model', ['2026-12-01']);
    expect(byModel.series.map((s) => s.name)).toEqual(['big', 'tiny']);
    expect(byModel.data).toEqual([{ day: '2026-12-01', s0: 150, s1: 15 }]);
  });
});

describe('totalsBy / grandTotal', () => {
  it('adds up per team or model, and overall', () => {
    expect(totalsBy(items, 'model')).toEqual([
      { name: 'big', prompt: 100, completion: 50, requests: 2 },
      { name: 'tiny', prompt: 17, completion: 8, requests: 2 },
      { name: 'llama-3.1-8b', prompt: 0, completion: 0, requests: 1 },
    ]);
    expect(grandTotal(items)).toEqual({ requests: 5, promptTokens: 117, completionTokens: 58 });
  });
});
