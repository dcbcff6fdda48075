// Input checks shared by training and classification.
import type { SampleInput } from './types.js';

/** Throws a message naming the sample for an empty sample, a shape that does not add up or a
 *  non-finite value (the columns are checked against the model's layout by name: layout.ts). */
export function validateSample(s: SampleInput): void {
  const id = s?.id ?? '<sample>';
  if (!s || !(s.data instanceof Float32Array)) throw new TypeError(`sample '${id}': data must be a Float32Array`);
  if (!Number.isInteger(s.rows) || s.rows < 1) throw new RangeError(`sample '${id}' is empty (${s.rows} events)`);
  if (!Number.isInteger(s.cols) || s.cols < 1) throw new RangeError(`sample '${id}' has no columns`);
  if (s.columns && s.columns.length !== s.cols) throw new RangeError(`sample '${id}': ${s.columns.length} column names for ${s.cols} columns`);
  if (s.data.length !== s.rows * s.cols) throw new RangeError(`sample '${id}': ${s.data.length} values do not form ${s.rows} × ${s.cols}`);
  if (allFinite(s.data)) return;
  for (let i = 0; i < s.data.length; i++) {
    if (!Number.isFinite(s.data[i])) {
      throw new RangeError(`sample '${id}': value at event ${Math.floor(i / s.cols)}, feature ${i % s.cols} is ${s.data[i]} (not finite)`);
    }
  }
}

/**
 * Whether every value is finite, by integer ops on the f32 bit patterns (no float compare and
 * branch per value: validateSample's scan of every sample). An f32 is NaN or ±∞ iff its 8 exponent
 * bits are all ones; adding 1 to the isolated exponent field then carries into bit 31, and only then.
 */
function allFinite(data: Float32Array): boolean {
  const bits = new Int32Array(data.buffer, data.byteOffset, data.length);
  let carry = 0;
  for (let i = 0; i < bits.length; i++) carry |= ((bits[i] & 0x7f800000) + 0x00800000) | 0;
  return carry >= 0;
}
