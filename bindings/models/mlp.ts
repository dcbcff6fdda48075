// A stack of dense layers on the ComputeBackend, forward and backward side by side.
// Layer l:  forward   a_l = act_l(a_{l−1} · W_l + b_l)           a_{l−1} [B,in], W_l [in,out], b_l [out]
//           backward  δ_l = ∂L/∂a_l ⊙ act_l'(a_l)                 (biasActBackward, via the output a_l)
//                     ∂L/∂W_l = a_{l−1}ᵀ · δ_l,  ∂L/∂b_l = Σ_rows δ_l
//                     ∂L/∂a_{l−1} = δ_l · W_lᵀ
// W is stored [in, out] for gemm; model files store it transposed, [out, in], like PyTorch.
import type { Activation, ComputeBackend, Tensor } from '../backend.js';
import { quantiseDense } from '../int8.js';
import type { HostRng } from './rng.js';
import { linearNames } from './specs.js';

export interface Param {
  name: string;
  value: Tensor;
  grad: Tensor;
}

export interface LayerSpec {
  in: number;
  out: number;
  act: Activation;
}

export type InitScheme = 'auto' | 'glorot' | 'he';

/** A layer is run in int8 only with at least this many outputs: quantising a row costs about as much
 *  as 8–16 of its int8 dot products, so below this the quantisation outweighs what the integer
 *  products save (bench/NOTES.md §29). */
export const INT8_MIN_OUTPUTS = 16;

export class Mlp {
  readonly w: Tensor[];
  readonly b: Tensor[];
  readonly gw: Tensor[];
  readonly gb: Tensor[];
  /** Per batch size: outputs of every layer (forward) and their gradients (backward). */
  private work = new Map<number, { out: Tensor[]; grad: Tensor[] }>();
  private lastInput: Tensor | null = null;
  /** The layers' int8 weights (denseInt8) once quantise() ran; forward then uses them. */
  private int8: ({ wq: Tensor; ws: Tensor } | null)[] | null = null;

  constructor(private be: ComputeBackend, readonly name: string, readonly layers: readonly LayerSpec[]) {
    if (layers.length === 0) throw new RangeError(`${name}: needs at least one layer`);
    for (let l = 1; l < layers.length; l++) {
      if (layers[l].in !== layers[l - 1].out) throw new RangeError(`${name}: layer ${l} input ${layers[l].in} ≠ previous output ${layers[l - 1].out}`);
    }
    this.w = layers.map((s) => be.create([s.in, s.out]));
    this.b = layers.map((s) => be.create([s.out]));
    this.gw = layers.map((s) => be.create([s.in, s.out]));
    this.gb = layers.map((s) => be.create([s.out]));
  }

  get inputDim(): number {
    return this.layers[0].in;
  }
  get outputDim(): number {
    return this.layers[this.layers.length - 1].out;
  }

  /** 'glorot': Glorot-uniform ±√(6/(in+out)) (Glorot & Bengio 2010) everywhere — what the Keras
   *  DEC/IDEC code uses, and the more seed-stable choice in our runs; 'he': He-normal std √(2/in)
   *  (He et al. 2015) everywhere; 'auto': He before ReLU, Glorot otherwise. Biases zero. */
  init(rng: HostRng, scheme: InitScheme = 'glorot'): void {
    this.layers.forEach((s, l) => {
      const w = new Float32Array(s.in * s.out);
      const he = scheme === 'he' || (scheme === 'auto' && s.act === 'relu');
      if (he) {
        const std = Math.sqrt(2 / s.in);
        for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
      } else {
        const lim = Math.sqrt(6 / (s.in + s.out));
        for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * lim;
      }
      this.be.upload(this.w[l], w);
      this.be.fill(this.b[l], 0);
    });
  }

  params(): Param[] {
    return this.layers.flatMap((_, l) => [
      { name: linearNames(this.name, l).weight, value: this.w[l], grad: this.gw[l] },
      { name: linearNames(this.name, l).bias, value: this.b[l], grad: this.gb[l] },
    ]);
  }

  private buffers(rows: number) {
    let w = this.work.get(rows);
    if (!w) {
      w = {
        out: this.layers.map((s) => this.be.create([rows, s.out])),
        grad: this.layers.map((s) => this.be.create([rows, s.out])),
      };
      this.work.set(rows, w);
    }
    return w;
  }

