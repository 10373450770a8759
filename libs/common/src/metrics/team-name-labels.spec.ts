import { TeamNameLabels, UNKNOWN_TEAM } from './team-name-labels';

describe('TeamNameLabels', () => {
  let now: number;
  let teams: Map<string, string>;
  let loads: number;
  let waited: number[];
  let labels: TeamNameLabels;

  beforeEach(() => {
    now = 1_000_000;
    teams = new Map([['t1', 'red']]);
    loads = 0;
    waited = [];
    labels = new TeamNameLabels({
      load: async () => {
        loads += 1;
        return new Map(teams);
      },
      minReloadMs: 5000,
      refreshMs: 60_000,
      now: () => now,
      // The rate limit's wait passes at once on this clock.
      wait: async (ms) => {
        waited.push(ms);
        now += ms;
      },
    });
  });

  it('loads every name once and answers known teams from it', async () => {
    expect(await Promise.all([labels.of('t1'), labels.of('t1')])).toEqual(['red', 'red']);
    now += 1000;
    expect(await labels.of('t1')).toBe('red');
    expect(loads).toBe(1);
  });

  it('a team created after the last load gets its name (a reload, rate-limited), not "unknown"', async () => {
    expect(await labels.of('t1')).toBe('red');
    teams.set('t2', 'blue');
    now += 1000;
    expect(await Promise.all([labels.of('t2'), labels.of('t2')])).toEqual(['blue', 'blue']);
    expect(loads).toBe(2);
    // The second load waited out the rest of the 5 s since the first.
    expect(waited).toEqual([4000]);
  });

  it('an id that names no team is "unknown"', async () => {
    expect(await labels.of('nope')).toBe(UNKNOWN_TEAM);
  });

  it('reloads names older than refreshMs, so a renamed team is labelled by its new name', async () => {
    expect(await labels.of('t1')).toBe('red');
    teams.set('t1', 'crimson');
    now += 30_000;
    expect(await labels.of('t1')).toBe('red');
    expect(loads).toBe(1);
    now += 30_000;
    // The stale answer is given at once; the reload lands for the next call.
    await labels.of('t1');
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(await labels.of('t1')).toBe('crimson');
    expect(loads).toBe(2);
  });

  it('keeps the names it had when a load fails', async () => {
    let fail = false;
    const flaky = new TeamNameLabels({
      load: async () => {
        if (fail) throw new Error('db down');
        return new Map([['t1', 'red']]);
      },
      now: () => now,
      wait: async () => undefined,
    });
    expect(await flaky.of('t1')).toBe('red');
    fail = true;
    expect(await flaky.of('t2')).toBe(UNKNOWN_TEAM);
    expect(await flaky.of('t1')).toBe('red');
  });
});
