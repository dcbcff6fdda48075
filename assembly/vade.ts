// VaDE (Jiang et al. 2017, "Variational Deep Embedding: An Unsupervised and Generative Approach to
// Clustering"): philoxNormal, reparameterize(+Backward), gmmLogResp, vadeKlLoss(+Backward).
// The GMM parts are small (K·D parameters) but sit inside log-sum-exps whose results are differences
// of large numbers, so they run in f64 (f64x2 SIMD where it pays); elementwise parts are f32 SIMD.

import { gaussConstants64, promote, weightedSqDist64 } from './common';

// ---- Philox4x32-10 (Salmon et al. 2011, "Parallel Random Numbers: As Easy as 1, 2, 3") ---------
const PHILOX_M0: u64 = 0xD2511F53;
const PHILOX_M1: u64 = 0xCD9E8D57;
const PHILOX_W0: u32 = 0x9E3779B9;
const PHILOX_W1: u32 = 0xBB67AE85;

// Output words of the last philox() call (module globals: one call per element, no allocation).
let ph0: u32 = 0;
let ph1: u32 = 0;
let ph2: u32 = 0;
let ph3: u32 = 0;

/** Philox4x32 with 10 rounds on counter (c0,c1,c2,c3) and key (k0,k1); result in ph0..ph3. */
export function philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += PHILOX_W0;
      k1 += PHILOX_W1;
    }
    const p0 = PHILOX_M0 * <u64>c0; // 32×32 → 64 bit products
    const p1 = PHILOX_M1 * <u64>c2;
    const n0 = <u32>(p1 >> 32) ^ c1 ^ k0;
    const n2 = <u32>(p0 >> 32) ^ c3 ^ k1;
    c1 = <u32>p1;
    c3 = <u32>p0;
    c0 = n0;
    c2 = n2;
  }
  ph0 = c0;
  ph1 = c1;
  ph2 = c2;
  ph3 = c3;
}
/** Word i (0..3) of the last philox() result (for tests against known-answer vectors). */
export function philoxWord(i: i32): u32 {
  return i == 0 ? ph0 : i == 1 ? ph1 : i == 2 ? ph2 : ph3;
}

/** out[i] = sqrt(−2 ln u1)·cos(2π u2) (Box–Muller) with u1 = ((r0>>>8)+0.5)·2^-24, u2 = (r1>>>8)·2^-24,
 *  (r0,r1,…) = Philox4x32-10(counter (offset+i mod 2^32, 0, 0, 0), key (seed, stream)). */
export function philoxNormal(out: usize, n: i32, seed: u32, stream: u32, offset: u32): void {
  const inv24: f64 = 1.0 / 16777216.0;
  for (let i = 0; i < n; i++) {
    philox(offset + <u32>i, 0, 0, 0, seed, stream);
    const u1 = (<f64>(ph0 >>> 8) + 0.5) * inv24;
    const u2 = <f64>(ph1 >>> 8) * inv24;
    store<f32>(out + (<usize>i << 2), <f32>(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)));
  }
}

/** z = mu + exp(logVar/2)·eps over n elements. */
export function reparameterize(mu: usize, logVar: usize, eps: usize, z: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(z + o, load<f32>(mu + o) + Mathf.exp(0.5 * load<f32>(logVar + o)) * load<f32>(eps + o));
  }
}

/** dmu (+)= dz; dlogVar (+)= dz·eps·exp(logVar/2)/2. */
export function reparameterizeBackward(dz: usize, logVar: usize, eps: usize, dmu: usize, dlogVar: usize, n: i32,
  accumulate: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(dz + o);
    const dl = g * load<f32>(eps + o) * Mathf.exp(0.5 * load<f32>(logVar + o)) * 0.5;
    if (accumulate) {
      store<f32>(dmu + o, load<f32>(dmu + o) + g);
      store<f32>(dlogVar + o, load<f32>(dlogVar + o) + dl);
    } else {
      store<f32>(dmu + o, g);
      store<f32>(dlogVar + o, dl);
    }
  }
}

