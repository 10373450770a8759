/** A value a table column sorts by: numbers numerically, strings by locale; null (no value yet) before everything. */
export type SortValue = string | number | null | undefined;

/**
 * The rows of a table sorted by one column, ascending or descending (mantine-datatable's sort status); `value` reads the
 * column's value from a row. Ties keep their order.
 */
export function sortRows<T>(rows: readonly T[], direction: 'asc' | 'desc', value: (row: T) => SortValue): T[] {
  const sign = direction === 'asc' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, v: value(row) }))
    .sort((a, b) => sign * compareValues(a.v, b.v) || a.index - b.index)
    .map((x) => x.row);
}

export function compareValues(x: SortValue, y: SortValue): number {
  if (x === null || x === undefined) return y === null || y === undefined ? 0 : -1;
  if (y === null || y === undefined) return 1;
  return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
}
