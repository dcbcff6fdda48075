// No import cycles in bindings/, server/, scripts/ (issue 23). A cycle makes module initialisation
// order depend on which file is imported first, and forces lazy `await import()` workarounds that
// hide the dependency from readers. Every edge counts: static imports, `import type`, re-exports
// and dynamic `import('…')` with a literal path, because each of them is a dependency a reader
// must follow. Only relative specifiers are followed (packages cannot import us back).
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';

// Cycles being removed by a rewrite in flight; each entry must still occur (delete it when it is gone).
const PENDING: string[] = [];

const ROOT = resolve(import.meta.dirname, '..');
const TREES = ['bindings', 'server', 'scripts'];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Strips comments and string contents that cannot hold import specifiers (cheap, not a parser). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
}

const SPECIFIER = [
  /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s+from\s+['"]([^'"]+)['"]/g, // import x from '…'
  /\bimport\s+['"]([^'"]+)['"]/g, //                                     import '…' (side effects)
  /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+['"]([^'"]+)['"]/g, // re-export
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, //                              dynamic import('…')
];

/** The relative imports of one file, resolved to files on disk (.js specifiers map to .ts sources). */
export function importsOf(file: string): string[] {
  const src = stripComments(readFileSync(file, 'utf8'));
  const out = new Set<string>();
  for (const re of SPECIFIER) {
    for (const m of src.matchAll(re)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) continue;
      const base = resolve(dirname(file), spec);
      const candidates = [base, base.replace(/\.m?js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
      const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile() && /\.(ts|mts)$/.test(c));
      if (hit) out.add(hit);
    }
  }
  return [...out];
}

/** Every elementary cycle reachable by DFS (one representative per strongly connected back edge). */
export function findCycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  // Iterative DFS (a deep import chain must not overflow the stack either).
  for (const start of files) {
    if (state.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    state.set(start, 'active');
    stack.push(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.node) ?? [];
      if (top.next < edges.length) {
        const to = edges[top.next++]!;
        const s = state.get(to);
        if (s === 'active') cycles.push([...stack.slice(stack.indexOf(to)), to]);
        else if (s === undefined && graph.has(to)) {
          state.set(to, 'active');
          stack.push(to);
          work.push({ node: to, next: 0 });
        }
      } else {
        state.set(top.node, 'done');
        stack.pop();
        work.pop();
      }
    }
  }
  return cycles.map((c) => c.map((f) => relative(ROOT, f)));
}

describe('import graph', () => {
  const files = TREES.flatMap((t) => sources(join(ROOT, t)));

  it('the walker sees the graph (a run that found no edges proves nothing)', () => {
    expect(files.length).toBeGreaterThan(50);
    const edges = files.reduce((n, f) => n + importsOf(f).length, 0);
    expect(edges).toBeGreaterThan(files.length);
    // Spot checks of each kind of edge the walker must follow.
    const rel = (f: string) => importsOf(join(ROOT, f)).map((x) => relative(ROOT, x));
    expect(rel('bindings/io/index.ts')).toContain('bindings/io/npy.ts'); // import + export * from
  });

  it('finds a planted cycle, including one closed by a dynamic import', () => {
    // The walker itself must be able to fail: feed it files that import each other.
    const a = join(ROOT, 'test/helpers/cycle-fixture-a.ts');
    const b = join(ROOT, 'test/helpers/cycle-fixture-b.ts');
    expect(findCycles([a, b])).toEqual([['test/helpers/cycle-fixture-a.ts', 'test/helpers/cycle-fixture-b.ts', 'test/helpers/cycle-fixture-a.ts']]);
  });

  it('bindings/, server/ and scripts/ have no import cycle', () => {
    const cycles = findCycles(files).map((c) => c.join(' → '));
    expect(cycles.filter((c) => !PENDING.includes(c))).toEqual([]);
    // A pending entry that no longer occurs must be deleted, so the list can only shrink.
    expect(PENDING.filter((c) => !cycles.includes(c))).toEqual([]);
  });
});
