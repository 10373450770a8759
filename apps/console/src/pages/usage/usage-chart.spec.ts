import { daysBetween, grandTotal, tokensPerDay, totalsBy, type UsageItem } from './usage-chart';

const row = (team: string, model: string, day: string, prompt: number, completion: number, requests = 1): UsageItem => ({ team: { id: team, name: team }, model, day, requests, promptTokens: prompt, completionTokens: completion });

const items = [row('red', 'tiny', '2026-12-01', 10, 5), row('red', 'big', '2026-12-01', 100, 50, 2), row('blue', 'tiny', '2026-12-03', 7, 3)];

describe('daysBetween', () => {
  it('lists every UTC day, both ends included, across a month end', () => {
    expect(daysBetween('2026-11-29', '2026-12-02')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
  });
});

describe('tokensPerDay', () => {
  it('sums prompt and completion tokens per day and series, with zeros on idle days, largest series first', () => {
    const byTeam = tokensPerDay(items, 'team', daysBetween('2026-12-01', '2026-12-03'));
    expect(byTeam.series).toEqual(['red', 'blue']);
    expect(byTeam.data).toEqual([
      { day: '2026-12-01', red: 165, blue: 0 },
      { day: '2026-12-02', red: 0, blue: 0 },
      { day: '2026-12-03', red: 0, blue: 10 },
    ]);
    const byModel = tokensPerDay(items, 'model', ['2026-12-01']);
    expect(byModel.data).toEqual([{ day: '2026-12-01', big: 150, tiny: 15 }]);
  });
});

describe('totalsBy / grandTotal', () => {
  it('adds up per team or model, and overall', () => {
    expect(totalsBy(items, 'model')).toEqual([
      { name: 'big', prompt: 100, completion: 50, requests: 2 },
      { name: 'tiny', prompt: 17, completion: 8, requests: 2 },
    ]);
    expect(grandTotal(items)).toEqual({ requests: 4, promptTokens: 117, completionTokens: 58 });
  });
});
