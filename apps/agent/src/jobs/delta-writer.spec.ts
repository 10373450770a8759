import type { JobEvent } from '@gridline/contract';
import { DeltaWriter } from './delta-writer';

describe('DeltaWriter', () => {
  it('coalesces text into numbered deltas, in order', async () => {
    const written: JobEvent[] = [];
    const w = new DeltaWriter(async (e) => (written.push(...e), true), () => undefined, 5);
    w.push('a');
    w.push('b');
    await new Promise((r) => setTimeout(r, 20));
    w.push('c');
    expect(await w.drain()).toBe(true);
    expect(written).toEqual([
      { type: 'delta', index: 0, text: 'ab' },
      { type: 'delta', index: 1, text: 'c' },
    ]);
    expect(w.deltas).toBe(2);
  });

  it('stops at the first refused write and says so once', async () => {
    let fenced = 0;
    const written: JobEvent[] = [];
    const w = new DeltaWriter(async (e) => (written.push(...e), written.length < 2), () => fenced++, 1);
    for (const t of ['a', 'b', 'c']) {
      w.push(t);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await w.drain()).toBe(false);
    expect(fenced).toBe(1);
    expect(written.map((e) => (e as { text: string }).text)).toEqual(['a', 'b']);
  });
});
