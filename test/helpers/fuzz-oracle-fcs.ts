// Independent FCS 3.0/3.1 decoder for differential fuzzing, written from the standard and the
// rules bindings/io/fcs.ts documents (not from its code). HEADER: version, six offsets. TEXT: first
// byte is the delimiter, a doubled delimiter is a literal one, the segment ends with the delimiter,
// keywords upper-cased and unique per segment, primary before supplemental. DATA and ANALYSIS: the
// HEADER pair, or TEXT's when the HEADER says 0 0, and both must agree when both are given; every
// segment after the HEADER, inside the file, no two overlapping. $BYTEORD 1..k or k..1 with k = 4
// (8 for D; 2 for integer data of ≤ 16 bits); $DATATYPE F (32-bit), D (64), I (8/16/32, keeping the
// low ⌈log2 $PnR⌉ bits). $TOT × bytes per event = the DATA length, or one less.
import type { OracleResult } from './fuzz-harness.js';

export interface FcsOracleValue { events: number; names: string[]; text: [string, string][]; values: number[] }

const utf8 = new TextDecoder('utf-8');

function segmentPairs(seg: Uint8Array): [string, string][] | string {
  const d = seg[0]!;
  if (d < 1 || d > 126) return 'delimiter';
  const toks: string[] = [];
  let cur: number[] = [];
  let i = 1;
  while (i < seg.length) {
    if (seg[i] === d) {
      if (i + 1 < seg.length && seg[i + 1] === d) { cur.push(d); i += 2; continue; }
      toks.push(utf8.decode(Uint8Array.from(cur)));
      cur = [];
      i++;
      continue;
    }
    cur.push(seg[i]!);
    i++;
  }
  if (cur.length > 0) return 'segment does not end with the delimiter';
  if (toks.length % 2) return 'odd token count';
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (let k = 0; k < toks.length; k += 2) {
    const key = toks[k]!.trim().toUpperCase();
    if (key === '' || seen.has(key)) return 'empty or repeated keyword';
    seen.add(key);
    out.push([key, toks[k + 1]!]);
  }
  return out;
}

const isInt = (v: string | undefined) => v !== undefined && /^\s*\d{1,15}\s*$/.test(v);

