// Contingency tables between two integer labelings (true classes × predicted clusters).

export type Labels = ArrayLike<number>;

export interface Contingency {
  /** Sorted distinct values of the first labeling (rows) and the second (columns). */
  rowValues: number[];
  colValues: number[];
  /** table[r][c] = #{i : a_i = rowValues[r] and b_i = colValues[c]}. */
  table: number[][];
  n: number;
}

export function checkLabels(name: string, a: Labels, b: Labels): void {
  if (a.length !== b.length) throw new RangeError(`${name}: label arrays differ in length (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new RangeError(`${name}: empty label arrays`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isInteger(a[i]) || !Number.isInteger(b[i])) throw new RangeError(`${name}: labels must be integers (index ${i})`);
  }
}

export function contingency(a: Labels, b: Labels): Contingency {
  checkLabels('contingency', a, b);
  const rowValues = [...new Set(Array.from(a))].sort((x, y) => x - y);
  const colValues = [...new Set(Array.from(b))].sort((x, y) => x - y);
  const ri = new Map(rowValues.map((v, i) => [v, i]));
  const ci = new Map(colValues.map((v, i) => [v, i]));
  const table = rowValues.map(() => new Array<number>(colValues.length).fill(0));
  for (let i = 0; i < a.length; i++) table[ri.get(a[i])!][ci.get(b[i])!]++;
  return { rowValues, colValues, table, n: a.length };
}
