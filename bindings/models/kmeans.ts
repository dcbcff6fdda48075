// k-means (Lloyd 1982) with k-means++ seeding (Arthur & Vassilvitskii 2007) and several restarts,
// keeping the run with the lowest inertia Σ_i ‖x_i − c_{l(i)}‖².
// The distance work runs on the backend (kmeansAssign over all rows, kmeansUpdate for the sums);
// the host only samples seeds from the downloaded D² weights, divides sums by counts, counts label
// changes and re-seeds empty clusters at the worst-fitted point.
import { readModelFile, requireKind, writeModelFile, type KMeansArchitecture, type ModelFile, type SaveOptions } from './model-file.js';
import type { ComputeBackend, Tensor } from '../backend.js';
import { HostRng, STREAM } from './rng.js';
import { CENTRES, defaultsOf, KMEANS_SPEC } from './specs.js';
import { asMatrix, type Matrix } from './types.js';
import { forEachChunk, uploadMatrix } from './data.js';

const KMEANS_DEFAULTS = defaultsOf(KMEANS_SPEC.hyperparameters);

/** Unset fields take specs.ts KMEANS_SPEC's defaults. */
export interface KMeansConfig {
  k: number;
  /** Restarts. */
  nInit?: number;
  maxIter?: number;
  seed?: number;
}

export interface KMeansResult {
  centroids: Float32Array; // [k × d]
  labels: Int32Array;
  inertia: number;
  iterations: number;
}

