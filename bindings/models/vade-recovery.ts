// VaDE's mixture-collapse guard and its recovery: roll back to the last healthy epoch and go on
// with a smaller step.
//
// What collapse is: a few components take the responsibilities of all the others. It is silent —
// no loss goes NaN, the ELBO even improves — so it is checked explicitly each epoch, by the
// effective number of components in use (exp of the entropy of the epoch's responsibility mass)
// against its value at the GMM initialisation.
//
// Why rollback + a smaller step (and not, say, re-initialising the GMM):
// - The cause seen here: from a tightly clustered start (e.g. IDEC's embedding) fresh Adam steps at
//   the default lr move the encoder faster than the narrow components can follow; rows leave their
//   component and the widest one wins them all, while the same start at a smaller lr stays healthy.
//   The state one epoch before the collapse is still a good mixture, so nothing is lost but the
//   step: restoring that state and shrinking the step is the direct remedy.
// - Public VaDE code shows the same failure ("every point in one cluster") and the fixes reported
//   for it are all about the start and the step (pretraining, weight initialisation, a decaying
//   learning rate). A step backoff on a detected failure is the automatic form of "train with a
//   lower learning rate", the advice the old error gave.
// - The Adam moments are restored with the parameters: they belong to the healthy trajectory, and
//   Adam's step is lr · m̂/√v̂, so scaling lr scales the step by exactly that factor. Zeroed moments
//   would instead restart with bias-corrected, full-size steps — the very thing that collapsed it.
// - Snapshots are taken only at clearly healthy epochs (effective components ≥ 90% of the initial
//   value, or ≥ ratio if that is higher): a slide that has begun but not yet crossed the failure
//   line is not what a rollback should return to.
// - The failure line sits between the two behaviours seen: a step-size collapse falls far below it
//   within an epoch or two, while a healthy run at a small step settles somewhat below its initial
//   value and must not be taken for one (bench/NOTES.md §26 has the measurements).
// The number of retries is bounded; when they are spent the collapse is reported as an error.
import type { ComputeBackend } from '../backend.js';
import type { Param } from './mlp.js';
import type { Adam, AdamState } from './optim.js';
import { VADE_DEFAULTS } from './vade-config.js';

export interface CollapseOptions {
  /** Collapse when effective components < ratio × their value at the GMM initialisation (0: off). */
  ratio: number;
  /** Rollbacks allowed before the collapse is an error (0: error at the first collapse). */
  retries: number;
  /** Factor on both learning rates at each rollback (0 < f < 1). */
  lrFactor: number;
}

/** The options with their defaults (specs.ts VADE_SPEC), checked (a model calls this before any training work). */
export function collapseOptions(o: { collapseRatio?: number; collapseRetries?: number; collapseLrFactor?: number }): CollapseOptions {
  const d = VADE_DEFAULTS;
  const r = { ratio: o.collapseRatio ?? d.collapseRatio, retries: o.collapseRetries ?? d.collapseRetries, lrFactor: o.collapseLrFactor ?? d.collapseLrFactor };
  if (!(r.ratio >= 0 && r.ratio < 1)) throw new RangeError(`collapseRatio must be in [0, 1) (got ${r.ratio})`);
  if (!(Number.isInteger(r.retries) && r.retries >= 0)) throw new RangeError(`collapseRetries must be a whole number ≥ 0 (got ${r.retries})`);
  if (!(r.lrFactor > 0 && r.lrFactor < 1)) throw new RangeError(`collapseLrFactor must be in (0, 1) (got ${r.lrFactor})`);
  return r;
}

/** Snapshot only at or above this share of the initial effective components (see the header). */
const HEALTHY = 0.95;

interface Snapshot {
  epoch: number;
  components: number;
  values: Float32Array[];
  adam: AdamState;
}

export interface Recovery {
  /** Training resumes after this epoch (its state is the one restored). */
  rollbackTo: number;
  /** The scale on the configured learning rates from now on. */
  lrScale: number;
  attempt: number;
  message: string;
}

export class CollapseGuard {
  lrScale = 1;
  attempts = 0;
  private snap: Snapshot | null = null;

  constructor(private be: ComputeBackend, private params: Param[], private opt: Adam, readonly initial: number,
    readonly o: CollapseOptions) {}

  private get active(): boolean {
    return this.o.ratio > 0;
  }

  /** Keeps the state after `epoch` (0: the GMM initialisation) if it is clearly healthy. */
  async save(epoch: number, components: number): Promise<void> {
    if (!this.active || this.o.retries === 0) return;
    if (epoch > 0 && !(components >= Math.max(HEALTHY, this.o.ratio) * this.initial)) return;
    const dl = async (p: Param) => Float32Array.from((await this.be.download(p.value)) as Float32Array);
    this.snap = { epoch, components, values: await Promise.all(this.params.map(dl)), adam: await this.opt.exportState() };
  }

  /**
   * After an epoch: null when the mixture is healthy; on a collapse, restores the last healthy
   * snapshot, shrinks the step and says what it did; throws when no retry is left.
   */
  check(epoch: number, mass: Float64Array, components: number, lr: number): Recovery | null {
    if (!this.active || !(components < this.o.ratio * this.initial)) return null;
    const what = describe(mass, components, this.initial);
    if (this.attempts >= this.o.retries || !this.snap) {
      const tried = this.attempts > 0
        ? ` Recovery failed: rolled back ${this.attempts} time${this.attempts > 1 ? 's' : ''}, the learning rate down to ${fmt(lr)}.`
        : '';
      throw new Error(`VaDE: the mixture collapsed at epoch ${epoch}: ${what}.${tried} Train with a lower learning rate than ${fmt(lr)} ` +
        '(e.g. a quarter of it), or pass collapseRatio: 0 to keep training anyway.');
    }
    const s = this.snap;
    this.params.forEach((p, i) => this.be.upload(p.value, s.values[i]));
    this.opt.importState(s.adam);
    this.attempts++;
    this.lrScale *= this.o.lrFactor;
    const newLr = lr * this.o.lrFactor;
    return {
      rollbackTo: s.epoch, lrScale: this.lrScale, attempt: this.attempts,
      message: `VaDE: the mixture collapsed at epoch ${epoch}: ${what}; rolled back to ` +
        `${s.epoch === 0 ? 'the GMM initialisation' : `epoch ${s.epoch}`} (networks, mixture and Adam state; effective components ` +
        `${s.components.toFixed(2)}) and continuing at ${this.lrScale} × the learning rate (${fmt(newLr)}), retry ${this.attempts} of ${this.o.retries}`,
    };
  }
}

function describe(mass: Float64Array, components: number, initial: number): string {
  const total = mass.reduce((a, b) => a + b, 0);
  let top = 0;
  for (let j = 1; j < mass.length; j++) if (mass[j] > mass[top]) top = j;
  return `component ${top} holds ${(100 * mass[top] / total).toFixed(1)}% of the responsibilities (effective components ` +
    `${components.toFixed(2)} of ${mass.length}, ${initial.toFixed(2)} at the GMM initialisation)`;
}

const fmt = (v: number) => Number(v.toPrecision(3)).toString();

/** Softmax of π's logits on the host (the prior's weights). */
export function softmaxHost(logits: ArrayLike<number>): Float64Array {
  const m = Math.max(...Array.from(logits));
  const e = Float64Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** exp(entropy) of a non-negative weight vector: k when all are equal, 1 when one holds everything. */
export function effectiveComponents(w: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i];
  if (!(total > 0)) return 0;
  let h = 0;
  for (let i = 0; i < w.length; i++) {
    const p = w[i] / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}
