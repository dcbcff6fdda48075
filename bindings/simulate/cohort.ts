// A cohort of simulated samples on disk, laid out like an analyzer export plus hidden truth:
//   <dir>/<sample>.fcs | .npy        per-event signals (FCS 3.1 float32, or NPY float32 cells × features)
//   <dir>/reference.csv              sample,file,species,plt_pct,retic_pct,clump_pct — the analyzer's
//                                    reported sample-level values (denominators: see sample.ts)
//   <dir>/truth/<sample>.labels.npy  int32 true class per event (never shown to the models)
//   <dir>/truth/classes.json         {"0":"platelet",…,"5":"coincidence"}
//   <dir>/truth/shares.csv           exact shares per sample, incl. debris and coincidences
//   <dir>/manifest.json              generator settings: the full domain (domains.ts), `layout`,
//                                    `channels` (role → channel name), feature names, file list
// The original simulator's files (domain builtin / builtin-cat) are byte for byte what they were
// before domains existed; only the manifest gained fields.
// Every file is written atomically, so an interrupted run never leaves a half-written sample.
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeNpy } from '../io/npy.js';
import { encodeFcs } from '../io/fcs.js';
import { formatCsv } from '../io/csv.js';
import { simulateSample, CLASS_NAMES, CHANNELS, type SimulatedSample, type ReportedShares } from './sample.js';
import type { Species } from './species.js';
import { builtinDomain, checkDomain, domainByName, roleMap, type Domain, type Role } from './domains.js';

export const GENERATOR = 'hemaclust-sim 1';

export interface CohortOptions {
  /** The simulated analyzer: a Domain or a name for domainByName (default: builtin for `species`). */
  domain?: Domain | string;
  /** Seed of `domain: 'random'` (default 1). */
  domainSeed?: number;
  species?: Species;
  samples?: number;
  cellsPerSample?: number;
  seed?: number;
  format?: 'fcs' | 'npy';
  points?: number;
  /** Called after each sample is written. */
  onProgress?: (done: number, total: number, file: string) => void;
}

export interface CohortSampleSummary {
  sample: string;
  file: string;
  events: number;
  reference: ReportedShares;
  counts: Record<string, number>;
}

