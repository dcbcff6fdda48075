// No source file over ~400 lines and no function over ~80 (issue 23). A file or function that long
// asks a reader to hold too much at once, and it is where unrelated changes collide. Lengths are
// measured with the TypeScript parser, so a function is every function-like node with a body
// (declarations, methods, constructors, accessors, arrows, function expressions), from its first
// line to the last line of its body; a nested function counts inside its parent as well.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

// Sources being rewritten by work in flight, over a limit today. Keys: a file, or `file#function`
// (`file#function@line` names an anonymous one). Each must still be over its limit: delete it when
// it is not, so the list can only shrink.
const PENDING: Record<string, string> = {};

const ROOT = resolve(import.meta.dirname, '..');
const TREES = ['bindings', 'server', 'assembly', 'kernels', 'scripts', 'bin', 'bench'];

/** Hand-written sources under `dir` (generated files are measured by their generator instead). */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts') && !name.includes('.generated.')) out.push(p);
  }
  return out;
}

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

export interface FunctionLength {
  name: string;
  line: number;
  lines: number;
}

/** Every function-like node with a body in `text`, with its length in lines. */
export function functionLengths(file: string, text: string): FunctionLength[] {
  const kind = /\.m?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const out: FunctionLength[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const body = node.body as ts.Node;
      const line = lineOf(node.getStart(sf));
      out.push({ name: nameOf(node, sf), line, lines: lineOf(body.getEnd()) - line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** A readable name: the declared one, else the variable or property an arrow is assigned to. */
function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const named = (node as { name?: ts.Node }).name;
  if (named) return named.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return parent.name.getText(sf);
  }
  return '';
}

/** The over-limit files and functions of the tree, as PENDING-style keys with their lengths. */
function violations(): Map<string, number> {
  const out = new Map<string, number>();
  for (const file of TREES.flatMap((t) => sources(join(ROOT, t)))) {
    const rel = relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    const lines = lineCount(text);
    if (lines > MAX_FILE_LINES) out.set(rel, lines);
    for (const f of functionLengths(file, text)) {
      if (f.lines > MAX_FUNCTION_LINES) out.set(`${rel}#${f.name || `@${f.line}`}`, f.lines);
    }
  }
  return out;
}

describe('source size', () => {
  it('the measure sees functions of every kind (a measure that finds nothing proves nothing)', () => {
    const src = [
      'function a() {', '  return 1;', '}',
      'class B {', '  m() {', '    const f = () => {', '      return 2;', '    };', '  }', '}',
      'const g = function () {', '  return 3;', '};',
    ].join('\n');
    const got = functionLengths('x.ts', src).map((f) => `${f.name}:${f.line}:${f.lines}`);
    expect(got).toEqual(['a:1:3', 'm:5:5', 'f:6:3', 'g:11:3']);
    expect(TREES.flatMap((t) => sources(join(ROOT, t))).length).toBeGreaterThan(100);
  });

  it(`no source over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}`, () => {
    const found = violations();
    const report = (keys: string[]) => keys.map((k) => `${k} (${found.get(k) ?? 'within limits'})`);
    expect(report([...found.keys()].filter((k) => !(k in PENDING)))).toEqual([]);
    // A pending entry that is now within limits must be deleted, so the list can only shrink.
    expect(report(Object.keys(PENDING).filter((k) => !found.has(k)))).toEqual([]);
  });
});
