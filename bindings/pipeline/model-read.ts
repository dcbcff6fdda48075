// Field-by-field reading of a pipeline model file's metadata (model-file.ts decodePipeline): the
// 'meta' entry, the channel layout and the training-domain statistics. The checksum proves only
// that nobody altered the file after it was written, not that its writer was this library, so
// every field is read through ModelFileReader (bindings/io/model-meta.ts) with its type and range,
// unknown keys are refused (a misspelt field must not silently fall back to a default), and every
// error is a FormatError naming the file, the metadata key, the field and what was expected.
import type { ModelFileReader } from '../io/model-meta.js';
import { ROLES, SCALAR_PARAMS, type ChannelLayout } from './layout.js';
import { SHARE_KEYS, type DomainStats } from './quality.js';
import { CLASSES, RED_CLASSES, type PipelineMeta } from './types.js';

/** What pipeline metadata may declare: far above anything `train` writes (dims default 256,64,10;
 *  4 stage-1 clusters, 6 sub-clusters, 24 stage-2 components), far below what would let a small
 *  file ask for a large allocation before its tensors are checked. */
export const PIPELINE_LIMITS = {
  layers: 8, width: 4096, stage1K: 64, subK: 256, stage2K: 4096, levelK: 4096,
  /** Columns of a training file, and features the pipeline reads. */
  columns: 1 << 16,
  nameLength: 1024,
  /** Nesting depth of the free-form meta.options object. */
  optionsDepth: 8,
} as const;

const M = 'metadata meta';
const META_KEYS = ['name', 'species', 'features', 'classes', 'createdAt', 'version', 'trainedOn', 'options', 'quality'];

/** The object at `path`, which must have no keys but `allowed` (missing ones are caught by the field readers). */
export function onlyKeys(r: ModelFileReader, where: string, root: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  const o = r.obj(where, root, path);
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw r.error(`${where}${path ? ` field '${path}'` : ''}: unexpected key ${JSON.stringify(k).slice(0, 60)} (expected only ${allowed.join(', ')})`);
  }
  return o;
}

/** Whether `path` holds anything but nothing/null (optional fields). */
export function present(r: ModelFileReader, root: unknown, path: string): boolean {
  const v = r.at(root, path);
  return v !== undefined && v !== null;
}

/** An array of `values`, exactly these in this order (fixed class lists). */
export function exactly(r: ModelFileReader, where: string, root: unknown, path: string, values: readonly string[]): void {
  const v = r.at(root, path);
  if (!(Array.isArray(v) && v.length === values.length && v.every((x, i) => x === values[i]))) {
    throw r.error(`${where} field '${path}': expected ${JSON.stringify(values)}, found ${JSON.stringify(v ?? null).slice(0, 60)}`);
  }
}

/** An array of strings of length in [min, max]. */
function strArray(r: ModelFileReader, where: string, root: unknown, path: string, min: number, max: number): string[] {
  const v = r.at(root, path);
  if (!Array.isArray(v) || v.length < min || v.length > max) {
    throw r.error(`${where} field '${path}': expected an array of ${min === max ? min : `${min} to ${max}`} strings, found ${Array.isArray(v) ? `${v.length} elements` : JSON.stringify(v ?? null).slice(0, 60)}`);
  }
  v.forEach((_, i) => r.str(where, root, `${path}.${i}`, PIPELINE_LIMITS.nameLength));
  return v as string[];
}

/** A validated JSON subtree as ordinary objects (key order kept, so the model saves to the same
 *  bytes; a "__proto__" key stays an own property, as JSON.parse defines it). */
function plainCopy<T>(r: ModelFileReader, v: unknown, what: string): T {
  try {
    return JSON.parse(JSON.stringify(v)) as T;
  } catch {
    throw r.error(`${what} cannot be copied (too deeply nested)`);
  }
}

function depth(v: unknown, limit: number): number {
  // Iterative, so a deeply nested value cannot overflow the stack here.
  let max = 0;
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    max = Math.max(max, d + 1);
    if (max > limit) return max;
    for (const c of Object.values(x)) stack.push([c, d + 1]);
  }
  return max;
}