export interface CohortSummary {
  dir: string;
  species: Species;
  format: 'fcs' | 'npy';
  seed: number;
  cellsPerSample: number;
  points: number;
  domain: string;
  layout: 'waveform' | 'scalar';
  channels: Record<Role, string>;
  features: number;
  samples: CohortSampleSummary[];
  seconds: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** A deterministic acquisition date (dd-MMM-yyyy as FCS wants): one sample per day from 2025-01-06. */
function fcsDate(index: number): string {
  const d = new Date(Date.UTC(2025, 0, 6 + index));
  return `${String(d.getUTCDate()).padStart(2, '0')}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

export function encodeSampleFcs(s: SimulatedSample, id: string, file: string, index: number, seed: number): Uint8Array {
  return encodeFcs({
    text: {
      $CYT: 'hemaclust simulated flow analyzer (RBC-PLT channel)',
      $SYS: GENERATOR,
      $DATE: fcsDate(index),
      $BTIM: '08:00:00',
      $ETIM: '08:01:00',
      $FIL: file,
      $SMNO: id,
      $SRC: s.species,
      HEMACLUST_SPECIES: s.species,
      HEMACLUST_SEED: String(seed),
      HEMACLUST_SAMPLE_INDEX: String(index),
      HEMACLUST_POINTS: String(s.points),
      HEMACLUST_CHANNELS: CHANNELS.join(','),
    },
    parameters: s.features.map((name) => {
      const [ch, t] = name.split('_t');
      return { name, longName: `${ch} pulse, time sample ${Number(t)} of ${s.points}` };
    }),
    data: s.signals,
    events: s.cells,
  });
}

/** FCS for a general-engine domain: the domain's instrument name, channel names and parameter descriptions. */
export function encodeDomainSampleFcs(s: SimulatedSample, d: Domain, id: string, file: string, index: number, seed: number): Uint8Array {
  const longName = (name: string): string => {
    const m = /^(.*)_t(\d+)$/.exec(name);
    if (d.layout === 'waveform' && m) {
      const ch = d.channels.find((c) => c.name === m[1])!;
      return `${m[1]} pulse, time sample ${Number(m[2])} of ${ch.points}`;
    }
    const j = s.features.indexOf(name);
    const sc = d.scalars[j]!;
    const what = { H: 'pulse height', A: 'pulse area', W: d.widthKind === 'fwhm' ? 'pulse width (FWHM)' : 'pulse width (area/height)' }[sc.kind];
    return `${roleMap(d)[sc.role]} ${what}`;
  };
  return encodeFcs({
    text: {
      $CYT: d.instrument,
      $SYS: GENERATOR,
      $DATE: fcsDate(index),
      $BTIM: '08:00:00',
      $ETIM: '08:01:00',
      $FIL: file,
      $SMNO: id,
      $SRC: s.species,
      HEMACLUST_SPECIES: s.species,
      HEMACLUST_SEED: String(seed),
      HEMACLUST_SAMPLE_INDEX: String(index),
      HEMACLUST_DOMAIN: d.name,
      HEMACLUST_LAYOUT: d.layout,
      HEMACLUST_CHANNELS: d.channels.map((c) => c.name).join(','),
    },
    parameters: s.features.map((name) => ({ name, longName: longName(name) })),
    data: s.signals,
    events: s.cells,
  });
}

/** The domain a cohort's options ask for (checks species/points against it). */
export function cohortDomain(opts: CohortOptions): Domain {
  if (opts.domain === undefined) return builtinDomain(opts.species ?? 'dog', opts.points ?? 32);
  const d = typeof opts.domain === 'string' ? domainByName(opts.domain, opts.domainSeed ?? 1) : checkDomain(structuredClone(opts.domain));
  if (opts.species !== undefined && opts.species !== d.species) throw new Error(`species '${opts.species}' contradicts domain '${d.name}' (${d.species})`);
  if (opts.points !== undefined && !d.channels.every((c) => c.points === opts.points)) throw new Error(`points: domain '${d.name}' fixes the time points per channel`);
  return d;
}

/** Simulates `samples` samples into `dir` (created if missing) and returns a summary. */
export async function simulateCohort(dir: string, opts: CohortOptions = {}): Promise<CohortSummary> {
  const domain = cohortDomain(opts);
  const species = domain.species;
  const samples = opts.samples ?? 10;
  const cells = opts.cellsPerSample ?? 20000;
  const seed = opts.seed ?? 1;
  const format = opts.format ?? 'fcs';
  const points = Math.max(...domain.channels.map((c) => c.points));
  if (!Number.isSafeInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${samples}`);
  if (format !== 'fcs' && format !== 'npy') throw new Error(`format must be 'fcs' or 'npy', got '${format}'`);
  const t0 = performance.now();
  await mkdir(join(dir, 'truth'), { recursive: true });
  const width = Math.max(3, String(samples).length);
  const summaries: CohortSampleSummary[] = [];
  const refRows: (string | number)[][] = [];
  const shareRows: (string | number)[][] = [];
  let features: string[] = [];
  for (let i = 0; i < samples; i++) {
    const id = `${species}_${String(i + 1).padStart(width, '0')}`;
    const file = `${id}.${format}`;
    const s = simulateSample({ domain, cells, seed, sampleIndex: i });
    features = s.features;
    const fcs = () => (domain.engine === 'builtin' ? encodeSampleFcs(s, id, file, i, seed) : encodeDomainSampleFcs(s, domain, id, file, i, seed));
    const bytes = format === 'fcs' ? fcs() : encodeNpy([s.cells, s.features.length], s.signals);
    await writeFileAtomic(join(dir, file), bytes);
    await writeFileAtomic(join(dir, 'truth', `${id}.labels.npy`), encodeNpy([s.cells], s.truth));
    const r = s.reference;
    refRows.push([id, file, species, r.pltPct.toFixed(1), r.reticPct.toFixed(1), r.clumpPct.toFixed(1)]);
    const t = s.trueShares;
    shareRows.push([id, s.cells, ...s.counts, t.pltPct, t.reticPct, t.clumpPct, t.debrisPct, t.coincidencePct]);
    summaries.push({ sample: id, file, events: s.cells, reference: r, counts: Object.fromEntries(CLASS_NAMES.map((n, c) => [n, s.counts[c]!])) });
    opts.onProgress?.(i + 1, samples, file);
  }
  await writeFileAtomic(join(dir, 'reference.csv'), formatCsv(['sample', 'file', 'species', 'plt_pct', 'retic_pct', 'clump_pct'], refRows));
  await writeFileAtomic(join(dir, 'truth', 'shares.csv'), formatCsv(
    ['sample', 'events', ...CLASS_NAMES.map((n) => `n_${n}`), 'plt_pct', 'retic_pct', 'clump_pct', 'debris_pct', 'coincidence_pct'], shareRows));
  await writeFileAtomic(join(dir, 'truth', 'classes.json'), JSON.stringify(Object.fromEntries(CLASS_NAMES.map((n, c) => [String(c), n])), null, 2) + '\n');
  const channels = roleMap(domain);
  const manifest = {
    generator: GENERATOR, species, samples, cellsPerSample: cells, seed, format, points,
    pointsPerChannel: Object.fromEntries(domain.channels.map((c) => [c.name, c.points])),
    layout: domain.layout, channels, features,
    domain,
    denominators: {
      plt_pct: 'platelet events / all events',
      retic_pct: 'reticulocyte events / (rbc + reticulocyte + clumped_rbc events)',
      clump_pct: 'clumped_rbc events / (rbc + reticulocyte + clumped_rbc events)',
    },
    files: summaries.map((s) => s.file),
  };
  await writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return {
    dir, species, format, seed, cellsPerSample: cells, points, domain: domain.name, layout: domain.layout, channels,
    features: features.length, samples: summaries,
    seconds: (performance.now() - t0) / 1000,
  };
}