/** log π = piLogits − logsumexp(piLogits), into dst (K f64). */
function logSoftmax64(piLogits: usize, k: i32, dst: usize): void {
  let mx = -Infinity;
  for (let c = 0; c < k; c++) mx = Math.max(mx, <f64>load<f32>(piLogits + (<usize>c << 2)));
  let s: f64 = 0;
  for (let c = 0; c < k; c++) s += Math.exp(<f64>load<f32>(piLogits + (<usize>c << 2)) - mx);
  const lse = mx + Math.log(s);
  for (let c = 0; c < k; c++) store<f64>(dst + (<usize>c << 3), <f64>load<f32>(piLogits + (<usize>c << 2)) - lse);
}

/** Bytes of f64 scratch gmmLogResp needs. */
export function gmmScratchBytes(d: i32, k: i32): i32 {
  return (2 * k * d + 2 * k + d) * 8;
}

/** log γ_ic = log π_c + log N(z_i | μ_c, diag σ²_c) − logsumexp_c'(…) (VaDE eq. 16, in log space).
 *  z [N,D], piLogits [K], muC, logVarC [K,D], logResp [N,K]; rows [r0, r1); scratch gmmScratchBytes. */
export function gmmLogResp(z: usize, piLogits: usize, muC: usize, logVarC: usize, logResp: usize, n: i32, d: i32,
  k: i32, scratch: usize, r0: i32, r1: i32): void {
  const kd = k * d;
  const mu64 = scratch; // [K,D]
  const iv64 = mu64 + (<usize>kd << 3); // [K,D] 1/σ²
  const cst = iv64 + (<usize>kd << 3); // [K] log π_c − ½ Σ_d (log 2π + log σ²_cd)
  const row = cst + (<usize>k << 3); // [K] per-row log terms
  const z64 = row + (<usize>k << 3); // [D]
  promote(muC, mu64, kd);
  gaussConstants64(logVarC, k, d, iv64, cst);
  // log π_c + the Gaussian's constant (row holds log π until the rows start).
  logSoftmax64(piLogits, k, row);
  for (let c = 0; c < k; c++) store<f64>(cst + (<usize>c << 3), load<f64>(row + (<usize>c << 3)) + load<f64>(cst + (<usize>c << 3)));
  for (let i = r0; i < r1; i++) {
    promote(z + (<usize>i * <usize>d << 2), z64, d);
    let mx = -Infinity;
    for (let c = 0; c < k; c++) {
      const s = weightedSqDist64(z64, mu64 + (<usize>(c * d) << 3), iv64 + (<usize>(c * d) << 3), d);
      const v = load<f64>(cst + (<usize>c << 3)) - 0.5 * s;
      store<f64>(row + (<usize>c << 3), v);
      if (v > mx) mx = v;
    }
    let se: f64 = 0;
    for (let c = 0; c < k; c++) se += Math.exp(load<f64>(row + (<usize>c << 3)) - mx);
    const lse = mx + Math.log(se);
    const out = logResp + (<usize>i * <usize>k << 2);
    for (let c = 0; c < k; c++) store<f32>(out + (<usize>c << 2), <f32>(load<f64>(row + (<usize>c << 3)) - lse));
  }
}

/** Bytes of f64 scratch vadeKlLoss / vadeKlLossBackward need. */
export function vadeScratchBytes(d: i32, k: i32): i32 {
  return (5 * k * d + 3 * k + 3 * d) * 8;
}

/** Shared setup: μ_c, 1/σ²_c, log σ²_c as f64 [K,D] each, log π [K]. Returns nothing; layout fixed. */
function vadeSetup(piLogits: usize, muC: usize, logVarC: usize, d: i32, k: i32, scratch: usize): void {
  const kd = k * d;
  const mu64 = scratch;
  const iv64 = mu64 + (<usize>kd << 3);
  const lv64 = iv64 + (<usize>kd << 3);
  const logPi = lv64 + (<usize>kd << 3);
  promote(muC, mu64, kd);
  promote(logVarC, lv64, kd);
  for (let t = 0; t < kd; t++) store<f64>(iv64 + (<usize>t << 3), Math.exp(-load<f64>(lv64 + (<usize>t << 3))));
  logSoftmax64(piLogits, k, logPi);
}

