// Seeded random inputs for tests. The stream is Philox4x32-10 (bindings/philox.ts, itself checked
// against the Random123 known-answer vectors in test/reference.test.ts) keyed by the seed.
//
// Every run draws fresh inputs: the base seed comes from the clock unless HEMACLUST_TEST_SEED is
// set, and every failure message prints it so the failing run can be repeated exactly.
import { philox4x32 } from '../../bindings/philox.js';

/** The base seed of this test run: HEMACLUST_TEST_SEED if set, else derived from Date.now(). */
export function testSeed(): number {
  const fixed = process.env.HEMACLUST_TEST_SEED;
  if (fixed !== undefined && fixed !== '') {
    const v = Number(fixed);
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`HEMACLUST_TEST_SEED must be an integer in [0, 2^32) (got '${fixed}')`);
    return v;
  }
  return Date.now() % 4294967296;
}

/** How to repeat a run with this seed (put into every failure message). */
export const reproduceHint = (seed: number, file: string, filter?: string) =>
  `seed ${seed}; reproduce with: HEMACLUST_TEST_SEED=${seed} npx vitest run ${file}${filter ? ` -t "${filter}"` : ''}`;

/** FNV-1a hash of a string, used to give each test case its own stream under one base seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class Rng {
  private counter = 0;
  private buf = new Uint32Array(4);
  private pos = 4;

  constructor(readonly seed: number, readonly stream = 0) {}

  /** An independent generator for a named sub-case under the same seed. */
  static forCase(seed: number, name: string): Rng {
    return new Rng(seed, hashString(name));
  }

  u32(): number {
    if (this.pos === 4) {
      philox4x32(this.counter++, 0, 0, 0, this.seed, this.stream, this.buf);
      this.pos = 0;
    }
    return this.buf[this.pos++];
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return (this.u32() * 2097152 + (this.u32() >>> 11)) / 9007199254740992;
  }

  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  normal(): number {
    const u1 = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * this.uniform());
  }

  normals(n: number, scale = 1, mean = 0): Float64Array {
    return Float64Array.from({ length: n }, () => mean + scale * this.normal());
  }

  uniforms(n: number, lo = 0, hi = 1): Float64Array {
    return Float64Array.from({ length: n }, () => this.range(lo, hi));
  }

  ints(n: number, bound: number): Int32Array {
    return Int32Array.from({ length: n }, () => this.int(bound));
  }

  /** Rows of positive numbers that sum to 1 (softmax of normals with the given spread). */
  simplexRows(rows: number, cols: number, spread = 1): Float64Array {
    const out = this.normals(rows * cols, spread);
    for (let i = 0; i < rows; i++) {
      const r = out.subarray(i * cols, (i + 1) * cols);
      const mx = Math.max(...r);
      let s = 0;
      for (let j = 0; j < cols; j++) s += (r[j] = Math.exp(r[j] - mx));
      for (let j = 0; j < cols; j++) r[j] /= s;
    }
    return out;
  }
}
