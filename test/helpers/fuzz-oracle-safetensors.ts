// Independent safetensors decoder for differential fuzzing: its own JSON parser (RFC 8259, keys
// kept in Maps, a repeated key keeps its first position and takes the last value, as
// ECMAScript's JSON.parse does), its own bitwise CRC-32, and the container rules
// bindings/io/safetensors.ts documents: u64 header length ≤ 16 MiB inside the file, UTF-8 JSON
// object, __metadata__ of strings, F32/F64/I32 tensors of rank ≤ 16 and ≤ 2^31 − 1 elements along
// the non-empty dimensions, offsets tiling the data buffer exactly, and the two checksums
// (hemaclust.crc32 over the data; hemaclust.crc32.file over the canonical header then the data).
import type { OracleResult } from './fuzz-harness.js';

export type J = null | boolean | number | string | J[] | Map<string, J>;

/** Parses JSON text; throws a string on any syntax error. */
export function parseJson(s: string): J {
  let i = 0;
  const ws = () => { while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++; };
  const value = (depth: number): J => {
    if (depth > 500) throw 'too deep';
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const m = new Map<string, J>();
      ws();
      if (s[i] === '}') { i++; return m; }
      for (;;) {
        ws();
        if (s[i] !== '"') throw 'key';
        const k = str();
        ws();
        if (s[i++] !== ':') throw 'colon';
        m.set(k, value(depth + 1));
        ws();
        if (s[i] === ',') { i++; continue; }
        if (s[i] === '}') { i++; return m; }
        throw 'object';
      }
    }
    if (c === '[') {
      i++;
      const a: J[] = [];
      ws();
      if (s[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (s[i] === ',') { i++; continue; }
        if (s[i] === ']') { i++; return a; }
        throw 'array';
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (s.startsWith(lit, i)) { i += lit.length; return v; }
    }
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const hit = m.exec(s);
    if (!hit) throw 'value';
    i += hit[0].length;
    return Number(hit[0]);
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw 'unterminated string';
      const code = c.charCodeAt(0);
      if (code < 0x20) throw 'control character';
      i++;
      if (c === '"') return out;
      if (c !== '\\') { out += c; continue; }
      const e = s[i++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) { out += simple[e]; continue; }
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i, i + 4))) { out += String.fromCharCode(parseInt(s.slice(i, i + 4), 16)); i += 4; continue; }
      throw 'escape';
    }
  };
  const v = value(0);
  ws();
  if (i !== s.length) throw 'trailing';
  return v;
}

function crc(bytes: Uint8Array, init = 0): number {
  let c = ~init >>> 0;
  for (const x of bytes) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

export interface StOracleValue { tensors: Map<string, { shape: number[]; values: number[] }>; metadata: Map<string, string>; fileChecksum: boolean }

const SIZE: Record<string, number> = { F32: 4, F64: 8, I32: 4 };
const LIMIT = 2 ** 31 - 1;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function safetensorsOracle(b: Uint8Array): OracleResult {
  const no = (why: string): OracleResult => ({ ok: false, why });
  if (b.length < 8) return no('short');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(b.length - 8) || n > 16n * 1024n * 1024n) return no('header length');
  const hl = Number(n);
  let text: string;
  let h: J;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(8, 8 + hl));
    h = parseJson(text);
  } catch (e) {
    return no(`json: ${String(e)}`);
  }
  if (!(h instanceof Map)) return no('not an object');
  const start = 8 + hl;
  const dataLen = b.length - start;
  const meta = new Map<string, string>();
  const mv = h.get('__metadata__');
  if (h.has('__metadata__')) {
    if (!(mv instanceof Map)) return no('metadata');
    for (const [k, v] of mv) { if (typeof v !== 'string') return no('metadata value'); meta.set(k, v); }
  }
  const table: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, t] of h) {
    if (name === '__metadata__') continue;
    if (!(t instanceof Map)) return no('entry');
    const dtype = t.get('dtype');
    if (typeof dtype !== 'string' || !(dtype in SIZE) || !Object.hasOwn(SIZE, dtype)) return no('dtype');
    const shape = t.get('shape');
    if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) return no('shape');
    let ext = 1n;
    for (const d of shape as number[]) { if (d > LIMIT) return no('dim'); if (d > 0) ext *= BigInt(d); if (ext > BigInt(LIMIT)) return no('extent'); }
    const count = (shape as number[]).includes(0) ? 0 : Number(ext);
    const off = t.get('data_offsets');
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) return no('offsets');
    const [bg, en] = off as number[];
    if (en! < bg! || en! > dataLen || en! - bg! !== count * SIZE[dtype]!) return no('offset range');
    table.push({ name, dtype, shape: (shape as number[]).map((d) => d + 0), begin: bg!, end: en! });
  }
  const byOffset = [...table].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let cur = 0;
  for (const e of byOffset) { if (e.begin !== cur) return no('tiling'); cur = e.end; }
  if (cur !== dataLen) return no('file length');
  const data = b.subarray(start);
  const hex = (x: number) => x.toString(16).padStart(8, '0');
  const dataCrc = meta.get('hemaclust.crc32');
  if (dataCrc !== undefined && dataCrc !== hex(crc(data))) return no('data crc');
  const fileCrc = meta.get('hemaclust.crc32.file');
  const plain = [...meta].filter(([k]) => k !== 'hemaclust.crc32' && k !== 'hemaclust.crc32.file').sort((x, y) => cmp(x[0], y[0]));
  if (fileCrc !== undefined) {
    const tab = [...table].sort((x, y) => cmp(x.name, y.name)).map((e) => [e.name, e.dtype, e.shape, e.begin, e.end]);
    const canon = new TextEncoder().encode(JSON.stringify(['hemaclust-safetensors-header/1', tab, plain]));
    if (fileCrc !== hex(crc(data, crc(canon)))) return no('file crc');
  }
  const tensors = new Map<string, { shape: number[]; values: number[] }>();
  for (const e of table) {
    const values: number[] = [];
    for (let p = e.begin; p < e.end; p += SIZE[e.dtype]!) {
      const at = start + p;
      values.push(e.dtype === 'F32' ? dv.getFloat32(at, true) : Math.fround(e.dtype === 'F64' ? dv.getFloat64(at, true) : dv.getInt32(at, true)));
    }
    tensors.set(e.name, { shape: e.shape, values });
  }
  return { ok: true, value: { tensors, metadata: new Map(plain), fileChecksum: fileCrc !== undefined } satisfies StOracleValue };
}
