// The one compute interface every model talks to. Three implementations exist:
//   reference (float64 TypeScript, the oracle), wasm (AssemblyScript SIMD128), webgpu (WGSL).
// An op has the same name here, in assembly/ and in kernels/, so its three versions are easy to find.
//
// Conventions (all backends):
// - Tensors are device-resident, row-major, float32 ('f32') or int32 ('i32'), rank 1 or 2.
// - Every op writes into output tensors the caller allocated; nothing is allocated inside an op.
//   This lets tests poison outputs with NaN and lets models reuse buffers across steps.
// - Ops are enqueued in order; `download` is the only way to read results and is async (WebGPU
//   needs it). CPU backends run ops eagerly.
// - Nothing is broadcast silently: every op checks ranks, shapes and dtypes (see checks.ts) and
//   throws a ShapeError naming the op and the shapes it got.
// - "Backward" ops overwrite their gradient outputs (they do not accumulate) unless the option
//   `accumulate: true` is given.
// - Scalar results (losses) are written to a 1-element f32 tensor so they stay on the device.

export type DType = 'f32' | 'i32';
export type Activation = 'identity' | 'relu' | 'sigmoid' | 'tanh';
export const ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'sigmoid', 'tanh'];

/** Opaque handle to device memory. Backends subclass or attach their own fields. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements (product of shape). */
  readonly size: number;
  /** Which backend owns it (its `name`); ops refuse tensors of another backend. */
  readonly backendName: string;
  /** Set by dispose(); every op refuses a disposed tensor. */
  readonly disposed: boolean;
  /** The backend instance that made it, where two instances of one backend cannot share memory
   *  (two wasm memories); ops then refuse a tensor of another instance. */
  readonly owner?: object;
}

export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : Int32Array;

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number; // default 1
  beta?: number; // default 0 (C is overwritten; with beta=0 NaN in C must not propagate)
}

/** Unset fields take ADAM_DEFAULTS. */
export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** Decoupled, AdamW style: p -= lr*wd*p. */
  weightDecay?: number;
}

/** Unset fields take SGD_DEFAULTS. */
export interface SgdOptions {
  lr: number;
  momentum?: number;
}

/** Kingma & Ba's β1, β2 and ε, and no weight decay (plain Adam unless asked). */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } as const;
/** Heavy-ball momentum 0.9: DEC's SGD setting (Xie et al. 2016). */
export const SGD_DEFAULTS = { momentum: 0.9 } as const;

/** AdamOptions with the defaults applied: every backend resolves them here, so an unset option
 *  means the same on each. */
export function resolveAdam(o: AdamOptions): Required<AdamOptions> {
  const d = ADAM_DEFAULTS;
  return { lr: o.lr, step: o.step, beta1: o.beta1 ?? d.beta1, beta2: o.beta2 ?? d.beta2, eps: o.eps ?? d.eps, weightDecay: o.weightDecay ?? d.weightDecay };
}

export function resolveSgd(o: SgdOptions): Required<SgdOptions> {
  return { lr: o.lr, momentum: o.momentum ?? SGD_DEFAULTS.momentum };
}

export interface BackwardOptions {
  /** Add into the gradient outputs instead of overwriting them. */
  accumulate?: boolean;
}

/** What a backend can do; models and tests ask before they use an optional member. */
export interface BackendInfo {
  name: 'reference' | 'wasm' | 'webgpu' | string;
  /** Human-readable device, e.g. "WASM SIMD128 + relaxed-simd, 2 threads" or the GPU adapter. */
  device: string;
  /** Number of worker threads a CPU backend uses (1 if none). */
  threads?: number;
}

export interface Backend {
  readonly name: string;
  info(): BackendInfo;
  /** Whether this backend implements `op` (a method name of OpSet). */
  supportsOp(op: keyof OpSet): boolean;

