// The rows of a reference-constrained EM (em-known.ts), resident on the compute backend for all its
// iterations: the rows, their samples and every per-row array stay there, and each iteration moves
// only the parameters in (μ, σ², ρ, the priors: K·D and C·K numbers) and the sums out. The E-step
// and the M-step's sums are backend ops (mixtureLogLik, mixturePosteriors, mixtureStats), so the EM
// runs in the compute core on every backend; the host keeps only the small per-sample and
// per-component arithmetic.
import type { ComputeBackend, Tensor } from '../backend.js';
import { rowsOf, type ClassMixture } from './mixture.js';

export interface PosteriorSums {
  /** Σ of each class's posteriors over each sample's rows [S × C]. */
  colSums: Float32Array;
  /** Σ of each sample's row log-likelihoods [S]. */
  sampleLogLik: Float32Array;
}

export interface ComponentSums {
  /** Σ_i of each class's share of each component [C × K]. */
  classWeights: Float32Array;
  /** Σ_i r_ik (z_i − μ_k) and Σ_i r_ik (z_i − μ_k)², about the μ of the last eStep [K × D]. */
  sum1: Float32Array;
  sum2: Float32Array;
}

export class EmRows {
  private readonly made: Tensor[] = [];
  private readonly z: Tensor;
  private readonly sampleOf: Tensor;
  private readonly mu: Tensor;
  private readonly logVar: Tensor;
  private readonly rho: Tensor;
  private readonly logDens: Tensor;
  private readonly classLogLik: Tensor;
  private readonly logPrior: Tensor;
  private readonly post: Tensor;
  private readonly colSums: Tensor;
  private readonly sampleLogLik: Tensor;
  private readonly classWeights: Tensor;
  private readonly sum1: Tensor;
  private readonly sum2: Tensor;

  /** Rows z [n × m.d] of samples sampleOf (each in 0…S−1), for mixtures shaped like `m`. */
  constructor(private readonly be: ComputeBackend, m: Pick<ClassMixture, 'k' | 'd' | 'classes'>, z: ArrayLike<number>, n: number,
    sampleOf: ArrayLike<number>, S: number) {
    const { k, d, classes: C } = m;
    const t = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => {
      const x = be.create(shape, dtype);
      this.made.push(x);
      return x;
    };
    try {
      this.z = t([n, d]);
      this.sampleOf = t([n], 'i32');
      [this.mu, this.logVar, this.sum1, this.sum2] = [t([k, d]), t([k, d]), t([k, d]), t([k, d])];
      [this.rho, this.classWeights] = [t([C, k]), t([C, k])];
      [this.logDens, this.classLogLik, this.post] = [t([n, k]), t([n, C]), t([n, C])];
      [this.logPrior, this.colSums, this.sampleLogLik] = [t([S, C]), t([S, C]), t([S])];
      be.upload(this.z, rowsOf(z, n * d));
      be.upload(this.sampleOf, Int32Array.from({ length: n }, (_, i) => sampleOf[i]));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** The E-step's densities under `m`: each row's component and class log-likelihoods. */
  eStep(m: ClassMixture): void {
    this.be.upload(this.mu, m.mu);
    this.be.upload(this.logVar, m.logVar);
    this.be.upload(this.rho, m.rho);
    this.be.mixtureLogLik(this.z, this.mu, this.logVar, this.rho, this.logDens, this.classLogLik);
  }

  /** Class posteriors under per-sample log-priors [S × C] (kept for `sums`); their per-sample totals. */
  async posteriors(logPrior: Float64Array): Promise<PosteriorSums> {
    this.be.upload(this.logPrior, logPrior);
    this.be.mixturePosteriors(this.classLogLik, this.sampleOf, this.logPrior, this.post, this.colSums, this.sampleLogLik);
    const [colSums, sampleLogLik] = await Promise.all([this.be.download(this.colSums), this.be.download(this.sampleLogLik)]);
    return { colSums: colSums as Float32Array, sampleLogLik: sampleLogLik as Float32Array };
  }

  /** The M-step's sums under the last posteriors, about the μ of the last eStep. */
  async sums(): Promise<ComponentSums> {
    this.be.mixtureStats(this.z, this.logDens, this.classLogLik, this.post, this.rho, this.mu, this.classWeights, this.sum1, this.sum2);
    const [classWeights, sum1, sum2] = await Promise.all([this.be.download(this.classWeights), this.be.download(this.sum1), this.be.download(this.sum2)]);
    return { classWeights: classWeights as Float32Array, sum1: sum1 as Float32Array, sum2: sum2 as Float32Array };
  }

  dispose(): void {
    for (const x of this.made.splice(0)) this.be.dispose(x);
  }
}
