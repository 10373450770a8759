import type { JobEvent } from '@gridline/contract';
import { DeltaWriter } from './delta-writer';

/** A write that completes when the test says so. */
function gatedWrites(results: boolean[] = []) {
  const written: JobEvent[][] = [];
  const gates: (() => void)[] = [];
  const write = (events: JobEvent[]) =>
    new Promise<boolean>((resolve) => {
      written.push(events);
      const ok = results.length ? (results.shift() as boolean) : true;
      gates.push(() => resolve(ok));
    });
  const release = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { written, write, release };
}

const texts = (events: JobEvent[][]) => events.map((batch) => batch.map((e) => (e.type === 'delta' ? `${e.index}:${e.text}` : e.type)).join(','));

describe('DeltaWriter', () => {
  it('carries log probabilities with their text, joined in order when pieces are coalesced', async () => {
    const w = gatedWrites();
    const d = new DeltaWriter(w.write, () => undefined, []);
    const lp = (token: string) => ({ token, logprob: -1, bytes: [...Buffer.from(token)], top: [] });
    d.push('a', undefined, [lp('a')]);
    d.push('b', undefined, [lp('b')]);
    d.push('cd', undefined, [lp('c'), lp('d')]);
    await w.release();
    d.push('e', undefined, [lp('e')]);
    const finishing = d.finish();
    await w.release();
    expect(w.written).toEqual([
      [{ type: 'delta', index: 0, text: 'a', logprobs: [lp('a')] }],
      [{ type: 'delta', index: 1, text: 'bcd', logprobs: [lp('b'), lp('c'), lp('d')] }],
    ]);
    expect(await finishing).toEqual([{ type: 'delta', index: 2, text: 'e', logprobs: [lp('e')] }]);
  });

  it('writes the first text at once and coalesces what arrives during a write, numbering deltas in order', async () => {
    const w = gatedWrites();
    const d = new DeltaWriter(w.write, () => undefined, []);
    d.push('a');
    expect(texts(w.written)).toEqual(['0:a']);
    d.push('b');
    d.push('c');
    expect(w.written).toHaveLength(1);
    await w.release();
    expect(texts(w.written)).toEqual(['0:a', '1:bc']);
    d.push('d');
    const finishing = d.finish();
    await w.release();
    expect(await finishing).toEqual([{ type: 'delta', index: 2, text: 'd' }]);
    expect(d.deltas).toBe(3);
  });

  it('stops at the first refused write, says so once, and keeps nothing for the end', async () => {
    let fenced = 0;
    const w = gatedWrites([true, false]);
    const d = new DeltaWriter(w.write, (why) => why === 'fenced' && fenced++, []);
    d.push('a');
    d.push('b');
    await w.release();
    d.push('c');
    await w.release();
    d.push('d');
    expect(fenced).toBe(1);
    expect(d.stoppedBy).toBe('fenced');
    expect(texts(w.written)).toEqual(['0:a', '1:b']);
    expect(await d.finish()).toEqual([]);
  });

  it('tries a failed write again, and stops as failed (not fenced) when Redis stays unreachable', async () => {
    let calls = 0;
    const flaky = new DeltaWriter(
      async () => {
        if (++calls === 1) throw new Error('ECONNRESET');
        return true;
      },
      () => undefined,
      [1],
    );
    flaky.push('a');
    expect(await flaky.finish()).toEqual([]);
    expect(calls).toBe(2);
    expect(flaky.stoppedBy).toBeNull();

    const stops: string[] = [];
    const down = new DeltaWriter(async () => Promise.reject(new Error('ECONNREFUSED')), (why) => stops.push(why), [1, 1]);
    down.push('a');
    down.push('b');
    expect(await down.finish()).toEqual([]);
    expect(stops).toEqual(['failed']);
  });
});
