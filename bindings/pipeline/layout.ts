// Where an analyzer's channels are in a sample's columns, found by name.
//
// The pipeline reasons about four measurement roles: forward scatter (FSC), side scatter (SSC),
// RNA-stain fluorescence (FL) and impedance (IMP, the Coulter volume). Instruments name and order
// them differently and export either whole pulses (T time samples per channel, `FSC_t00…`) or
// per-event scalar parameters (`FSC-H`, `FSC-W`, `IMP-A`, …). The layout maps every role to its
// columns once, at training, from the feature names (FCS $PnN, a CSV header) and an optional
// explicit mapping (`--channels FSC=FS,SSC=SS,FL=FL1,IMP=RES`); it is stored in the model, and at
// classify time a sample's columns are matched by name, so a file with the same channels in
// another order is read correctly and one that lacks a channel is refused with its name.
//
// Without names (NPY, a headerless CSV) a row of 4·T values is read as the four roles' blocks in
// the order FSC, SSC, FL, IMP (the built-in simulator's layout); anything else is a plain matrix
// with no roles, and stage 2 then decides on its embedding alone.

export const ROLES = ['FSC', 'SSC', 'FL', 'IMP'] as const;
export type Role = (typeof ROLES)[number];

/** Channel names (upper case) that mean each role when no mapping is given. */
const ALIASES: Record<Role, string[]> = {
  FSC: ['FSC', 'FS', 'FWD', 'FWS', 'FORWARD', 'FSCATTER', 'LS', 'LALS'],
  SSC: ['SSC', 'SS', 'SIDE', 'SIDESCATTER', 'SSCATTER', 'HALS', 'WS'],
  FL: ['FL', 'FL1', 'FLR', 'FLUO', 'FLUORESCENCE', 'RNA', 'SFL', 'FL-RNA'],
  IMP: ['IMP', 'RES', 'DC', 'IMPEDANCE', 'VOL', 'VOLUME', 'RF', 'EV'],
};

/** Scalar parameter suffixes, in the order the pipeline keeps them inside a role. */
export const SCALAR_PARAMS = ['H', 'A', 'W'] as const;
const PARAM_ALIASES: Record<string, (typeof SCALAR_PARAMS)[number]> = {
  H: 'H', HEIGHT: 'H', PEAK: 'H', P: 'H', MAX: 'H', A: 'A', AREA: 'A', INT: 'A', INTEGRAL: 'A', W: 'W', WIDTH: 'W', FWHM: 'W', TOF: 'W',
};

export interface ChannelGroup {
  role: Role;
  /** The channel's name in the training files. */
  name: string;
  /** Column names, in the pipeline's order: time order (waveform) or SCALAR_PARAMS order (scalar). */
  columns: string[];
  /** For scalar layouts: the parameter of each column (H, A or W). */
  params?: string[];
}

export interface ChannelLayout {
  kind: 'waveform' | 'scalar' | 'matrix';
  /** Time samples per channel (waveform) when every channel has the same number, else 0 (each
   *  group's columns say how many it has). */
  points: number;
  /** FSC, SSC, FL, IMP in that order (empty for 'matrix'). */
  groups: ChannelGroup[];
  /** The training files' feature names, or null when they had none. */
  featureNames: string[] | null;
  /** Columns of the training files (what an unnamed sample must have). */
  inputColumns: number;
}

export type ChannelMapping = Partial<Record<Role, string>>;

export class LayoutError extends Error {}

/** Parses `FSC=FS,SSC=SS,FL=FL1,IMP=RES` (roles case-insensitive). */
export function parseChannelMapping(text: string): ChannelMapping {
  const out: ChannelMapping = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const role = part.slice(0, eq).trim().toUpperCase() as Role;
    const name = part.slice(eq + 1).trim();
    if (eq < 1 || !name) throw new LayoutError(`channel mapping '${part}': expected ROLE=NAME (e.g. FSC=FS)`);
    if (!ROLES.includes(role)) throw new LayoutError(`channel mapping '${part}': role must be one of ${ROLES.join(', ')}`);
    if (out[role]) throw new LayoutError(`channel mapping names ${role} twice`);
    out[role] = name;
  }
  return out;
}

