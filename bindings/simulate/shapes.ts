// Pulse shapes and per-event scalar parameters for the domain simulator (see domains.ts).
//
// A pulse is a function of the time offset x − t from a particle's centre, with a nominal width w
// (the optical Gaussian σ for FSC/SSC/FL, the impedance half-width for IMP; see sample.ts). The
// families differ in what an analyzer's front end does to the same particle:
// - builtin:  the original simulator's shapes: optical Gaussian, impedance exp(−|z|³).
// - gaussian: every channel Gaussian (an impedance pulse with the same FWHM as the builtin one).
// - flat-top: a super-Gaussian exp(−|z|⁶), wider at the top than at the base: a long aperture or a
//             wide laser sheet compared with the cell.
// - emg:      an exponentially modified Gaussian — the Gaussian through a one-pole low-pass filter
//             (detector/amplifier RC): a sharp rise, a slow tail, the peak shifted late and lowered.
//             The filter keeps the pulse's area, so narrow pulses lose more height than wide ones.
// Scalar parameters are measured on the rendered noisy waveform, as a digital analyzer would.

export type PulseShape = 'builtin' | 'gaussian' | 'flat-top' | 'emg';
export const PULSE_SHAPES: readonly PulseShape[] = ['builtin', 'gaussian', 'flat-top', 'emg'];

/** The builtin impedance pulse exp(−|z|³) is at half height at |z| = ln2^(1/3); a Gaussian of the same FWHM. */
const IMP_GAUSS_SIGMA = Math.cbrt(Math.LN2) / Math.sqrt(2 * Math.LN2);
const SQRT2PI = Math.sqrt(2 * Math.PI);

/**
 * erfcx(z) = exp(z²)·erfc(z) for z ≥ 0 from the Chebyshev-fitted exponent of Numerical Recipes
 * (Press et al., 3rd ed., §6.2.2, "erfcc"): fractional error < 1.2e-7 everywhere, which is far below
 * the simulated noise.
 */
export function erfcxPos(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  return t * Math.exp(-1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

/** erfc(z) for any real z (same approximation). */
export function erfc(z: number): number {
  return z >= 0 ? erfcxPos(z) * Math.exp(-z * z) : 2 - erfcxPos(-z) * Math.exp(-z * z);
}

/**
 * EMG pulse of unit peak-Gaussian height and area σ√(2π) at offset x (σ: Gaussian width, τ: filter
 * time constant). Density form: (1/2τ)·exp(σ²/2τ² − x/τ)·erfc((σ/τ − x/σ)/√2); for a non-negative
 * erfc argument it is evaluated as exp(−x²/2σ²)·erfcx(·) so that no exp overflows.
 */
export function emg(x: number, sigma: number, tau: number): number {
  const u = x / sigma;
  const z = (sigma / tau - u) / Math.SQRT2;
  const scale = (sigma * SQRT2PI) / (2 * tau);
  if (z >= 0) return scale * Math.exp(-0.5 * u * u) * erfcxPos(z);
  const e = (sigma * sigma) / (2 * tau * tau) - x / tau;
  return scale * Math.exp(e) * erfc(z);
}

/**
 * Value at offset x of a unit-height pulse of the given family. `w` is the particle's nominal width
 * (optical σ or impedance half-width, already scaled by the domain's pulse width); `tauRatio` the
 * EMG filter constant in units of the Gaussian σ.
 */
export function pulse(shape: PulseShape, impedance: boolean, x: number, w: number, tauRatio: number): number {
  switch (shape) {
    case 'builtin': {
      if (impedance) {
        const z = Math.abs(x) / w;
        return Math.exp(-z * z * z);
      }
      const z = x / w;
      return Math.exp(-0.5 * z * z);
    }
    case 'gaussian': {
      const z = x / (impedance ? IMP_GAUSS_SIGMA * w : w);
      return Math.exp(-0.5 * z * z);
    }
    case 'flat-top': {
      // Half height at |z| = ln2^(1/6) ≈ 0.94: about 1.35× the FWHM of the builtin shape.
      const z = x / (impedance ? 1.1 * w : 1.6 * w);
      const z2 = z * z;
      return Math.exp(-z2 * z2 * z2);
    }
    case 'emg': {
      const s = impedance ? IMP_GAUSS_SIGMA * w : w;
      return emg(x, s, tauRatio * s);
    }
  }
}

export type ScalarKind = 'H' | 'A' | 'W';
export const SCALAR_KINDS: readonly ScalarKind[] = ['H', 'A', 'W'];

export interface PulseParameters {
  /** Peak value (raw, or above the baseline estimate when asked). */
  H: number;
  /** Integral above the baseline estimate over the pulse (time units × signal units). */
  A: number;
  /** Width in time units: A / height above baseline, or the full width at half maximum. */
  W: number;
}

/**
 * Height, area and width of one noisy pulse y[0..T) sampled every `dt` time units. The baseline is
 * estimated from the first and last two samples (the pre- and post-trigger samples an analyzer
 * keeps); the area integrates the contiguous run around the peak that stays above 10 % of the
 * peak height, so noise far from the pulse does not accumulate with T.
 */
export function pulseParameters(y: Float64Array, T: number, dt: number, width: 'area/height' | 'fwhm', heightAboveBaseline: boolean): PulseParameters {
  const bl = (y[0]! + y[1]! + y[T - 2]! + y[T - 1]!) / 4;
  let kMax = 0;
  for (let k = 1; k < T; k++) if (y[k]! > y[kMax]!) kMax = k;
  const peak = y[kMax]!;
  const h = peak - bl;
  let area = 0;
  if (h > 0) {
    const cut = bl + 0.1 * h;
    let lo = kMax;
    while (lo > 0 && y[lo - 1]! > cut) lo--;
    let hi = kMax;
    while (hi < T - 1 && y[hi + 1]! > cut) hi++;
    for (let k = lo; k <= hi; k++) area += y[k]! - bl;
    area *= dt;
  }
  let w = 0;
  if (h > 0) {
    if (width === 'area/height') w = area / h;
    else {
      // Half-maximum crossings, linearly interpolated between samples.
      const half = bl + 0.5 * h;
      let lo = kMax;
      while (lo > 0 && y[lo - 1]! > half) lo--;
      let hi = kMax;
      while (hi < T - 1 && y[hi + 1]! > half) hi++;
      const left = lo > 0 ? lo - (y[lo]! - half) / (y[lo]! - y[lo - 1]!) : lo;
      const right = hi < T - 1 ? hi + (y[hi]! - half) / (y[hi]! - y[hi + 1]!) : hi;
      w = (right - left) * dt;
    }
  }
  return { H: heightAboveBaseline ? h : peak, A: area, W: w };
}
