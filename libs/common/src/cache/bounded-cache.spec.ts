import { BoundedCache } from './bounded-cache';

const cache = (maxBytes = 1024 * 1024) => new BoundedCache<{ v: string }>({ maxBytes, ttlMs: 60_000, negativeTtlMs: 60_000, sizeOf: (x) => 2 * x.v.length });

describe('BoundedCache', () => {
  it('stays under its byte bound however large and many the keys', async () => {
    const c = cache(1024 * 1024);
    for (let i = 0; i < 2000; i++) await c.get(`${i}`.padEnd(15_000, 'k'), async () => null);
    expect(c.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(c.bytes).toBeGreaterThan(900 * 1024);
  });

  it('remembers a miss: the second lookup of an unknown key costs no load', async () => {
    const c = cache();
    let loads = 0;
    const load = async () => {
      loads++;
      return null;
    };
    expect([await c.get('nope', load), await c.get('nope', load)]).toEqual([null, null]);
    expect(loads).toBe(1);
  });

  it('shares one load between concurrent lookups and does not cache a failed one', async () => {
    const c = cache();
    let loads = 0;
    const slow = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 10));
      return { v: 'x' };
    };
    expect(await Promise.all([c.get('k', slow), c.get('k', slow), c.get('k', slow)])).toEqual([{ v: 'x' }, { v: 'x' }, { v: 'x' }]);
    expect(loads).toBe(1);
    await expect(c.get('bad', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await c.get('bad', async () => ({ v: 'y' }))).toEqual({ v: 'y' });
  });

  it('loads again a found value older than the age a caller asks for, and keeps serving it to callers who accept its age', async () => {
    const c = cache();
    let loads = 0;
    const load = async () => ({ v: `load ${++loads}` });
    expect(await c.get('k', load)).toEqual({ v: 'load 1' });
    await new Promise((r) => setTimeout(r, 30));
    expect(await c.get('k', load)).toEqual({ v: 'load 1' });
    expect(await c.get('k', load, 20)).toEqual({ v: 'load 2' });
    expect(await c.get('k', load, 20)).toEqual({ v: 'load 2' });
    expect(loads).toBe(2);
  });

  it('keeps a remembered absence for its own ttl whatever age the caller asks for', async () => {
    const c = cache();
    let loads = 0;
    const load = async () => {
      loads++;
      return null;
    };
    await c.get('nope', load);
    await new Promise((r) => setTimeout(r, 30));
    expect(await c.get('nope', load, 20)).toBeNull();
    expect(loads).toBe(1);
  });

  it('forgets a key: the next lookup loads it', async () => {
    const c = cache();
    let loads = 0;
    const load = async () => ({ v: `load ${++loads}` });
    await c.get('k', load);
    c.delete('k');
    expect(await c.get('k', load)).toEqual({ v: 'load 2' });
  });
});
