// The one edit `hemaclust export` makes to the generic classifier module: one more active data
// segment (the model blob at a fixed address) and an initial memory large enough to hold it.
//
// Why a data segment and not a per-model compile: the generic module is compiled once, with the
// package, and exporting needs no compiler (asc is a build tool, not a dependency of the CLI);
// the weights become plain bytes that any runtime, and wasm2c, load the way they load any static
// data; the code is byte-for-byte the tested code whatever the model. The edit touches three
// sections only (memory, data count, data), each rewritten from its parsed fields.

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function sleb32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

class Reader {
  constructor(readonly b: Uint8Array, public at = 0) {}
  uleb(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.at >= this.b.length) throw new Error('wasm-edit: truncated LEB128');
      const x = this.b[this.at++]!;
      v += (x & 0x7f) * mul;
      mul *= 128;
      if (!(x & 0x80)) return v;
    }
  }
}

interface Section { id: number; body: Uint8Array }

function sections(wasm: Uint8Array): Section[] {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (!magic.every((v, i) => wasm[i] === v)) throw new Error('wasm-edit: not a WebAssembly 1.0 module');
  const r = new Reader(wasm, 8);
  const out: Section[] = [];
  while (r.at < wasm.length) {
    const id = wasm[r.at++]!;
    const size = r.uleb();
    out.push({ id, body: wasm.subarray(r.at, r.at + size) });
    r.at += size;
  }
  return out;
}

const SEC_MEMORY = 5;
const SEC_CODE = 10;
const SEC_DATA = 11;
const SEC_DATA_COUNT = 12;

/** The module with `data` as an active segment at `offset` of memory 0, and memory 0's initial
 *  size raised to at least `minPages`. The module must define (not import) exactly one memory. */
export function appendDataSegment(wasm: Uint8Array, offset: number, data: Uint8Array, minPages: number): Uint8Array {
  const secs = sections(wasm);
  const mem = secs.find((s) => s.id === SEC_MEMORY);
  if (!mem) throw new Error('wasm-edit: the module defines no memory');
  const mr = new Reader(mem.body);
  if (mr.uleb() !== 1) throw new Error('wasm-edit: expected one memory');
  const flags = mr.uleb();
  if (flags & ~1) throw new Error(`wasm-edit: memory limits flags ${flags} (shared or 64-bit memory) not supported`);
  const min = mr.uleb();
  const max = flags & 1 ? mr.uleb() : null;
  const pages = Math.max(min, minPages);
  if (max !== null && pages > max) throw new Error(`wasm-edit: ${pages} pages exceed the memory maximum ${max}`);
  mem.body = Uint8Array.from([1, flags, ...uleb(pages), ...(max !== null ? uleb(max) : [])]);

  const segment = [0x00, 0x41, ...sleb32(offset), 0x0b, ...uleb(data.length)];
  let dataSec = secs.find((s) => s.id === SEC_DATA);
  if (!dataSec) {
    dataSec = { id: SEC_DATA, body: Uint8Array.from([0]) };
    const code = secs.findIndex((s) => s.id === SEC_CODE);
    secs.splice(code >= 0 ? code + 1 : secs.length, 0, dataSec);
  }
  const dr = new Reader(dataSec.body);
  const count = dr.uleb();
  const rest = dataSec.body.subarray(dr.at);
  const head = Uint8Array.from([...uleb(count + 1), ...rest, ...segment]);
  const body = new Uint8Array(head.length + data.length);
  body.set(head);
  body.set(data, head.length);
  dataSec.body = body;
  const dc = secs.find((s) => s.id === SEC_DATA_COUNT);
  if (dc) dc.body = Uint8Array.from(uleb(count + 1));

  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  for (const s of secs) parts.push(Uint8Array.from([s.id, ...uleb(s.body.length)]), s.body);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
