// Random class mixtures for the pipeline's mixture tests (pipeline-ops*.test.ts).
import type { ClassMixture } from '../../bindings/pipeline/mixture.js';
import type { Rng } from './rng.js';

/** A random class mixture: ρ rows on the simplex; `hard`: every component belongs to one class
 *  (exact zeros elsewhere). */
export function randomMixture(rng: Rng, k: number, d: number, classes: number, hard: boolean): ClassMixture {
  const rho = rng.simplexRows(classes, k, 1.5);
  if (hard) {
    for (let j = 0; j < k; j++) for (let c = 0; c < classes; c++) if (j % classes !== c) rho[c * k + j] = 0;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += rho[c * k + j];
      for (let j = 0; j < k; j++) rho[c * k + j] /= s;
    }
  }
  return { k, d, classes, mu: rng.normals(k * d, 2), logVar: rng.uniforms(k * d, -1, 1), rho };
}

/** The mixture with μ and log σ² rounded to f32 (what the pipeline keeps and the ops see). */
export const f32Mixture = (m: ClassMixture): ClassMixture =>
  ({ ...m, mu: Float64Array.from(Float32Array.from(m.mu)), logVar: Float64Array.from(Float32Array.from(m.logVar)) });
