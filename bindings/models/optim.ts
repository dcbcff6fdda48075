// Optimisers over a list of parameters, with their state tensors on the backend.
import { SGD_DEFAULTS, type ComputeBackend, type Tensor } from '../backend.js';
import type { Param } from './mlp.js';

export class Adam {
  private m: Tensor[];
  private v: Tensor[];
  private t = 0;

  constructor(private be: ComputeBackend, readonly params: Param[], private opts: { beta1?: number; beta2?: number; eps?: number } = {}) {
    this.m = params.map((p) => be.create(p.value.shape));
    this.v = params.map((p) => be.create(p.value.shape));
  }

  /** One Adam step (Kingma & Ba 2015) with bias correction; `lrOf` may give a parameter its own rate. */
  step(lr: number, lrOf?: (p: Param) => number): void {
    this.t++;
    this.params.forEach((p, i) => {
      this.be.adamUpdate(p.value, p.grad, this.m[i], this.v[i], { lr: lrOf ? lrOf(p) : lr, step: this.t, ...this.opts });
    });
  }

  /** The moments and step count on the host — with the parameters, everything a rollback needs
   *  to resume exactly where it saved (VaDE's collapse recovery). */
  async exportState(): Promise<AdamState> {
    const copy = async (t: Tensor) => Float32Array.from((await this.be.download(t)) as Float32Array);
    return { t: this.t, m: await Promise.all(this.m.map(copy)), v: await Promise.all(this.v.map(copy)) };
  }

  importState(s: AdamState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) throw new RangeError(`Adam: state for ${s.m.length} parameters, optimiser has ${this.m.length}`);
    this.m.forEach((t, i) => this.be.upload(t, s.m[i]));
    this.v.forEach((t, i) => this.be.upload(t, s.v[i]));
    this.t = s.t;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) this.be.dispose(t);
  }
}

export interface AdamState {
  t: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Sgd {
  private vel: Tensor[];

  constructor(private be: ComputeBackend, readonly params: Param[], private momentum: number = SGD_DEFAULTS.momentum) {
    this.vel = params.map((p) => be.create(p.value.shape));
  }

  step(lr: number): void {
    this.params.forEach((p, i) => this.be.sgdUpdate(p.value, p.grad, this.vel[i], { lr, momentum: this.momentum }));
  }

  dispose(): void {
    for (const t of this.vel) this.be.dispose(t);
  }
}

/** Sums scalar loss tensors on the device (axpby) and reads the means once per epoch. */
export class LossMeter {
  private acc = new Map<string, Tensor>();
  private counts = new Map<string, number>();

  constructor(private be: ComputeBackend) {}

  add(term: string, loss: Tensor, weight = 1): void {
    let a = this.acc.get(term);
    if (!a) {
      a = this.be.create([1]);
      this.acc.set(term, a);
    }
    this.be.axpby(loss, a, weight, 1);
    this.counts.set(term, (this.counts.get(term) ?? 0) + 1);
  }

  /** Means since the last read; resets. */
  async read(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [term, a] of this.acc) {
      out[term] = (await this.be.download(a))[0] / Math.max(1, this.counts.get(term) ?? 1);
      this.be.fill(a, 0);
      this.counts.set(term, 0);
    }
    return out;
  }

  dispose(): void {
    for (const t of this.acc.values()) this.be.dispose(t);
  }
}