const WAVE = /^(.+?)[_\-. ]?t(\d+)$/i;
const SCALAR = /^(.+?)[_\-. ]([A-Za-z]+)$/;

/** Splits a column name into (channel, time index) or (channel, parameter); null when neither. */
function splitName(name: string): { channel: string; t?: number; param?: string } | null {
  const w = WAVE.exec(name.trim());
  if (w) return { channel: w[1], t: Number(w[2]) };
  const s = SCALAR.exec(name.trim());
  if (s && PARAM_ALIASES[s[2].toUpperCase()]) return { channel: s[1], param: PARAM_ALIASES[s[2].toUpperCase()] };
  return null;
}

function roleOf(channel: string, mapping: ChannelMapping): Role | null {
  const up = channel.toUpperCase();
  for (const r of ROLES) if (mapping[r] !== undefined && mapping[r]!.toUpperCase() === up) return r;
  for (const r of ROLES) if (mapping[r] === undefined && ALIASES[r].includes(up)) return r;
  return null;
}

/** The layout of a training cohort's columns (names may be null). */
export function detectLayout(names: string[] | null, cols: number, mapping: ChannelMapping = {}): ChannelLayout {
  const mapped = Object.keys(mapping).length > 0;
  if (!names) {
    if (mapped) throw new LayoutError('--channels needs files with column names (FCS $PnN or a CSV header)');
    if (cols % 4 === 0 && cols >= 16) {
      const T = cols / 4;
      const groups = ROLES.map((role, r) => ({ role, name: role, columns: Array.from({ length: T }, (_, t) => `#${r * T + t}`) }));
      return { kind: 'waveform', points: T, groups, featureNames: null, inputColumns: cols };
    }
    return { kind: 'matrix', points: 0, groups: [], featureNames: null, inputColumns: cols };
  }
  if (names.length !== cols) throw new LayoutError(`${names.length} column names for ${cols} columns`);
  const byRole = new Map<Role, { channel: string; cols: { name: string; t?: number; param?: string }[] }>();
  let kinds = new Set<string>();
  for (const name of names) {
    const p = splitName(name);
    if (!p) continue;
    const role = roleOf(p.channel, mapping);
    if (!role) continue;
    const g = byRole.get(role) ?? { channel: p.channel, cols: [] };
    if (g.channel.toUpperCase() !== p.channel.toUpperCase()) {
      throw new LayoutError(`two channels read as ${role}: '${g.channel}' and '${p.channel}' (name one with --channels ${role}=NAME)`);
    }
    g.cols.push({ name, ...p });
    byRole.set(role, g);
    kinds.add(p.t !== undefined ? 'waveform' : 'scalar');
  }
  for (const r of Object.keys(mapping) as Role[]) {
    if (!byRole.has(r)) throw new LayoutError(`--channels ${r}=${mapping[r]}: no column of channel '${mapping[r]}' (columns: ${preview(names)})`);
  }
  if (byRole.size === 0) {
    if (mapped) throw new LayoutError(`no column matches --channels (columns: ${preview(names)})`);
    return { kind: 'matrix', points: 0, groups: [], featureNames: names, inputColumns: cols };
  }
  const missing = ROLES.filter((r) => !byRole.has(r));
  if (missing.length) {
    throw new LayoutError(`found channels for ${ROLES.filter((r) => byRole.has(r)).join(', ')} but not for ${missing.join(', ')} ` +
      `(columns: ${preview(names)}); name them with --channels ${missing.map((r) => `${r}=NAME`).join(',')}`);
  }
  if (kinds.size > 1) kinds = new Set(['scalar']); // mixed exports: keep the per-event parameters only
  const kind = [...kinds][0] as 'waveform' | 'scalar';
  const groups: ChannelGroup[] = ROLES.map((role) => {
    const g = byRole.get(role)!;
    if (kind === 'waveform') {
      const cs = g.cols.filter((c) => c.t !== undefined).sort((a, b) => a.t! - b.t!);
      return { role, name: g.channel, columns: cs.map((c) => c.name) };
    }
    const cs = g.cols.filter((c) => c.param !== undefined).sort((a, b) => SCALAR_PARAMS.indexOf(a.param as 'H') - SCALAR_PARAMS.indexOf(b.param as 'H'));
    return { role, name: g.channel, columns: cs.map((c) => c.name), params: cs.map((c) => c.param!) };
  });
  if (kind === 'waveform') {
    const short = groups.find((g) => g.columns.length < 4);
    if (short) throw new LayoutError(`channel ${short.name} has ${short.columns.length} time samples; a pulse needs at least 4`);
    const T = groups[0].columns.length;
    return { kind, points: groups.every((g) => g.columns.length === T) ? T : 0, groups, featureNames: names, inputColumns: cols };
  }
  for (const g of groups) if (!g.params!.includes('H')) throw new LayoutError(`channel ${g.name} has no height parameter (${g.name}-H)`);
  return { kind, points: 0, groups, featureNames: names, inputColumns: cols };
}