/** The closed-form KL part of the negative VaDE ELBO (Jiang 2017 eq. 12, L = 1), mean over rows:
 *    (1/N) Σ_i [ ½ Σ_c γ_ic Σ_d (logσ²_cd + σ̃²_id/σ²_cd + (μ̃_id−μ_cd)²/σ²_cd)
 *                − Σ_c γ_ic (log π_c − log γ_ic) − ½ Σ_d (1 + log σ̃²_id) ]   (γ log γ = 0 at γ = 0)
 *  muEnc, logVarEnc [N,D], gamma [N,K], piLogits [K], muC, logVarC [K,D]; scratch vadeScratchBytes. */
export function vadeKlLoss(muEnc: usize, logVarEnc: usize, gamma: usize, piLogits: usize, muC: usize, logVarC: usize,
  loss: usize, n: i32, d: i32, k: i32, scratch: usize): void {
  const kd = k * d;
  vadeSetup(piLogits, muC, logVarC, d, k, scratch);
  const mu64 = scratch;
  const iv64 = mu64 + (<usize>kd << 3);
  const lv64 = iv64 + (<usize>kd << 3);
  const logPi = lv64 + (<usize>kd << 3);
  const m64 = logPi + (<usize>k << 3); // [D] μ̃_i
  const s64 = m64 + (<usize>d << 3); // [D] σ̃²_i
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    let rowTerm: f64 = 0;
    for (let t = 0; t < d; t++) {
      const lve = <f64>load<f32>(logVarEnc + (<usize>(i * d + t) << 2));
      store<f64>(m64 + (<usize>t << 3), <f64>load<f32>(muEnc + (<usize>(i * d + t) << 2)));
      store<f64>(s64 + (<usize>t << 3), Math.exp(lve));
      rowTerm -= 0.5 * (1 + lve);
    }
    for (let c = 0; c < k; c++) {
      const g = <f64>load<f32>(gamma + (<usize>(i * k + c) << 2));
      if (g == 0) continue;
      const off = <usize>(c * d) << 3;
      let s: f64 = 0;
      for (let t = 0; t < d; t++) {
        const o = <usize>t << 3;
        const df = load<f64>(m64 + o) - load<f64>(mu64 + off + o);
        s += load<f64>(lv64 + off + o) + (load<f64>(s64 + o) + df * df) * load<f64>(iv64 + off + o);
      }
      rowTerm += 0.5 * g * s - g * (load<f64>(logPi + (<usize>c << 3)) - Math.log(g));
    }
    total += rowTerm;
  }
  store<f32>(loss, <f32>(total / <f64>n));
}

/** Gradients of scale·vadeKlLoss with γ held constant (E-step), c = scale/N:
 *    dμ̃_id     = c Σ_c γ_ic (μ̃_id − μ_cd)/σ²_cd
 *    dlogσ̃²_id = c (½ Σ_c γ_ic σ̃²_id/σ²_cd − ½)
 *    dμ_cd     = c Σ_i γ_ic (μ_cd − μ̃_id)/σ²_cd
 *    dlogσ²_cd = c ½ Σ_i γ_ic (1 − (σ̃²_id + (μ̃_id − μ_cd)²)/σ²_cd)
 *    dπlogit_k = c Σ_i (π_k Σ_c γ_ic − γ_ik)         (softmax parametrisation of π)
 *  accumulate adds into the outputs instead of overwriting. */
