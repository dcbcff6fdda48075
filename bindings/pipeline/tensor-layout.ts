// The pipeline model file's tensors, declared once: every name, and every shape as a function of
// the architecture fields. Writing (model-file.ts encodePipeline) checks what it is about to write
// against this layout (models/specs.ts layoutTensors), and reading checks the file against it
// before anything is allocated, so a tensor the writer adds or renames without the reader (or the
// other way round) fails at once.

/** The architecture fields the tensor shapes follow from. */
export interface LayoutFields {
  /** Input features (columns of a sample). */
  features: number;
  /** Encoder widths of both stages (their last entry is the embedding width). */
  dims: number[];
  /** Stage 1's cluster count. */
  k1: number;
  /** Files written before the platelet side's mixture: its sub-clusters over the embedding. */
  sub: { k: number } | null;
  side: SplitShape | null;
  redSide: SplitShape | null;
  /** Stage 2's VaDE mixture components. */
  k2: number;
  /** Stage 2's classes. */
  classes2: number;
  levels: { summaries: number; ka: number; kb: number; widthA: number; widthB: number; rotated: boolean } | null;
  pca: boolean;
}

/** What a stage-1 split's tensors follow from. */
export interface SplitShape {
  k: number;
  width: number;
  rotated: boolean;
}

const mixtureNames = (prefix: string) => ({ mu: `${prefix}.mu`, logVar: `${prefix}.log_var`, rho: `${prefix}.rho` });

/** Every tensor name of the file. */
export const TENSORS = {
  pre: { offset: 'pre.offset', scale: 'pre.scale', mean: 'pre.mean', std: 'pre.std' },
  encoder: (stage: 'stage1' | 'stage2', layer: number) => ({ weight: `${stage}.encoder.${layer}.weight`, bias: `${stage}.encoder.${layer}.bias` }),
  centres: 'stage1.cluster_centers',
  sub: mixtureNames('stage1.sub'),
  split: (which: 'side' | 'redSide') => {
    const prefix = which === 'side' ? 'stage1.side' : 'stage1.red_side';
    return { ...mixtureNames(prefix), mean: `${prefix}.mean`, std: `${prefix}.std`, rotation: `${prefix}.rotation` };
  },
  gmm: mixtureNames('stage2.gmm'),
  pulse: { mean: 'stage2.pulse.mean', std: 'stage2.pulse.std' },
  level: (which: 'a' | 'b') => mixtureNames(`stage2.${which}`),
  levelARotation: 'stage2.levels.a_rotation',
  pca: { mean: 'pca.mean', components: 'pca.components' },
} as const;

/** Name → shape of every tensor a file with these fields holds. */
export function tensorLayout(f: LayoutFields): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const d = f.dims[f.dims.length - 1]!;
  for (const name of Object.values(TENSORS.pre)) m.set(name, [f.features]);
  const widths = [f.features, ...f.dims];
  for (const stage of ['stage1', 'stage2'] as const) {
    f.dims.forEach((out, l) => {
      const n = TENSORS.encoder(stage, l);
      m.set(n.weight, [out, widths[l]!]).set(n.bias, [out]);
    });
  }
  m.set(TENSORS.centres, [f.k1, d]);
  if (f.sub) m.set(TENSORS.sub.mu, [f.sub.k, d]).set(TENSORS.sub.logVar, [f.sub.k, d]).set(TENSORS.sub.rho, [f.sub.k]);
  for (const which of ['side', 'redSide'] as const) {
    const s = f[which];
    if (!s) continue;
    const n = TENSORS.split(which);
    m.set(n.mu, [s.k, s.width]).set(n.logVar, [s.k, s.width]).set(n.rho, [2, s.k]).set(n.mean, [s.width]).set(n.std, [s.width]);
    if (s.rotated) m.set(n.rotation, [s.width, s.width]);
  }
  m.set(TENSORS.gmm.mu, [f.k2, d]).set(TENSORS.gmm.logVar, [f.k2, d]).set(TENSORS.gmm.rho, [f.classes2, f.k2]);
  const lv = f.levels;
  if (lv) {
    m.set(TENSORS.pulse.mean, [lv.summaries]).set(TENSORS.pulse.std, [lv.summaries]);
    for (const [which, k, w] of [['a', lv.ka, lv.widthA], ['b', lv.kb, lv.widthB]] as const) {
      const n = TENSORS.level(which);
      m.set(n.mu, [k, w]).set(n.logVar, [k, w]).set(n.rho, [2, k]);
    }
    if (lv.rotated) m.set(TENSORS.levelARotation, [lv.widthA, lv.widthA]);
  }
  if (f.pca) m.set(TENSORS.pca.mean, [2 * d]).set(TENSORS.pca.components, [2, 2 * d]);
  return m;
}