function preview(names: string[]): string {
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, … (${names.length})` : names.join(', ');
}

/** Per group: its first pipeline column (groups are consecutive in the pipeline's order). */
export function groupStarts(L: ChannelLayout): number[] {
  const out: number[] = [];
  let at = 0;
  for (const g of L.groups) {
    out.push(at);
    at += g.columns.length;
  }
  return out;
}

/** Number of columns the pipeline reads: every group's columns, or all columns of a plain matrix. */
export function layoutWidth(L: ChannelLayout, cols: number): number {
  return L.kind === 'matrix' ? cols : L.groups.reduce((a, g) => a + g.columns.length, 0);
}

/**
 * For a sample's columns, the source column of each pipeline column (roles in order). Columns are
 * matched by name when both the model and the sample have names, else by position.
 */
export function columnSources(L: ChannelLayout, names: string[] | null | undefined, cols: number, source = 'sample'): Int32Array {
  // Without names on both sides columns can only be matched by position: the widths must agree.
  if ((!L.featureNames || !names) && cols !== L.inputColumns) {
    throw new LayoutError(`${source} has ${cols} columns per event, the model expects ${L.inputColumns}` +
      (L.featureNames ? ` (${names ? '' : 'the file has no column names; '}model columns: ${preview(L.featureNames)})` : ''));
  }
  const width = layoutWidth(L, cols);
  if (L.kind === 'matrix') {
    if (L.featureNames && names && names.join('\u0000') !== L.featureNames.join('\u0000')) {
      const idx = new Map(names.map((n, i) => [n, i]));
      return Int32Array.from(L.featureNames, (n) => {
        const i = idx.get(n);
        if (i === undefined) throw new LayoutError(`${source}: no column '${n}' (the model was trained with it)`);
        return i;
      });
    }
    return Int32Array.from({ length: cols }, (_, i) => i);
  }
  const wanted = L.groups.flatMap((g) => g.columns);
  if (!L.featureNames || !names) {
    if (!L.featureNames) return Int32Array.from({ length: width }, (_, i) => i);
    return Int32Array.from(wanted, (n) => L.featureNames!.indexOf(n));
  }
  const idx = new Map(names.map((n, i) => [n, i]));
  return Int32Array.from(wanted, (n) => {
    const i = idx.get(n);
    if (i === undefined) throw new LayoutError(`${source}: no column '${n}' (channel ${L.groups.find((g) => g.columns.includes(n))!.name} of the model)`);
    return i;
  });
}

/** One line for progress and reports: e.g. "waveform, 4 channels × 32 time samples (FS, SS, FL1, RES)". */
export function describeLayout(L: ChannelLayout): string {
  const names = L.groups.map((g) => g.name).join(', ');
  if (L.kind === 'waveform') return `waveform, 4 channels × ${L.points || L.groups.map((g) => g.columns.length).join('/')} time samples (${names})`;
  if (L.kind === 'scalar') return `per-event parameters of ${names}: ${L.groups.flatMap((g) => g.columns).join(', ')}`;
  return 'a plain matrix: no FSC/SSC/FL/IMP channels found';
}