/** The 'meta' entry: names, feature count, class list, provenance and the training gate's result. */
export function readMeta(r: ModelFileReader, raw: unknown): PipelineMeta {
  const m = onlyKeys(r, M, raw, '', META_KEYS);
  r.str(M, m, 'name');
  if (r.at(m, 'species') !== undefined) r.str(M, m, 'species');
  r.int(M, m, 'features', 1, PIPELINE_LIMITS.columns);
  exactly(r, M, m, 'classes', CLASSES);
  r.str(M, m, 'createdAt');
  r.str(M, m, 'version');
  if (r.at(m, 'trainedOn') !== undefined) {
    onlyKeys(r, M, m, 'trainedOn', ['samples', 'cells']);
    r.int(M, m, 'trainedOn.samples', 0, Number.MAX_SAFE_INTEGER);
    r.int(M, m, 'trainedOn.cells', 0, Number.MAX_SAFE_INTEGER);
  }
  if (r.at(m, 'options') !== undefined) {
    // Free-form (the training options, for reports): an object of bounded depth.
    const o = r.obj(M, m, 'options');
    if (depth(o, PIPELINE_LIMITS.optionsDepth) > PIPELINE_LIMITS.optionsDepth) throw r.error(`${M} field 'options': nested deeper than ${PIPELINE_LIMITS.optionsDepth} levels`);
  }
  if (r.at(m, 'quality') !== undefined) readQuality(r, m);
  return plainCopy<PipelineMeta>(r, m, M);
}

/** meta.quality (quality.ts TrainingQuality): every share's fit, and `passed` = all fits passed. */
function readQuality(r: ModelFileReader, m: Record<string, unknown>): void {
  onlyKeys(r, M, m, 'quality', ['samples', 'fits', 'passed']);
  r.int(M, m, 'quality.samples', 1, Number.MAX_SAFE_INTEGER);
  onlyKeys(r, M, m, 'quality.fits', SHARE_KEYS);
  let all = true;
  for (const k of SHARE_KEYS) {
    const p = `quality.fits.${k}`;
    onlyKeys(r, M, m, p, ['rms', 'sd', 'maxAbs', 'r2', 'passed']);
    for (const f of ['rms', 'sd', 'maxAbs']) r.num(M, m, `${p}.${f}`, 0);
    if (r.at(m, `${p}.r2`) !== null) r.num(M, m, `${p}.r2`);
    all &&= r.bool(M, m, `${p}.passed`);
  }
  if (r.bool(M, m, 'quality.passed') !== all) throw r.error(`${M} field 'quality.passed': expected ${all} (whether every share's fit passed)`);
}

/**
 * architecture.layout (layout.ts ChannelLayout), checked for what classify relies on: the four
 * roles in order for waveform and scalar layouts, ≥ 4 time samples per waveform channel, scalar
 * parameters from SCALAR_PARAMS in order with the height first (pulse-features.ts reads it there),
 * every column among the feature names, and a width equal to meta.features (`F`).
 */