export function fcsOracle(b: Uint8Array): OracleResult {
  const no = (why: string): OracleResult => ({ ok: false, why });
  if (b.length < 58) return no('short');
  const ascii = (x: number, y: number) => String.fromCharCode(...b.subarray(x, y));
  if (ascii(0, 6) !== 'FCS3.0' && ascii(0, 6) !== 'FCS3.1') return no('version');
  const f: number[] = [];
  for (let k = 0; k < 6; k++) {
    const s = ascii(10 + 8 * k, 18 + 8 * k);
    if (!/^ *\d* *$/.test(s)) return no('header field');
    f.push(s.trim() === '' ? 0 : Number(s));
  }
  const [ts, te] = [f[0]!, f[1]!];
  if (ts < 58 || te <= ts || te >= b.length) return no('text offsets');
  const kw = new Map<string, string>();
  const prim = segmentPairs(b.subarray(ts, te + 1));
  if (typeof prim === 'string') return no(prim);
  for (const [k, v] of prim) kw.set(k, v);
  let st: [number, number] | null = null;
  if (kw.has('$BEGINSTEXT') && kw.has('$ENDSTEXT')) {
    if (!isInt(kw.get('$BEGINSTEXT')) || !isInt(kw.get('$ENDSTEXT'))) return no('stext ints');
    const s = Number(kw.get('$BEGINSTEXT')), e = Number(kw.get('$ENDSTEXT'));
    if (s !== 0 || e !== 0) {
      if (s < 58 || e <= s || e >= b.length) return no('stext offsets');
      st = [s, e];
      const sup = segmentPairs(b.subarray(s, e + 1));
      if (typeof sup === 'string') return no(sup);
      for (const [k, v] of sup) if (!kw.has(k)) kw.set(k, v);
    }
  }
  const get = (k: string) => kw.get(k);
  const int = (k: string) => (isInt(get(k)) ? Number(get(k)) : NaN);
  const dt = get('$DATATYPE')?.trim().toUpperCase();
  if (dt !== 'F' && dt !== 'D' && dt !== 'I') return no('datatype');
  if ((get('$MODE') ?? 'L').trim().toUpperCase() !== 'L') return no('mode');
  const tot = int('$TOT'), par = int('$PAR');
  if (Number.isNaN(tot) || Number.isNaN(par) || par < 1 || par * 3 > kw.size) return no('$TOT/$PAR');
  const widths: number[] = [], mods: number[] = [], names: string[] = [];
  for (let p = 1; p <= par; p++) {
    const name = get(`$P${p}N`);
    const bits = int(`$P${p}B`);
    const rs = get(`$P${p}R`);
    const range = rs === undefined || rs.trim() === '' ? NaN : Number(rs.trim());
    if (name === undefined || Number.isNaN(bits) || !Number.isFinite(range) || range < 0) return no(`parameter ${p}`);
    if (dt === 'F' ? bits !== 32 : dt === 'D' ? bits !== 64 : bits !== 8 && bits !== 16 && bits !== 32) return no('bits');
    // Integer data keeps the smallest m bits with 2^m ≥ $PnR (when that is fewer than $PnB).
    let m = bits;
    if (dt === 'I' && range >= 2) { let need = 0; while (2 ** need < range) need++; if (need < bits) m = need; }
    names.push(name.trim());
    widths.push(bits / 8);
    mods.push(2 ** m);
  }
  const widest = Math.max(...widths);
  const order = (get('$BYTEORD') ?? '').split(',');
  if (!order.every((x) => /^\s*\d+\s*$/.test(x))) return no('byteord');
  const ks = order.map(Number);
  const asc = ks.every((x, i) => x === i + 1), desc = ks.every((x, i) => x === ks.length - i);
  const k = ks.length;
  if (!(asc || desc) || !(k === 4 || (k === 8 && dt === 'D') || (k === 2 && dt === 'I' && widest <= 2))) return no('byteord');
  const seg = (hb: number, he: number, bk: string, ek: string): [number, number] | null | string => {
    const inText = kw.has(bk) || kw.has(ek);
    if (inText && (!isInt(get(bk)) || !isInt(get(ek)))) return 'offset keyword';
    const t = inText ? [int(bk), int(ek)] : null;
    let r: number[];
    if (hb === 0 && he === 0) r = t ?? [0, 0];
    else { if (t && (t[0] !== hb || t[1] !== he)) return 'header/text disagree'; r = [hb, he]; }
    if (r[0] === 0 && r[1] === 0) return null;
    if (r[0]! < 58 || r[1]! < r[0]! || r[1]! >= b.length) return 'segment range';
    return [r[0]!, r[1]!];
  };
  const data = seg(f[2]!, f[3]!, '$BEGINDATA', '$ENDDATA');
  const ana = seg(f[4]!, f[5]!, '$BEGINANALYSIS', '$ENDANALYSIS');
  if (typeof data === 'string') return no(data);
  if (typeof ana === 'string') return no(ana);
  const all = [[ts, te], st, data, ana].filter((x): x is [number, number] => x !== null);
  for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) {
    if (all[i]![0] <= all[j]![1] && all[j]![0] <= all[i]![1]) return no('overlap');
  }
  const rowBytes = widths.reduce((a, x) => a + x, 0);
  const have = data ? data[1] - data[0] + 1 : 0;
  if (have < tot * rowBytes || have - tot * rowBytes > 1) return no('data length');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = asc;
  const values: number[] = [];
  let o = data ? data[0] : 0;
  for (let r = 0; r < tot; r++) {
    for (let p = 0; p < par; p++) {
      const w = widths[p]!;
      if (dt === 'F') values.push(dv.getFloat32(o, le));
      else if (dt === 'D') values.push(Math.fround(dv.getFloat64(o, le)));
      else {
        const raw = w === 1 ? dv.getUint8(o) : w === 2 ? dv.getUint16(o, le) : dv.getUint32(o, le);
        values.push(Math.fround(raw % mods[p]!));
      }
      o += w;
    }
  }
  return { ok: true, value: { events: tot, names, text: [...kw].sort((x, y) => (x[0] < y[0] ? -1 : 1)), values } satisfies FcsOracleValue };
}
