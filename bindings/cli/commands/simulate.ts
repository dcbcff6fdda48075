// `hemaclust simulate`: writes a cohort of simulated analyzer samples with reference values and
// hidden per-cell truth (see bindings/simulate/cohort.ts for the layout).
import { readdir } from 'node:fs/promises';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt } from '../args.js';
import { simulateCohort } from '../../simulate/cohort.js';
import { SPECIES, type Species } from '../../simulate/species.js';
import { DOMAINS, DOMAIN_NAMES } from '../../simulate/domains.js';

/** Defaults: a small cohort whose samples hold enough events for the rare classes to occur. */
const SIMULATE = {
  samples: 10,
  cells: 20000,
  /** Time samples per channel: enough to resolve a pulse's rise, peak and width. */
  points: 32,
  /** The range of --points the simulator's pulse shapes are written for. */
  minPoints: 4,
  maxPoints: 1024,
};

const usage =
  'hemaclust simulate --out DIR [--domain NAME|random [--domain-seed S]] [--species dog|cat] [--samples N] [--cells N] [--seed S] [--points T] [--format fcs|npy] [--force] [--json]\n       hemaclust simulate --list-domains [--json]';

export const simulate: Command = {
  name: 'simulate',
  summary: 'write simulated RBC/PLT-channel samples (FCS or NPY) with reference values and truth',
  usage: `${usage}

  --out DIR        output directory (created; must be empty unless --force)
  --domain NAME    simulated analyzer: a named domain (--list-domains), random or random:<seed>; it fixes species,
                   time points, units, pulse shapes, channel names/order and layout (default builtin)
  --domain-seed S  seed of --domain random (default 1; the manifest records the drawn domain)
  --list-domains   print the named domains and exit
  --species S      dog (default) or cat (without --domain; with it, must agree)
  --samples N      number of samples (default ${SIMULATE.samples})
  --cells N        events per sample (default ${SIMULATE.cells})
  --seed S         integer seed; same seed, same files (default 1)
  --points T       time samples per channel (default ${SIMULATE.points} → 4·T features; builtin domains only)
  --format F       fcs (FCS 3.1, default) or npy
  --force          write into a non-empty directory
  --json           print the summary as JSON`,
  async run(argv) {
    const { values } = parse(argv, {
      out: { type: 'string' },
      species: { type: 'string' },
      samples: { type: 'string' },
      cells: { type: 'string' },
      seed: { type: 'string' },
      points: { type: 'string' },
      format: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      domain: { type: 'string' },
      'domain-seed': { type: 'string' },
      'list-domains': { type: 'boolean' },
    });
    if (values['list-domains']) {
      if (values.json) console.log(JSON.stringify(DOMAINS, null, 2));
      else for (const n of DOMAIN_NAMES) console.log(`${n.padEnd(18)} ${DOMAINS[n]!.species}  ${DOMAINS[n]!.layout.padEnd(8)}  ${DOMAINS[n]!.description}`);
      return 0;
    }
    if (!values.out) throw new UsageError('--out DIR is required');
    if (values.species !== undefined && !SPECIES.includes(values.species as Species)) throw new UsageError(`--species must be one of ${SPECIES.join(', ')} (got '${values.species}')`);
    const domainName = values.domain;
    if (domainName !== undefined && domainName !== 'random' && !/^random:-?\d+$/.test(domainName) && !DOMAINS[domainName]) {
      throw new UsageError(`--domain must be random, random:<seed> or one of ${DOMAIN_NAMES.join(', ')} (got '${domainName}')`);
    }
    const domainSeed = values['domain-seed'] === undefined ? 1 : Number(values['domain-seed']);
    if (!Number.isSafeInteger(domainSeed)) throw new UsageError(`--domain-seed must be an integer (got '${values['domain-seed']}')`);
    if (values['domain-seed'] !== undefined && domainName !== 'random') throw new UsageError('--domain-seed goes with --domain random');
    const domainSpecies = domainName === undefined || domainName.startsWith('random') ? undefined : DOMAINS[domainName]!.species;
    if (domainSpecies !== undefined && values.species !== undefined && values.species !== domainSpecies) {
      throw new UsageError(`--species ${values.species} contradicts --domain ${domainName} (${domainSpecies})`);
    }
    if (domainName !== undefined && values.points !== undefined) throw new UsageError('--points cannot be combined with --domain (the domain fixes its time points)');
    const format = values.format ?? 'fcs';
    if (format !== 'fcs' && format !== 'npy') throw new UsageError(`--format must be fcs or npy (got '${format}')`);
    const samples = intOpt('samples', values.samples, SIMULATE.samples);
    const cells = intOpt('cells', values.cells, SIMULATE.cells);
    const points = intOpt('points', values.points, SIMULATE.points, SIMULATE.minPoints);
    const species = domainName === undefined ? (values.species ?? 'dog') : undefined;
    if (points > SIMULATE.maxPoints) throw new UsageError(`--points must be at most ${SIMULATE.maxPoints} (got ${points})`);
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer (got '${values.seed}')`);
    const existing = await readdir(values.out).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw new Error(`cannot use --out ${values.out}: ${e.message}`);
    });
    if (existing.length > 0 && !values.force) {
      throw new UsageError(`--out ${values.out} is not empty (${existing.length} entries); pass --force to write into it`);
    }

    const showProgress = samples > 1;
    const summary = await simulateCohort(values.out, {
      ...(domainName === undefined ? { species: species as Species, points } : { domain: domainName, domainSeed, species: values.species as Species | undefined }),
      samples, cellsPerSample: cells, seed, format: format as 'fcs' | 'npy',
      onProgress: showProgress
        ? (done, total, file) => {
            const line = `simulate: ${done}/${total} samples (${file})`;
            if (process.stderr.isTTY) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
            else process.stderr.write(`${line}\n`);
          }
        : undefined,
    });

    if (values.json) {
      console.log(JSON.stringify(summary, null, 2));
      return 0;
    }
    const mean = (f: (s: (typeof summary.samples)[number]) => number) => summary.samples.reduce((a, s) => a + f(s), 0) / summary.samples.length;
    console.log(
      [
        `wrote ${summary.samples.length} ${summary.species} samples × ${cells} events (domain ${summary.domain}, ${summary.layout}, ${summary.features} features, ${format}) to ${summary.dir} in ${summary.seconds.toFixed(1)} s`,
        `  channels       ${Object.entries(summary.channels).map(([r, n]) => `${r}=${n}`).join(' ')}`,
        `  reference.csv  mean plt ${mean((s) => s.reference.pltPct).toFixed(1)}%  retic ${mean((s) => s.reference.reticPct).toFixed(1)}%  clump ${mean((s) => s.reference.clumpPct).toFixed(1)}%`,
        `  truth/         per-event labels (.labels.npy), classes.json, shares.csv`,
      ].join('\n'),
    );
    return 0;
  },
};