export function readLayout(r: ModelFileReader, A: string, arch: unknown, F: number): ChannelLayout {
  const { columns: maxCols } = PIPELINE_LIMITS;
  onlyKeys(r, A, arch, 'layout', ['kind', 'points', 'groups', 'featureNames', 'inputColumns']);
  const kind = r.oneOf(A, arch, 'layout.kind', ['waveform', 'scalar', 'matrix'] as const);
  const points = r.int(A, arch, 'layout.points', 0, kind === 'waveform' ? maxCols : 0);
  const names = r.at(arch, 'layout.featureNames') === null ? null : strArray(r, A, arch, 'layout.featureNames', 1, maxCols);
  const known = names ? new Set(names) : null;
  const nGroups = kind === 'matrix' ? 0 : ROLES.length;
  const groups = r.at(arch, 'layout.groups');
  if (!Array.isArray(groups) || groups.length !== nGroups) {
    throw r.error(`${A} field 'layout.groups': expected ${kind === 'matrix' ? 'no channel groups for a matrix layout' : `the ${ROLES.length} channels ${ROLES.join(', ')}`}, found ${Array.isArray(groups) ? `${groups.length}` : 'no array'}`);
  }
  let width = 0;
  for (let i = 0; i < nGroups; i++) {
    const p = `layout.groups.${i}`;
    onlyKeys(r, A, arch, p, kind === 'scalar' ? ['role', 'name', 'columns', 'params'] : ['role', 'name', 'columns']);
    r.oneOf(A, arch, `${p}.role`, [ROLES[i]!]);
    r.str(A, arch, `${p}.name`, PIPELINE_LIMITS.nameLength);
    const cols = kind === 'waveform' ? strArray(r, A, arch, `${p}.columns`, 4, maxCols) : strArray(r, A, arch, `${p}.columns`, 1, SCALAR_PARAMS.length);
    if (kind === 'waveform' && points !== 0 && cols.length !== points) throw r.error(`${A} field '${p}.columns': expected ${points} time samples (layout.points), found ${cols.length}`);
    if (kind === 'scalar') {
      const params = strArray(r, A, arch, `${p}.params`, cols.length, cols.length);
      const order = params.map((x) => (SCALAR_PARAMS as readonly string[]).indexOf(x));
      if (order[0] !== 0 || order.some((o, j) => j > 0 && !(o > order[j - 1]!))) {
        throw r.error(`${A} field '${p}.params': expected distinct parameters of ${SCALAR_PARAMS.join(', ')} in that order, the height H first, found ${JSON.stringify(params).slice(0, 60)}`);
      }
    }
    const missing = known && cols.find((c) => !known.has(c));
    if (missing) throw r.error(`${A} field '${p}.columns': column ${JSON.stringify(missing).slice(0, 60)} is not among layout.featureNames`);
    width += cols.length;
  }
  if (kind === 'matrix') width = names ? names.length : F;
  if (width !== F) throw r.error(`${A} field 'layout': describes ${width} columns, but meta.features is ${F}`);
  const input = names ? names.length : width;
  r.int(A, arch, 'layout.inputColumns', input, input);
  return plainCopy<ChannelLayout>(r, r.at(arch, 'layout'), `${A} field 'layout'`);
}

/** architecture.domain (quality.ts DomainStats) for `P` pulse-summary columns. */
export function readDomain(r: ModelFileReader, A: string, arch: unknown, P: number): DomainStats {
  onlyKeys(r, A, arch, 'domain', ['refMin', 'refMax', 'eventsMedian', 'summaryMedian', 'summarySpread', 'logDensityCut']);
  for (const ref of ['refMin', 'refMax']) {
    onlyKeys(r, A, arch, `domain.${ref}`, SHARE_KEYS);
    for (const k of SHARE_KEYS) r.num(A, arch, `domain.${ref}.${k}`);
  }
  r.num(A, arch, 'domain.eventsMedian', 0);
  r.numArray(A, arch, 'domain.summaryMedian', { minLength: P, maxLength: P });
  r.numArray(A, arch, 'domain.summarySpread', { minLength: P, maxLength: P, min: 0 });
  r.num(A, arch, 'domain.logDensityCut');
  return plainCopy<DomainStats>(r, r.at(arch, 'domain'), `${A} field 'domain'`);
}

/** stage1's fields: clusters, Student-t α, which clusters are platelets, and the platelet side's
 *  and the red side's platelet splits (`side`, `redSide`; null when absent). Files written before
 *  the platelet side's split hold `sub`, its sub-clusters (model-file.ts reads them as a split).
 *  `P`: the layout's pulse-summary columns. */
export function readStage1Fields(r: ModelFileReader, A: string, arch: unknown, P: number) {
  const L = PIPELINE_LIMITS;
  onlyKeys(r, A, arch, 'stage1', ['k', 'alpha', 'pltMembers', 'sub', 'side', 'redSide']);
  const k1 = r.int(A, arch, 'stage1.k', 1, L.stage1K);
  const alpha = r.num(A, arch, 'stage1.alpha', 0, 1e6, true);
  const pltMembers = r.boolArray(A, arch, 'stage1.pltMembers', k1).slice();
  let sub: { k: number; members: boolean[]; sse: number } | null = null;
  if (present(r, arch, 'stage1.sub')) {
    onlyKeys(r, A, arch, 'stage1.sub', ['k', 'members', 'sse']);
    const k = r.int(A, arch, 'stage1.sub.k', 1, L.subK);
    sub = { k, members: r.boolArray(A, arch, 'stage1.sub.members', k).slice(), sse: r.num(A, arch, 'stage1.sub.sse', 0) };
  }
  if (sub && present(r, arch, 'stage1.side')) throw r.error(`${A} fields 'stage1.sub' and 'stage1.side': expected one of them`);
  const side = readSplitFields(r, A, arch, 'stage1.side', P);
  const redSide = readSplitFields(r, A, arch, 'stage1.redSide', P);
  if (redSide && redSide.input !== 'pulse') throw r.error(`${A} field 'stage1.redSide.input': expected "pulse"`);
  return { k1, alpha, pltMembers, sub, side, redSide };
}