  // ---- memory ----------------------------------------------------------------------------
  /** Zero-filled tensor. */
  create(shape: readonly number[], dtype?: DType): Tensor;
  /** Copy host data into an existing tensor (length must equal size; dtype must match). */
  upload(t: Tensor, data: Float32Array | Int32Array | Float64Array | readonly number[]): void;
  /** Read a tensor back to the host. */
  download(t: Tensor): Promise<Float32Array | Int32Array>;
  dispose(t: Tensor): void;
  /** Wait for all enqueued work (no-op on CPU backends). */
  sync(): Promise<void>;
  /** Release everything (device, worker threads). */
  destroy(): void;
}

/**
 * Every op. Shapes use N = rows (cells in a batch), D = features, K = clusters, S = samples.
 * Each op lists its shapes in its comment; the checks in checks.ts enforce exactly these.
 */
export interface OpSet {
  // ---- elementwise / data movement --------------------------------------------------------
  /** out[i] = value. out: any f32 or i32 tensor. */
  fill(out: Tensor, value: number): void;
  /** y = alpha*x + beta*y. x, y: same shape, f32. (beta=0 must overwrite even NaN in y) */
  axpby(x: Tensor, y: Tensor, alpha: number, beta: number): void;
  /** out[r,:] = src[idx[r],:]. src [N,D] f32, idx [B] i32 (each in 0..N-1, checked on CPU), out [B,D]. */
  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void;
  /** Input normalisation of analyzer signals (pipeline/preprocess.ts):
   *  out[i,j] = (asinh(x[i,j] / scale) − mean[j]) / std[j]. x, out [N,D]; mean, std [D]; scale > 0.
   *  (std is never 0: the pipeline stores 1 for a constant feature.) */
  asinhStandardize(x: Tensor, mean: Tensor, std: Tensor, scale: number, out: Tensor): void;
  /** Pulse summaries of analyzer events (pipeline/pulse-features.ts): each row of x is C channel
   *  blocks of T time samples (D = C·T), C = out's columns / 2. Per row i and channel c, with
   *  peak = max_t x[i, c·T + t] and area = Σ_t max(x[i, c·T + t], 0):
   *  out[i, 2c] = asinh(peak / scale), out[i, 2c + 1] = area / max(peak, scale).
   *  x [N, C·T], out [N, 2C]; scale > 0. */
  pulseSummaries(x: Tensor, scale: number, out: Tensor): void;

  // ---- dense layers ---------------------------------------------------------------------
  /** C = alpha*op(A)*op(B) + beta*C. op(A) [M,K], op(B) [K,N], C [M,N]. */
  gemm(a: Tensor, b: Tensor, c: Tensor, opts?: GemmOptions): void;
  /** out = act(x + bias) row-wise. x [N,D], bias [D], out [N,D] (out may be x: in place). */
  biasAct(x: Tensor, bias: Tensor, act: Activation, out: Tensor): void;
  /** A dense layer with int8 weights (inference only): out = act((Σ_i qx_ri qw_oi) · xs_r · ws_o + bias_o),
   *  each product and the bias added in f32 in that order, the integer sum exact in i32. The input is
   *  quantised per row inside the op: xs_r = max_i |x_ri| / 127, qx_ri = x_ri · (127 / max) rounded
   *  to nearest (ties to even) and clamped to ±127; an all-zero row gives qx = 0, xs = 0. x [N, IN]
   *  f32; wq [OUT, ⌈IN/4⌉] i32, each word four int8 weights of output o, byte j (little-endian) the
   *  weight of input 4t + j, padding bytes 0 (packInt8Rows); ws, bias [OUT] f32; out [N, OUT] f32. */
  denseInt8(x: Tensor, wq: Tensor, ws: Tensor, bias: Tensor, act: Activation, out: Tensor): void;
  /** dx = dy * act'(·), expressed through the activation's OUTPUT y (relu: y>0, sigmoid: y(1-y),
   *  tanh: 1-y², identity: 1). dy, y, dx [N,D] (dx may be dy: in place). */
  biasActBackward(dy: Tensor, y: Tensor, act: Activation, dx: Tensor): void;
  /** out[j] = Σ_i x[i,j] (+ out[j] if accumulate). x [N,D], out [D]. The bias gradient. */
  colSum(x: Tensor, out: Tensor, opts?: BackwardOptions): void;

