// Host-side seeded randomness for weight init, shuffling and k-means++ sampling, drawn from
// Philox4x32-10 (bindings/philox.ts) so a seed means the same numbers on every machine.
import { philox4x32 } from '../philox.js';

export class HostRng {
  private counter = 0;
  private buf = new Uint32Array(4);
  private pos = 4;

  /** `stream` separates independent uses of one seed (init, shuffle, k-means, …). */
  constructor(readonly seed: number, readonly stream: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32) (got ${seed})`);
  }

  nextU32(): number {
    if (this.pos === 4) {
      philox4x32(this.counter >>> 0, Math.floor(this.counter / 2 ** 32) >>> 0, 0, 0, this.seed, this.stream, this.buf);
      this.counter++;
      this.pos = 0;
    }
    return this.buf[this.pos++];
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u1 = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher–Yates permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

/** Stream ids, so each use of a seed draws independent numbers. */
export const STREAM = { init: 1, shuffle: 2, kmeans: 3, noise: 4, reparam: 5, gmm: 6, augment: 7 } as const;