/** A platelet split's fields (platelet-side.ts), or null when the field is absent or null. */
function readSplitFields(r: ModelFileReader, A: string, arch: unknown, key: string, P: number) {
  if (!present(r, arch, key)) return null;
  onlyKeys(r, A, arch, key, ['k', 'width', 'input', 'prior', 'reestimate', 'fit', 'rotated']);
  const input = r.at(arch, `${key}.input`);
  if (input !== 'pulse' && input !== 'embedding') throw r.error(`${A} field '${key}.input': expected "pulse" or "embedding"`);
  if (input === 'pulse' && P === 0) throw r.error(`${A} field '${key}.input': the layout has no pulse summaries to read`);
  const width = input === 'pulse' ? r.int(A, arch, `${key}.width`, P, P) : r.int(A, arch, `${key}.width`, 1, PIPELINE_LIMITS.width);
  return {
    k: r.int(A, arch, `${key}.k`, 1, PIPELINE_LIMITS.subK), width, input: input as 'pulse' | 'embedding',
    prior: r.numArray(A, arch, `${key}.prior`, { minLength: 2, maxLength: 2, min: 0, max: 1 }).slice(),
    reestimate: r.bool(A, arch, `${key}.reestimate`), fit: r.num(A, arch, `${key}.fit`, 0), rotated: r.bool(A, arch, `${key}.rotated`),
  };
}

/** stage2's fields: VaDE components, class priors, the retic count scale and the two levels'
 *  sizes, priors and reading (null levels for a layout without pulse summaries). */
export function readStage2Fields(r: ModelFileReader, A: string, arch: unknown, layoutKind: string, roles: readonly string[]) {
  const L = PIPELINE_LIMITS;
  onlyKeys(r, A, arch, 'stage2', ['k', 'classes', 'thetaPrior', 'reticScale', 'levels']);
  const K = r.int(A, arch, 'stage2.k', 1, L.stage2K);
  exactly(r, A, arch, 'stage2.classes', RED_CLASSES);
  const thetaPrior = r.numArray(A, arch, 'stage2.thetaPrior', { minLength: RED_CLASSES.length, maxLength: RED_CLASSES.length, min: 0, max: 1 }).slice();
  // Files written before the reticulocyte count scale existed count as unscaled (1).
  const reticScale = r.at(arch, 'stage2.reticScale') === undefined ? 1 : r.num(A, arch, 'stage2.reticScale', 0, 1e6, true);
  let lv: { ka: number; kb: number; priorA: number[]; priorB: number[]; centred: boolean; rotated: boolean } | null = null;
  if (present(r, arch, 'stage2.levels')) {
    if (roles.length === 0) throw r.error(`${A} field 'stage2.levels': a ${layoutKind} layout has no pulse summaries for stage 2's levels (expected null)`);
    onlyKeys(r, A, arch, 'stage2.levels', ['roles', 'ka', 'kb', 'priorA', 'priorB', 'centred', 'rotated']);
    // The roles follow from the layout; stored to catch a file whose layout was edited alone.
    exactly(r, A, arch, 'stage2.levels.roles', roles);
    const two = { minLength: 2, maxLength: 2, min: 0, max: 1 };
    lv = {
      ka: r.int(A, arch, 'stage2.levels.ka', 1, L.levelK), kb: r.int(A, arch, 'stage2.levels.kb', 1, L.levelK),
      priorA: r.numArray(A, arch, 'stage2.levels.priorA', two).slice(), priorB: r.numArray(A, arch, 'stage2.levels.priorB', two).slice(),
      // Files written before per-sample centring read their summaries as they are.
      centred: present(r, arch, 'stage2.levels.centred') ? r.bool(A, arch, 'stage2.levels.centred') : false,
      rotated: present(r, arch, 'stage2.levels.rotated') ? r.bool(A, arch, 'stage2.levels.rotated') : false,
    };
  }
  return { K, thetaPrior, reticScale, lv };
}