  /** Inference in int8 from here on (issue 21): the weights of every layer with at least
   *  INT8_MIN_OUTPUTS outputs quantised per output channel (bindings/int8.ts) from their current
   *  values, each such layer's input per row inside denseInt8; narrower layers (an embedding) stay
   *  f32. Training needs the f32 weights and their gradients, so backward() refuses afterwards. */
  async quantise(): Promise<void> {
    if (this.int8) return;
    const q: ({ wq: Tensor; ws: Tensor } | null)[] = [];
    try {
      for (let l = 0; l < this.layers.length; l++) {
        const { in: nin, out: nout } = this.layers[l];
        if (nout < INT8_MIN_OUTPUTS) {
          q.push(null);
          continue;
        }
        const { wq, ws } = quantiseDense((await this.be.download(this.w[l])) as Float32Array, nin, nout);
        const t = { wq: this.be.create([nout, Math.ceil(nin / 4)], 'i32'), ws: this.be.create([nout]) };
        q.push(t);
        this.be.upload(t.wq, wq);
        this.be.upload(t.ws, ws);
      }
    } catch (e) {
      for (const t of q) if (t) [t.wq, t.ws].forEach((x) => this.be.dispose(x));
      throw e;
    }
    this.int8 = q;
  }

  get quantised(): boolean {
    return this.int8 !== null;
  }

  /** x [B,in] → output [B,out] (a buffer owned by this Mlp, valid until the next forward of size B). */
  forward(x: Tensor): Tensor {
    const { out } = this.buffers(x.shape[0]);
    let a = x;
    this.layers.forEach((s, l) => {
      const q = this.int8?.[l];
      if (q) this.be.denseInt8(a, q.wq, q.ws, this.b[l], s.act, out[l]);
      else {
        this.be.gemm(a, this.w[l], out[l]);
        this.be.biasAct(out[l], this.b[l], s.act, out[l]);
      }
      a = out[l];
    });
    this.lastInput = x;
    return a;
  }

  /** The gradient buffer for the output of the last forward with B rows: callers write ∂L/∂out here. */
  outputGrad(rows: number): Tensor {
    const g = this.buffers(rows).grad;
    return g[g.length - 1];
  }

  /**
   * Backward of the last forward. `dOut` [B,out] is ∂L/∂output (it is overwritten with δ).
   * Writes the parameter gradients (overwrite); writes ∂L/∂x into `dx` if given (added when
   * `accumulateDx`).
   */
  backward(dOut: Tensor, dx?: Tensor, accumulateDx = false): void {
    const x = this.lastInput;
    if (!x) throw new Error(`${this.name}: backward before forward`);
    if (this.int8) throw new Error(`${this.name}: quantised to int8 for inference; backward needs the f32 layers`);
    const rows = x.shape[0];
    const { out, grad } = this.buffers(rows);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const dy = l === this.layers.length - 1 ? dOut : grad[l];
      this.be.biasActBackward(dy, out[l], this.layers[l].act, dy);
      this.be.colSum(dy, this.gb[l]);
      const input = l === 0 ? x : out[l - 1];
      this.be.gemm(input, dy, this.gw[l], { transA: true });
      if (l > 0) this.be.gemm(dy, this.w[l], grad[l - 1], { transB: true });
      else if (dx) this.be.gemm(dy, this.w[0], dx, { transB: true, beta: accumulateDx ? 1 : 0 });
    }
  }

  /** Weights to the host in PyTorch layout: weight [out,in], bias [out], named by specs.ts linearNames. */
  async exportState(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const state: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let l = 0; l < this.layers.length; l++) {
      const { in: nin, out: nout } = this.layers[l];
      const w = (await this.be.download(this.w[l])) as Float32Array;
      const names = linearNames(this.name, l);
      state[names.weight] = { shape: [nout, nin], data: transpose(w, nin, nout) };
      state[names.bias] = { shape: [nout], data: Float32Array.from((await this.be.download(this.b[l])) as Float32Array) };
    }
    return state;
  }

  importState(state: Record<string, { shape: number[]; data: Float32Array }>, source = 'state'): void {
    for (let l = 0; l < this.layers.length; l++) {
      const { in: nin, out: nout } = this.layers[l];
      const names = linearNames(this.name, l);
      const w = state[names.weight];
      const b = state[names.bias];
      if (!w || !b) throw new Error(`${source}: missing tensor ${names.weight} or .bias`);
      if (w.shape.join() !== `${nout},${nin}` || b.shape.join() !== `${nout}`) {
        throw new Error(`${source}: ${this.name}.${l} has shapes [${w.shape}] and [${b.shape}], expected [${nout},${nin}] and [${nout}]`);
      }
      this.be.upload(this.w[l], transpose(w.data, nout, nin));
      this.be.upload(this.b[l], b.data);
    }
  }

  dispose(): void {
    for (const t of [...this.w, ...this.b, ...this.gw, ...this.gb, ...(this.int8 ?? []).flatMap((q) => (q ? [q.wq, q.ws] : []))]) this.be.dispose(t);
    this.int8 = null;
    for (const { out, grad } of this.work.values()) for (const t of [...out, ...grad]) this.be.dispose(t);
    this.work.clear();
  }
}

/** [rows, cols] → [cols, rows]. */
export function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}
