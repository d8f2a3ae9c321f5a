/**
 * The runs of a parameter sweep: the cartesian product of the grid, keys in sorted order and each
 * key's values in the given order (the last key varies fastest), so the run order never depends
 * on how the grid object was built.
 */
export function* combinations(grid: Record<string, readonly unknown[]>): Generator<Record<string, unknown>> {
  const keys = Object.keys(grid).sort();
  const idx = new Array<number>(keys.length).fill(0);
  const total = keys.reduce((n, k) => n * grid[k]!.length, 1);
  for (let n = 0; n < total; n++) {
    const combo: Record<string, unknown> = {};
    keys.forEach((k, i) => (combo[k] = grid[k]![idx[i]!]));
    yield combo;
    for (let i = keys.length - 1; i >= 0; i--) {
      if (++idx[i]! < grid[keys[i]!]!.length) break;
      idx[i] = 0;
    }
  }
}
