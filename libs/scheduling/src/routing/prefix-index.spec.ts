import { PrefixIndex, promptBlockHashes, tokenBlockHashes } from './prefix-index';

const block = (c: string) => c.repeat(256);

describe('promptBlockHashes', () => {
  it('chains the blocks: a prompt sharing the first 3 of 5 blocks matches 3', () => {
    const seen = promptBlockHashes(block('a') + block('b') + block('c') + block('d') + block('e'));
    const fresh = promptBlockHashes(block('a') + block('b') + block('c') + block('x') + block('e'));
    expect(seen).toHaveLength(5);
    expect(fresh.slice(0, 3)).toEqual(seen.slice(0, 3));
    // Block 5 is the same text in both prompts, but it follows a different prefix.
    expect(fresh[4]).not.toBe(seen[4]);
    const index = new PrefixIndex();
    index.record('r1', seen);
    expect(index.matchedBlocks('r1', fresh)).toBe(3);
    expect(index.matchedBlocks('r1', seen)).toBe(5);
    expect(index.matchedBlocks('r2', seen)).toBe(0);
  });

  it('hashes UTF-8 bytes, leaves out a trailing partial block and is deterministic', () => {
    expect(promptBlockHashes('é'.repeat(128))).toHaveLength(1); // 256 bytes, 128 characters
    expect(promptBlockHashes('x'.repeat(511))).toHaveLength(1);
    expect(promptBlockHashes('')).toEqual([]);
    expect(promptBlockHashes(block('q'))).toEqual(promptBlockHashes(new TextEncoder().encode(block('q'))));
    expect(promptBlockHashes('hello world '.repeat(100))).toEqual(promptBlockHashes('hello world '.repeat(100)));
    // Bytes that do not start on a word boundary hash the same as a fresh copy.
    const shifted = new Uint8Array(1025);
    shifted.set(new TextEncoder().encode(block('s').repeat(4)), 1);
    expect(promptBlockHashes(shifted.subarray(1))).toEqual(promptBlockHashes(block('s').repeat(4)));
    expect(tokenBlockHashes([1, 2, 3, 4], 2)).toHaveLength(2);
    expect(tokenBlockHashes([1, 2, 3, 4], 2)[0]).toBe(tokenBlockHashes([1, 2, 9, 9], 2)[0]);
    expect(() => promptBlockHashes('x', 0)).toThrow(RangeError);
    expect(() => promptBlockHashes('x', 6)).toThrow(RangeError);
    expect(() => tokenBlockHashes([1], 0)).toThrow(RangeError);
  });

  it('gives distinct hashes to distinct prefixes', () => {
    const hashes = new Set<number>();
    for (let i = 0; i < 5_000; i++) for (const h of promptBlockHashes(`${i}`.padEnd(256, '.'), 256)) hashes.add(h);
    expect(hashes.size).toBe(5_000);
    for (const h of hashes) expect(Number.isSafeInteger(h)).toBe(true);
  });
});

describe('PrefixIndex', () => {
  const prompt = (i: number, blocks = 4) => promptBlockHashes(Array.from({ length: blocks }, (_, b) => `${i}:${b}`.padEnd(256, '.')).join(''));

  it('stays within its limit per replica, evicting the least recently used prompt first', () => {
    const index = new PrefixIndex({ perReplica: 40, total: 1000 });
    index.record('r', prompt(0));
    let largest = 0;
    for (let i = 1; i <= 1000; i++) {
      index.record('r', prompt(i));
      // Prompt 0 is sent again now and then: it stays, the others come and go.
      if (i % 5 === 0) index.record('r', prompt(0));
      largest = Math.max(largest, index.sizeOf('r'));
    }
    expect(largest).toBe(40);
    expect(index.matchedBlocks('r', prompt(0))).toBe(4);
    expect(index.matchedBlocks('r', prompt(1000))).toBe(4);
    expect(index.matchedBlocks('r', prompt(1))).toBe(0);
  });

  it("remembers no more per replica than the replica's cache holds, when it is given", () => {
    const index = new PrefixIndex({ perReplica: 40, total: 1000 });
    for (let i = 0; i < 10; i++) index.record('small', prompt(i), 8);
    // 8 blocks: the last two prompts of 4 blocks; the older ones have left its cache.
    expect(index.sizeOf('small')).toBe(8);
    expect(index.matchedBlocks('small', prompt(9))).toBe(4);
    expect(index.matchedBlocks('small', prompt(7))).toBe(0);
    // A capacity above the index's own limit changes nothing.
    for (let i = 0; i < 20; i++) index.record('big', prompt(i), 10_000);
    expect(index.sizeOf('big')).toBe(40);
  });

  it('stays within its overall limit, evicting across replicas by recency', () => {
    const index = new PrefixIndex({ perReplica: 100, total: 64 });
    let largest = 0;
    for (let i = 0; i < 2_000; i++) {
      index.record(`r${i % 50}`, prompt(i));
      largest = Math.max(largest, index.size);
    }
    expect(largest).toBe(64);
    // The last 16 prompts (4 blocks each) fill it; the one before is gone.
    expect(index.matchedBlocks('r49', prompt(1999))).toBe(4);
    expect(index.matchedBlocks('r34', prompt(1984))).toBe(4);
    expect(index.matchedBlocks('r33', prompt(1983))).toBe(0);
    expect([...index.replicasWithPrefix(prompt(1983))]).toEqual([]);
  });

  it('evicts a prompt from its tail, so what remains of it is still its prefix', () => {
    const index = new PrefixIndex({ perReplica: 6, total: 100 });
    index.record('r', prompt(1, 4));
    index.record('r', prompt(2, 4));
    expect(index.matchedBlocks('r', prompt(2, 4))).toBe(4);
    expect(index.matchedBlocks('r', prompt(1, 4))).toBe(2);
  });

  it('forgets a replica entirely', () => {
    const index = new PrefixIndex({ perReplica: 10, total: 100 });
    index.record('a', prompt(1));
    index.record('b', prompt(1));
    expect([...index.replicasWithPrefix(prompt(1))]).toEqual(['a', 'b']);
    index.forget('a');
    expect([...index.replicasWithPrefix(prompt(1))]).toEqual(['b']);
    expect(index.matchedBlocks('a', prompt(1))).toBe(0);
    expect(index.matchedBlocks('b', prompt(1))).toBe(4);
    expect(index.size).toBe(4);
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => new PrefixIndex({ perReplica: 0, total: 10 })).toThrow(RangeError);
    expect(() => new PrefixIndex({ perReplica: 10, total: 1.5 })).toThrow(RangeError);
  });
});