/** Runs k-means on a matrix already on the backend (`x` [N,D]) with its host copy `host`. */
export async function kmeansOnBackend(be: ComputeBackend, x: Tensor, host: Matrix, cfg: KMeansConfig): Promise<KMeansResult> {
  const { k } = cfg;
  const nInit = cfg.nInit ?? KMEANS_DEFAULTS.nInit;
  const maxIter = cfg.maxIter ?? KMEANS_DEFAULTS.maxIter;
  const n = host.rows;
  const d = host.cols;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer (got ${k})`);
  if (k > n) throw new RangeError(`k = ${k} exceeds the number of rows (${n})`);
  const rng = new HostRng(cfg.seed ?? KMEANS_DEFAULTS.seed, STREAM.kmeans);
  const labels = be.create([n], 'i32');
  const minDist = be.create([n]);
  const centroids = be.create([k, d]);
  const sums = be.create([k, d]);
  const counts = be.create([k]);
  let best: KMeansResult | null = null;
  try {
    for (let run = 0; run < nInit; run++) {
      const c = await kmeansPlusPlus(be, x, host, k, rng, labels, minDist);
      let prev: Int32Array | null = null;
      let iter = 0;
      let inertia = Infinity;
      let lab: Int32Array = new Int32Array(n);
      let used = c.slice(); // the centroids the current labels and inertia belong to
      for (; iter < maxIter; iter++) {
        used = c.slice();
        be.upload(centroids, c);
        be.kmeansAssign(x, centroids, labels, minDist);
        lab = Int32Array.from((await be.download(labels)) as Int32Array);
        const dist = (await be.download(minDist)) as Float32Array;
        inertia = sum64(dist);
        let changed = n;
        if (prev) {
          changed = 0;
          for (let i = 0; i < n; i++) if (prev[i] !== lab[i]) changed++;
        }
        if (changed === 0) break;
        prev = lab;
        be.kmeansUpdate(x, labels, sums, counts);
        const s = (await be.download(sums)) as Float32Array;
        const cnt = (await be.download(counts)) as Float32Array;
        const taken = new Set<number>();
        for (let j = 0; j < k; j++) {
          if (cnt[j] > 0) {
            for (let t = 0; t < d; t++) c[j * d + t] = s[j * d + t] / cnt[j];
          } else {
            // Empty cluster: move it to the point farthest from its centroid (not already used).
            let far = -1;
            for (let i = 0; i < n; i++) if (!taken.has(i) && (far < 0 || dist[i] > dist[far])) far = i;
            taken.add(far);
            c.set(host.data.subarray(far * d, far * d + d), j * d);
          }
        }
      }
      if (!best || inertia < best.inertia) best = { centroids: used, labels: lab, inertia, iterations: Math.min(iter + 1, maxIter) };
    }
  } finally {
    for (const t of [labels, minDist, centroids, sums, counts]) be.dispose(t);
  }
  return best!;
}

/** k-means++: first centre uniform, each next one drawn with probability ∝ D(x)², the squared
 *  distance to the nearest centre so far (computed on the backend by kmeansAssign). */
async function kmeansPlusPlus(be: ComputeBackend, x: Tensor, host: Matrix, k: number, rng: HostRng, labels: Tensor, minDist: Tensor): Promise<Float32Array> {
  const { rows: n, cols: d } = host;
  const c = new Float32Array(k * d);
  const first = rng.int(n);
  c.set(host.data.subarray(first * d, first * d + d), 0);
  for (let j = 1; j < k; j++) {
    const partial = be.create([j, d]);
    be.upload(partial, c.subarray(0, j * d));
    be.kmeansAssign(x, partial, labels, minDist);
    const dist = (await be.download(minDist)) as Float32Array;
    be.dispose(partial);
    const total = sum64(dist);
    let pick = rng.int(n);
    if (total > 0) {
      let r = rng.uniform() * total;
      for (let i = 0; i < n; i++) {
        r -= dist[i];
        if (r < 0) {
          pick = i;
          break;
        }
      }
    }
    c.set(host.data.subarray(pick * d, pick * d + d), j * d);
  }
  return c;
}

function sum64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** The model API around kmeansOnBackend: fit, predict, predictProba (Student-t memberships). */
export class KMeans {
  centroids: Float32Array | null = null;
  dim = 0;
  inertia = NaN;
  iterations = 0;
  labels: Int32Array | null = null;

  constructor(readonly backend: ComputeBackend, readonly config: KMeansConfig) {}

  get k(): number {
    return this.config.k;
  }

  async fit(xRaw: Matrix): Promise<this> {
    const x = asMatrix(xRaw);
    const X = uploadMatrix(this.backend, x);
    try {
      const r = await kmeansOnBackend(this.backend, X, x, this.config);
      this.centroids = r.centroids;
      this.labels = r.labels;
      this.inertia = r.inertia;
      this.iterations = r.iterations;
      this.dim = x.cols;
    } finally {
      this.backend.dispose(X);
    }
    return this;
  }

  private ready(x: Matrix): Float32Array {
    if (!this.centroids) throw new Error('KMeans: not fitted');
    if (asMatrix(x).cols !== this.dim) throw new RangeError(`data has ${x.cols} columns, the model expects ${this.dim}`);
    return this.centroids;
  }

  /** Nearest centroid per row. */
  async predict(x: Matrix): Promise<Int32Array> {
    const c = this.ready(x);
    const be = this.backend;
    const C = be.create([this.k, this.dim]);
    be.upload(C, c);
    const out = new Int32Array(x.rows);
    try {
      await forEachChunk(be, x, async (t, start, rows) => {
        const lab = be.create([rows], 'i32');
        const dist = be.create([rows]);
        be.kmeansAssign(t, C, lab, dist);
        out.set((await be.download(lab)) as Int32Array, start);
        be.dispose(lab);
        be.dispose(dist);
      });
    } finally {
      be.dispose(C);
    }
    return out;
  }

  /** Soft memberships: Student-t kernel (α = 1) around the centroids, rows sum to 1. [rows × k]. */
  async predictProba(x: Matrix): Promise<Float32Array> {
    const c = this.ready(x);
    const be = this.backend;
    const C = be.create([this.k, this.dim]);
    be.upload(C, c);
    const out = new Float32Array(x.rows * this.k);
    try {
      await forEachChunk(be, x, async (t, start, rows) => {
        const q = be.create([rows, this.k]);
        be.softAssign(t, C, q, 1);
        out.set((await be.download(q)) as Float32Array, start * this.k);
        be.dispose(q);
      });
    } finally {
      be.dispose(C);
    }
    return out;
  }

  /** Writes the model as safetensors (specs.ts KMEANS_SPEC declares its tensors). */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    if (!this.centroids) throw new Error('KMeans: not fitted, nothing to save');
    await writeModelFile(path, {
      tensors: { [CENTRES]: { shape: [this.k, this.dim], data: this.centroids } },
      arch: { model: 'kmeans', inputDim: this.dim, k: this.k },
      normalization: { kind: 'none' },
      config: this.config,
      classes: opts.classes ?? null,
    });
  }

  /** The model a validated file holds (model-file.ts checked the metadata against the tensors). */
  static fromModelFile(backend: ComputeBackend, f: ModelFile): KMeans {
    requireKind(f, ['kmeans'], 'KMeans');
    const arch = f.arch as KMeansArchitecture;
    const km = new KMeans(backend, { ...f.config, k: arch.k });
    km.centroids = f.tensors[CENTRES]!.data;
    km.dim = arch.inputDim;
    return km;
  }

  static async load(backend: ComputeBackend, path: string): Promise<KMeans> {
    return KMeans.fromModelFile(backend, await readModelFile(path));
  }

  /** k-means has no learned features: transform returns the input unchanged, like an identity encoder. */
  async transform(x: Matrix): Promise<Float32Array> {
    this.ready(x);
    return Float32Array.from(x.data);
  }
}