export function vadeKlLossBackward(muEnc: usize, logVarEnc: usize, gamma: usize, piLogits: usize, muC: usize,
  logVarC: usize, dMuEnc: usize, dLogVarEnc: usize, dPiLogits: usize, dMuC: usize, dLogVarC: usize,
  n: i32, d: i32, k: i32, scale: f64, accumulate: i32, scratch: usize): void {
  const kd = k * d;
  vadeSetup(piLogits, muC, logVarC, d, k, scratch);
  const mu64 = scratch;
  const iv64 = mu64 + (<usize>kd << 3);
  const lv64 = iv64 + (<usize>kd << 3);
  const logPi = lv64 + (<usize>kd << 3);
  const gMu = logPi + (<usize>k << 3); // [K,D]
  const gLv = gMu + (<usize>kd << 3); // [K,D]
  const gPi = gLv + (<usize>kd << 3); // [K]
  const m64 = gPi + (<usize>k << 3); // [D]
  const s64 = m64 + (<usize>d << 3); // [D]
  const rowG = s64 + (<usize>d << 3); // [D] scratch for dμ̃ row
  memory.fill(gMu, 0, <usize>(2 * kd + k) << 3);
  const cs = scale / <f64>n;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) {
      store<f64>(m64 + (<usize>t << 3), <f64>load<f32>(muEnc + (<usize>(i * d + t) << 2)));
      store<f64>(s64 + (<usize>t << 3), Math.exp(<f64>load<f32>(logVarEnc + (<usize>(i * d + t) << 2))));
    }
    memory.fill(rowG, 0, <usize>d << 3);
    let gsum: f64 = 0;
    // dμ̃ and dlogσ̃² both need Σ_c γ_ic (…)/σ²_cd per d: rowG holds Σ_c γ (μ̃−μ)/σ², and the
    // σ̃² part accumulates into dLogVarEnc's row below via a second per-d sum.
    for (let c = 0; c < k; c++) {
      const g = <f64>load<f32>(gamma + (<usize>(i * k + c) << 2));
      gsum += g;
      store<f64>(gPi + (<usize>c << 3), load<f64>(gPi + (<usize>c << 3)) - g);
      if (g == 0) continue;
      const off = <usize>(c * d) << 3;
      for (let t = 0; t < d; t++) {
        const o = <usize>t << 3;
        const iv = load<f64>(iv64 + off + o);
        const df = load<f64>(m64 + o) - load<f64>(mu64 + off + o);
        store<f64>(rowG + o, load<f64>(rowG + o) + g * df * iv);
        store<f64>(gMu + off + o, load<f64>(gMu + off + o) - g * df * iv);
        store<f64>(gLv + off + o, load<f64>(gLv + off + o) + 0.5 * g * (1 - (load<f64>(s64 + o) + df * df) * iv));
      }
    }
    for (let c = 0; c < k; c++) {
      store<f64>(gPi + (<usize>c << 3), load<f64>(gPi + (<usize>c << 3)) + gsum * Math.exp(load<f64>(logPi + (<usize>c << 3))));
    }
    for (let t = 0; t < d; t++) {
      const o = <usize>t << 3;
      // Σ_c γ_ic / σ²_cd for this d
      let sv: f64 = 0;
      for (let c = 0; c < k; c++) {
        sv += <f64>load<f32>(gamma + (<usize>(i * k + c) << 2)) * load<f64>(iv64 + (<usize>(c * d + t) << 3));
      }
      const eo = <usize>(i * d + t) << 2;
      let vm = cs * load<f64>(rowG + o);
      let vl = cs * (0.5 * load<f64>(s64 + o) * sv - 0.5);
      if (accumulate) {
        vm += <f64>load<f32>(dMuEnc + eo);
        vl += <f64>load<f32>(dLogVarEnc + eo);
      }
      store<f32>(dMuEnc + eo, <f32>vm);
      store<f32>(dLogVarEnc + eo, <f32>vl);
    }
  }
  for (let t = 0; t < kd; t++) {
    const o8 = <usize>t << 3;
    const o4 = <usize>t << 2;
    let vm = cs * load<f64>(gMu + o8);
    let vl = cs * load<f64>(gLv + o8);
    if (accumulate) {
      vm += <f64>load<f32>(dMuC + o4);
      vl += <f64>load<f32>(dLogVarC + o4);
    }
    store<f32>(dMuC + o4, <f32>vm);
    store<f32>(dLogVarC + o4, <f32>vl);
  }
  for (let c = 0; c < k; c++) {
    let v = cs * load<f64>(gPi + (<usize>c << 3));
    if (accumulate) v += <f64>load<f32>(dPiLogits + (<usize>c << 2));
    store<f32>(dPiLogits + (<usize>c << 2), <f32>v);
  }
}
