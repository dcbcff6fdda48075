// Pulse summaries of an analyzer event, for stage 2's final decision (red-levels.ts).
//
// The VaDE embedding is trained to reconstruct the whole pulse, and a diagonal Gaussian over it
// mixes "a large red cell carrying RNA" with "two red cells in a row". The quantities that tell
// the red classes apart are plain pulse shape: the RNA-stain fluorescence height (reticulocytes),
// the impedance height (Coulter volume) and the pulse widths (aggregates are wider and multi-peak).
// They are computed from the signals in asinh units (preprocess.ts), never from labels, and
// z-scored on the training red-cell events:
//
//   waveform  per channel (FSC, SSC, FL, IMP): asinh of the peak height, and the width (area above
//             the baseline over the peak, in time samples; the peak is floored at one asinh unit
//             so a flat, noise-only channel does not divide by ~0);
//   scalar    the exported per-event parameters, asinh-compressed, in the same two kinds: the
//             height, and shape — an exported width as it is, an area as asinh(A) − asinh(H)
//             (≈ log(A/H), the width the waveform summary computes). Height and area of one
//             channel move together with a cell's size; the diagonal Gaussians of the levels
//             need the shape apart from the size, as the waveform summaries give it.
//
// Each summary column has a role (layout.ts), and the levels pick their columns by role.
import { ColumnMoments } from '../models/normalize.js';
import { groupStarts, type ChannelLayout, type Role } from './layout.js';

export interface PulseScaler {
  mean: Float32Array;
  std: Float32Array;
}

/** The role of each summary column (empty for a plain matrix: no summaries). */
export function summaryRoles(L: ChannelLayout): Role[] {
  if (L.kind === 'waveform') return L.groups.flatMap((g) => [g.role, g.role]);
  if (L.kind === 'scalar') return L.groups.flatMap((g) => g.columns.map(() => g.role));
  return [];
}

/**
 * Summaries of the listed rows of u (rows × W, asinh units, pipeline column order): [rows.length × P].
 * For waveforms whose channels have equal lengths, classify uses the backend op pulseSummaries
 * (backend.ts, the same formulas in f32 with scale 1: test/op-pulse-summaries.test.ts compares them).
 */
export function pulseSummaries(L: ChannelLayout, u: Float32Array, W: number, rows: ArrayLike<number>): Float64Array {
  const P = summaryRoles(L).length;
  const out = new Float64Array(rows.length * P);
  if (L.kind === 'scalar') {
    // Per column: its parameter, and the column of its channel's height (layout.ts puts H first).
    const params = L.groups.flatMap((g) => g.params ?? []);
    const heightOf = groupStarts(L).flatMap((start, gi) => L.groups[gi].columns.map(() => start));
    for (let i = 0; i < rows.length; i++) {
      const o = rows[i] * W;
      for (let c = 0; c < P; c++) {
        const v = Math.asinh(u[o + c]);
        out[i * P + c] = params[c] === 'A' ? v - Math.asinh(u[o + heightOf[c]]) : v;
      }
    }
    return out;
  }
  if (L.kind !== 'waveform') return out;
  const starts = groupStarts(L);
  const C = L.groups.length;
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i] * W;
    for (let ch = 0; ch < C; ch++) {
      const T = L.groups[ch].columns.length;
      let peak = -Infinity;
      let area = 0;
      for (let t = 0; t < T; t++) {
        const v = u[base + starts[ch] + t];
        if (v > peak) peak = v;
        if (v > 0) area += v;
      }
      out[i * P + 2 * ch] = Math.asinh(peak);
      out[i * P + 2 * ch + 1] = area / Math.max(peak, 1);
    }
  }
  return out;
}

export function fitPulseScaler(f: Float64Array, n: number, P: number): PulseScaler {
  const { mean, std } = new ColumnMoments(P).add(f, n).result();
  return { mean: Float32Array.from(mean), std: Float32Array.from(std) };
}

/** Concatenates each row's embedding (d values) with its scaled pulse summaries: [n × (d + P)]. */
export function withPulse(z: ArrayLike<number>, d: number, f: ArrayLike<number>, P: number, sc: PulseScaler, n: number): Float64Array {
  const D = d + P;
  const out = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) out[i * D + t] = z[i * d + t];
    for (let p = 0; p < P; p++) out[i * D + d + p] = (f[i * P + p] - sc.mean[p]) / sc.std[p];
  }
  return out;
}
