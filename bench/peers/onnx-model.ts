// A dense encoder as an ONNX model, written directly in ONNX's protobuf encoding, for the ONNX Runtime
// peers (onnx-peer.ts): the bench needs one small graph (Gemm, Relu) with its weights, and neither
// a protobuf library nor a Python exporter should be a condition for the row. Field numbers are
// onnx.proto's (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, TypeProto).

/** Protobuf wire encoding: fields appended in order, messages nested as length-delimited bytes. */
class Proto {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }

  private varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`protobuf varint: ${v} is not a non-negative safe integer`);
    const out: number[] = [];
    let x = BigInt(v);
    do {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      out.push(x > 0n ? byte | 0x80 : byte);
    } while (x > 0n);
    this.push(Uint8Array.from(out));
  }

  /** A varint field (int32, int64, enum). */
  int(field: number, v: number): this {
    this.varint(field << 3);
    this.varint(v);
    return this;
  }

  /** A length-delimited field (string, bytes, nested message). */
  bytes(field: number, b: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Proto): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType

/** A float tensor initializer: dims, then the values as little-endian raw bytes. */
function tensor(name: string, dims: number[], values: Float32Array): Proto {
  const t = new Proto();
  for (const d of dims) t.int(1, d);
  t.int(2, FLOAT).str(8, name);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return t.bytes(9, raw);
}

/** A float input or output whose first dimension is symbolic ('rows'). */
function valueInfo(name: string, cols: number): Proto {
  const shape = new Proto().msg(1, new Proto().str(2, 'rows')).msg(1, new Proto().int(1, cols));
  const tensorType = new Proto().int(1, FLOAT).msg(2, shape);
  return new Proto().str(1, name).msg(2, new Proto().msg(1, tensorType));
}

function node(op: string, inputs: string[], outputs: string[], name: string): Proto {
  const n = new Proto();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  return n.str(3, name).str(4, op);
}

export interface DenseLayer {
  /** [in × out], row-major (the layout of our weights and of Gemm's B without transB). */
  weight: Float32Array;
  bias: Float32Array;
}

/** y = (ReLU after every layer but the last)(x W + b), input 'x' [rows × dims[0]], output 'y'. */
export function denseEncoderOnnx(dims: readonly number[], layers: readonly DenseLayer[]): Uint8Array {
  if (layers.length !== dims.length - 1) throw new Error(`denseEncoderOnnx: ${dims.length - 1} layers expected, got ${layers.length}`);
  const graph = new Proto();
  let prev = 'x';
  layers.forEach((l, i) => {
    if (l.weight.length !== dims[i] * dims[i + 1] || l.bias.length !== dims[i + 1]) throw new Error(`denseEncoderOnnx: layer ${i} is not ${dims[i]}×${dims[i + 1]}`);
    const last = i === layers.length - 1;
    const pre = last ? 'y' : `h${i}`;
    graph.msg(1, node('Gemm', [prev, `w${i}`, `b${i}`], [pre], `gemm${i}`));
    if (!last) graph.msg(1, node('Relu', [pre], [`a${i}`], `relu${i}`));
    prev = `a${i}`;
  });
  graph.str(2, 'encoder');
  layers.forEach((l, i) => {
    graph.msg(5, tensor(`w${i}`, [dims[i], dims[i + 1]], l.weight));
    graph.msg(5, tensor(`b${i}`, [dims[i + 1]], l.bias));
  });
  graph.msg(11, valueInfo('x', dims[0])).msg(12, valueInfo('y', dims[dims.length - 1]));
  // IR version 8 with operator set 17: what ONNX Runtime releases of the last years all load.
  return new Proto().int(1, 8).str(2, 'hemaclust-bench').msg(7, graph).msg(8, new Proto().str(1, '').int(2, 17)).finish();
}
