import { compareValues, sortRows } from './sort';

describe('sortRows', () => {
  const rows = [
    { name: 'gpu-t4', used: 10 },
    { name: 'gpu-a100', used: 2 },
    { name: 'gpu-l4', used: null },
    { name: 'gpu-h100', used: 10 },
  ];

  it('sorts numbers numerically and strings by locale, ascending or descending', () => {
    expect(sortRows(rows, 'asc', (r) => r.name).map((r) => r.name)).toEqual(['gpu-a100', 'gpu-h100', 'gpu-l4', 'gpu-t4']);
    expect(sortRows(rows, 'desc', (r) => r.name).map((r) => r.name)).toEqual(['gpu-t4', 'gpu-l4', 'gpu-h100', 'gpu-a100']);
    expect(sortRows([{ n: 9 }, { n: 10 }, { n: 1 }], 'asc', (r) => r.n).map((r) => r.n)).toEqual([1, 9, 10]);
  });

  it('puts rows without a value first ascending and last descending, and keeps ties in order', () => {
    expect(sortRows(rows, 'asc', (r) => r.used).map((r) => r.name)).toEqual(['gpu-l4', 'gpu-a100', 'gpu-t4', 'gpu-h100']);
    expect(sortRows(rows, 'desc', (r) => r.used).map((r) => r.name)).toEqual(['gpu-t4', 'gpu-h100', 'gpu-a100', 'gpu-l4']);
  });

  it('does not change the rows it is given', () => {
    const copy = [...rows];
    sortRows(rows, 'desc', (r) => r.name);
    expect(rows).toEqual(copy);
    expect(compareValues(undefined, null)).toBe(0);
  });
});