  // ---- reconstruction losses ------------------------------------------------------------
  /** loss[0] = (1/(N*D)) Σ (pred-target)². pred, target [N,D]; loss [1]. */
  mseLoss(pred: Tensor, target: Tensor, loss: Tensor): void;
  /** dpred = scale * 2 (pred-target)/(N*D). */
  mseLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale?: number): void;
  /** Binary cross-entropy on logits (sigmoid applied inside, numerically stable):
   *  loss[0] = (1/N) Σ_i Σ_j [softplus(x) - t*x]  (sum over features, mean over rows).
   *  logits, target [N,D] (target in [0,1]); loss [1]. */
  bceLogitsLoss(logits: Tensor, target: Tensor, loss: Tensor): void;
  /** dlogits = scale * (sigmoid(x) - t)/N. */
  bceLogitsLossBackward(logits: Tensor, target: Tensor, dlogits: Tensor, scale?: number): void;

  // ---- optimisers (in place on param and state) ------------------------------------------
  /** Adam with bias correction. param, grad, m, v: same shape f32. */
  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamOptions): void;
  /** vel = momentum*vel + grad; param -= lr*vel. */
  sgdUpdate(param: Tensor, grad: Tensor, vel: Tensor, opts: SgdOptions): void;

  // ---- DEC / IDEC (Xie 2016, Guo 2017) -------------------------------------------------
  /** Student-t soft assignment: q_ij ∝ (1+‖z_i−μ_j‖²/α)^(−(α+1)/2), rows normalised.
   *  z [N,D], mu [K,D], q [N,K]. */
  softAssign(z: Tensor, mu: Tensor, q: Tensor, alpha: number): void;
  /** Target distribution p_ij = (q_ij²/f_j) / Σ_j' (q_ij'²/f_j'), f = column sums of q over the
   *  WHOLE data set (computed by colSum, possibly accumulated over chunks). q [N,K], f [K], p [N,K]. */
  targetDistribution(q: Tensor, f: Tensor, p: Tensor): void;
  /** loss[0] = (1/N) Σ_ij p_ij log(p_ij/q_ij) (terms with p_ij=0 are 0). p, q [N,K]; loss [1]. */
  klDivLoss(p: Tensor, q: Tensor, loss: Tensor): void;
  /** Gradient of scale*(1/N)*KL(P‖Q) w.r.t. z and μ, q from softAssign(z, mu, alpha), p constant:
   *  dz_i = scale/N * (α+1)/α Σ_j (1+‖z_i−μ_j‖²/α)^−1 (p_ij − q_ij)(z_i − μ_j); dmu_j = −Σ_i (same terms).
   *  z [N,D], mu [K,D], p, q [N,K], dz [N,D], dmu [K,D]. */
  softAssignBackward(z: Tensor, mu: Tensor, p: Tensor, q: Tensor, alpha: number, dz: Tensor, dmu: Tensor,
    scale?: number, opts?: BackwardOptions): void;

  // ---- VaDE (Jiang 2017) ------------------------------------------------------------------
  /** Standard-normal noise from Philox4x32-10 keyed by (seed, stream); element i uses counter
   *  (offset + i). The uniforms are bit-identical across backends (integer arithmetic); the normals
   *  (Box–Muller) agree to f32 rounding of log/cos. seed, stream, offset: integers in [0, 2^32). out: f32.
   *  Exact recipe (every backend): e = (offset + i) mod 2^32; (r0,r1,r2,r3) = Philox4x32-10 of
   *  counter (e, 0, 0, 0) with key (seed, stream); u1 = ((r0 >>> 8) + 0.5) * 2^-24,
   *  u2 = (r1 >>> 8) * 2^-24; out[i] = sqrt(−2 ln u1) * cos(2π u2). */
  philoxNormal(out: Tensor, seed: number, stream: number, offset: number): void;
  /** z = mu + exp(logVar/2) * eps. mu, logVar, eps, z [N,D]. */
  reparameterize(mu: Tensor, logVar: Tensor, eps: Tensor, z: Tensor): void;
  /** dmu = dz; dlogVar = dz * eps * exp(logVar/2) / 2 (accumulate option adds). */
  reparameterizeBackward(dz: Tensor, logVar: Tensor, eps: Tensor, dmu: Tensor, dlogVar: Tensor,
    opts?: BackwardOptions): void;
  /** log γ_ic = log π_c + log N(z_i | μ_c, diag σ²_c) − logsumexp_c'(…), π = softmax(piLogits).
   *  z [N,D], piLogits [K], muC [K,D], logVarC [K,D], logResp [N,K]. */
  gmmLogResp(z: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, logResp: Tensor): void;
  /** The closed-form KL part of the negative VaDE ELBO (Jiang 2017 eq. 12, L=1), mean over rows,
   *  with γ given (treated as constant, i.e. the E-step):
   *    loss = (1/N) Σ_i [ ½ Σ_c γ_ic Σ_d (logσ²_cd + σ̃²_id/σ²_cd + (μ̃_id−μ_cd)²/σ²_cd)
   *                       − Σ_c γ_ic (log π_c − log γ_ic) − ½ Σ_d (1 + log σ̃²_id) ]
   *  muEnc, logVarEnc [N,D], gamma [N,K] (probabilities), piLogits [K], muC, logVarC [K,D]. */
  vadeKlLoss(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor,
    logVarC: Tensor, loss: Tensor): void;
  /** Gradients of scale*vadeKlLoss w.r.t. muEnc, logVarEnc, piLogits, muC, logVarC (γ constant). */
  vadeKlLossBackward(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor,
    logVarC: Tensor, dMuEnc: Tensor, dLogVarEnc: Tensor, dPiLogits: Tensor, dMuC: Tensor,
    dLogVarC: Tensor, scale?: number, opts?: BackwardOptions): void;

  // ---- class mixtures with per-sample proportions (pipeline/em-known.ts) -------------------
  // Components shared by classes: p(z | c) = Σ_k ρ_ck N(z | μ_k, diag σ²_k), each sample s with its
  // own class prior. One EM iteration is mixtureLogLik → mixturePosteriors (once or a few times,
  // while the host balances the priors) → mixtureStats; the host finishes the M-step from the sums.
  /** logDens_ik = log N(z_i | μ_k, diag e^{logVar_k}) = −½ Σ_d (log 2π + logVar_kd + (z_id − μ_kd)² e^{−logVar_kd});
   *  classLogLik_ic = log Σ_k ρ_ck exp(logDens_ik) (terms with ρ_ck = 0 left out; −∞ only if every
   *  ρ_ck of the class is 0). z [N,D], mu, logVar [K,D], rho [C,K] (≥ 0), logDens [N,K], classLogLik [N,C]. */
  mixtureLogLik(z: Tensor, mu: Tensor, logVar: Tensor, rho: Tensor, logDens: Tensor, classLogLik: Tensor): void;
  /** Class posteriors under each row's sample prior: with a_ic = classLogLik_ic + logPrior[s_i, c] and
   *  l_i = logsumexp_c a_ic, post_ic = exp(a_ic − l_i); colSums[s, c] = Σ_{i: s_i = s} post_ic;
   *  sampleLogLik[s] = Σ_{i: s_i = s} l_i (0 for a sample without rows). classLogLik [N,C],
   *  sampleOf [N] i32 (each in 0..S−1, checked on CPU), logPrior [S,C], post [N,C], colSums [S,C], sampleLogLik [S]. */
  mixturePosteriors(classLogLik: Tensor, sampleOf: Tensor, logPrior: Tensor, post: Tensor, colSums: Tensor, sampleLogLik: Tensor): void;
  /** The M-step's sufficient statistics. With g_ick = post_ic ρ_ck exp(logDens_ik − classLogLik_ic)
   *  (the share of row i that class c gives component k; 0 where ρ_ck or post_ic is 0) and
   *  r_ik = Σ_c g_ick: classWeights[c,k] = Σ_i g_ick, sum1[k,d] = Σ_i r_ik (z_id − center_kd),
   *  sum2[k,d] = Σ_i r_ik (z_id − center_kd)². Sums about a center near the new mean (the current μ)
   *  keep the variance Σ r (z − μ)² / Σ r free of the cancellation the raw second moment suffers in f32.
   *  z [N,D], logDens [N,K], classLogLik, post [N,C], rho [C,K], center [K,D], classWeights [C,K], sum1, sum2 [K,D]. */
  mixtureStats(z: Tensor, logDens: Tensor, classLogLik: Tensor, post: Tensor, rho: Tensor, center: Tensor,
    classWeights: Tensor, sum1: Tensor, sum2: Tensor): void;

  // ---- k-means, classification helpers ------------------------------------------------------
  /** labels[i] = argmin_j ‖x_i−c_j‖², minDist[i] = that squared distance.
   *  x [N,D], centroids [K,D], labels [N] i32, minDist [N] f32. */
  kmeansAssign(x: Tensor, centroids: Tensor, labels: Tensor, minDist: Tensor): void;
  /** sums[j,:] (+)= Σ_{i: labels_i=j} x_i; counts[j] (+)= #{i: labels_i=j}.
   *  x [N,D], labels [N] i32, sums [K,D] f32, counts [K] f32. accumulate adds to existing. */
  kmeansUpdate(x: Tensor, labels: Tensor, sums: Tensor, counts: Tensor, opts?: BackwardOptions): void;
  /** out[i] = argmax_j x[i,j] (first on ties). x [N,K], out [N] i32. */
  argmax(x: Tensor, out: Tensor): void;
  /** Row softmax (max-subtracted). x, out [N,K]. */
  softmax(x: Tensor, out: Tensor): void;
  /** dx_ij = y_ij (dy_ij − Σ_k dy_ik y_ik). y, dy, dx [N,K]. */
  softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor): void;
  /** Label-proportion loss: loss[0] = (1/S) Σ_s −Σ_k t_sk log(max(p_sk, 1e-12)).
   *  pred, target [S,K] (rows are proportion vectors); loss [1]. */
  proportionXentLoss(pred: Tensor, target: Tensor, loss: Tensor): void;
  /** dpred_sk = −scale * t_sk / (S * max(p_sk, 1e-12)). */
  proportionXentLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale?: number): void;
}

export type ComputeBackend = Backend & OpSet;

export const OP_NAMES: readonly (keyof OpSet)[] = [
  'fill', 'axpby', 'gatherRows', 'asinhStandardize', 'pulseSummaries',
  'gemm', 'biasAct', 'denseInt8', 'biasActBackward', 'colSum',
  'mseLoss', 'mseLossBackward', 'bceLogitsLoss', 'bceLogitsLossBackward',
  'adamUpdate', 'sgdUpdate',
  'softAssign', 'targetDistribution', 'klDivLoss', 'softAssignBackward',
  'philoxNormal', 'reparameterize', 'reparameterizeBackward', 'gmmLogResp', 'vadeKlLoss',
  'vadeKlLossBackward',
  'mixtureLogLik', 'mixturePosteriors', 'mixtureStats',
  'kmeansAssign', 'kmeansUpdate', 'argmax', 'softmax', 'softmaxBackward',
  'proportionXentLoss', 'proportionXentLossBackward',
];
