// Kuhn–Munkres (Hungarian) algorithm for the rectangular assignment problem, O(n²·m).
// Kuhn, "The Hungarian method for the assignment problem", Naval Res. Logistics Q. 2 (1955);
// Munkres, J. SIAM 5 (1957). This is the shortest-augmenting-path form with row/column
// potentials u, v (Jonker–Volgenant style): for each new row we grow a Dijkstra-like tree over
// columns using reduced costs c[i][j] − u[i] − v[j] ≥ 0, then augment along the found path.
// Written from the textbook description; no code copied.

/**
 * Minimum-cost assignment. `cost` is n rows × m columns with n ≤ m (pad or transpose otherwise).
 * Returns `rowToCol[i]` (the column given to row i) and the total cost.
 */
export function hungarianMin(cost: readonly (readonly number[])[]): { rowToCol: number[]; total: number } {
  const n = cost.length;
  if (n === 0) return { rowToCol: [], total: 0 };
  const m = cost[0].length;
  if (n > m) throw new RangeError(`hungarianMin: needs rows ≤ columns (got ${n}×${m}); transpose the matrix`);
  for (const row of cost) {
    if (row.length !== m) throw new RangeError('hungarianMin: cost rows have different lengths');
    for (const c of row) if (!Number.isFinite(c)) throw new RangeError('hungarianMin: costs must be finite');
  }
  // 1-based arrays; column 0 is a virtual column that holds the row being inserted.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const colRow = new Int32Array(m + 1); // colRow[j] = row matched to column j (0 = none)
  const way = new Int32Array(m + 1); // previous column on the augmenting path
  for (let i = 1; i <= n; i++) {
    colRow[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = colRow[j0];
      let delta = Infinity;
      let j1 = -1;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const reduced = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (reduced < minv[j]) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      // Shift potentials so the tree's reduced costs stay ≥ 0 and one more column becomes tight.
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[colRow[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (colRow[j0] !== 0);
    // Augment: flip the matching along the path back to the virtual column.
    do {
      const j1 = way[j0];
      colRow[j0] = colRow[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (colRow[j] !== 0) rowToCol[colRow[j] - 1] = j - 1;
  let total = 0;
  for (let i = 0; i < n; i++) total += cost[i][rowToCol[i]];
  return { rowToCol, total };
}

/** Maximum-weight assignment on any rectangular matrix: returns rowToCol (−1 for unmatched rows). */
export function hungarianMax(weight: readonly (readonly number[])[]): { rowToCol: number[]; total: number } {
  const n = weight.length;
  if (n === 0) return { rowToCol: [], total: 0 };
  const m = weight[0].length;
  let max = -Infinity;
  for (const row of weight) for (const w of row) max = Math.max(max, w);
  if (n <= m) {
    const { rowToCol } = hungarianMin(weight.map((row) => row.map((w) => max - w)));
    return { rowToCol, total: rowToCol.reduce((s, j, i) => s + weight[i][j], 0) };
  }
  // More rows than columns: solve the transpose, then invert the matching.
  const t = Array.from({ length: m }, (_, j) => Array.from({ length: n }, (_, i) => max - weight[i][j]));
  const { rowToCol: colToRow } = hungarianMin(t);
  const rowToCol = new Array<number>(n).fill(-1);
  colToRow.forEach((i, j) => (rowToCol[i] = j));
  return { rowToCol, total: colToRow.reduce((s, i, j) => s + weight[i][j], 0) };
}
