// GPU plumbing shared by every op: the device and its limits, the lazily submitted command
// encoder, the uniform ring, scratch and staging pools, the pipeline cache, and the error/lost state.
//
// Life of an op: it validates (checks.ts), then calls `rowOp`/`dispatch`, which records a compute
// pass into the current command encoder with its parameters in a 256-byte slot of the uniform
// ring. Nothing is submitted until a download/sync/upload needs it, or the batch gets large (ring
// full, scratch budget spent), so a training step is one submission.
import { SHADERS } from './shaders.generated.js';
import { ceilDiv, planRowChunks, splitGroups, type Chunk } from './plan.js';
import { WebGPUTensor } from './tensor.js';

/** A storage binding: a buffer range, and whether the kernel writes it. */
export interface Bind {
  buffer: GPUBuffer;
  offset: number;
  size: number;
  write: boolean;
}

/** An argument of a row-chunked op: either bound by row ranges (width = elements per row) or whole. */
export type Arg =
  | { rows: WebGPUTensor; width: number; write?: boolean }
  | { whole: WebGPUTensor | GPUBuffer; write?: boolean; bytes?: number }
  | { range: Bind };

export interface KernelRef {
  file: string;
  entry: string;
  /** Compile-time constants prepended as `const NAME = value;` (tile sizes, transposes). */
  consts?: Record<string, number | boolean>;
}

export type Param = { u: number } | { f: number } | { i: number };
export const u = (v: number): Param => ({ u: v >>> 0 });
export const f = (v: number): Param => ({ f: v });
export const i = (v: number): Param => ({ i: v | 0 });

const UNIFORM_SLOT = 256;
const UNIFORM_SLOTS = 1024;
const SCRATCH_BUDGET = 256 * 1024 * 1024;

export interface ContextOptions {
  /** Lower the storage-binding size (tests exercise chunking on small data). */
  maxBindingBytes?: number;
  /** Lower the workgroups per dispatch dimension (tests exercise 2-D dispatch splitting). */
  maxWorkgroupsPerDim?: number;
}

export class GpuContext {
  readonly bindLimit: number;
  readonly align: number;
  readonly maxPerDim: number;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private firstError: string | null = null;
  private pendingChecks: Promise<string | null>[] = [];
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private commands = 0;
  private uniformMirror = new ArrayBuffer(UNIFORM_SLOT * UNIFORM_SLOTS);
  private uniformView = new DataView(this.uniformMirror);
  private uniformUsed = 0;
  private uniformBuffer: GPUBuffer;
  private scratchFree: GPUBuffer[] = [];
  private scratchUsed: GPUBuffer[] = [];
  private scratchBytes = 0;
  private stagingFree: GPUBuffer[] = [];
  private toDestroy: GPUBuffer[] = [];
  destroyed = false;
  /** Number of queue submissions so far (tests check that a batch of ops is one submission). */
  submissions = 0;

  constructor(readonly device: GPUDevice, opts: ContextOptions = {}) {
    const lim = device.limits;
    this.bindLimit = Math.min(lim.maxStorageBufferBindingSize, opts.maxBindingBytes ?? Infinity);
    this.align = lim.minStorageBufferOffsetAlignment;
    this.maxPerDim = Math.min(lim.maxComputeWorkgroupsPerDimension, opts.maxWorkgroupsPerDim ?? Infinity);
    this.uniformBuffer = device.createBuffer({
      label: 'hemaclust uniform ring', size: UNIFORM_SLOT * UNIFORM_SLOTS,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    void device.lost.then((info) => { this.lostInfo = info; });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.firstError ??= `webgpu: uncaptured ${e.constructor?.name ?? 'GPU'} error: ${e.message}`;
    });
  }

  /** Throws if the device is lost or an asynchronous error was reported; every op calls it first. */
  alive(): void {
    if (this.lostInfo) throw new Error(`webgpu: device lost (reason ${this.lostInfo.reason}${this.lostInfo.message ? ': ' + this.lostInfo.message : ''})`);
    if (this.destroyed) throw new Error('webgpu: backend was destroyed');
    if (this.firstError) throw new Error(this.firstError);
  }

  get lost(): GPUDeviceLostInfo | null {
    return this.lostInfo;
  }

  // ---- buffers ------------------------------------------------------------------------------
  createStorage(bytes: number, label: string): GPUBuffer {
    const size = Math.max(16, ceilDiv(bytes, 16) * 16);
    if (size > this.device.limits.maxBufferSize) {
      throw new Error(`webgpu: ${label} needs ${bytes} bytes, over the device's maxBufferSize ${this.device.limits.maxBufferSize}`);
    }
    return this.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }

  /**
   * Start an op: fail fast when lost, submit when the batch is large, and recycle scratch buffers.
   * Scratch lives for one op only; reusing it in the next op is safe because dispatches on one
   * queue execute in order.
   */
  begin(): void {
    this.alive();
    if (this.uniformUsed > this.uniformMirror.byteLength - 64 * UNIFORM_SLOT || this.scratchBytes > SCRATCH_BUDGET) this.flush();
    this.scratchFree.push(...this.scratchUsed);
    this.scratchUsed = [];
    this.scratchBytes = 0;
  }

  /** A storage buffer private to the current op (partials, alias copies). */
  scratch(bytes: number): GPUBuffer {
    const need = Math.max(16, ceilDiv(bytes, 16) * 16);
    let k = this.scratchFree.findIndex((b) => b.size >= need && b.size <= 4 * need);
    let buf: GPUBuffer;
    if (k >= 0) buf = this.scratchFree.splice(k, 1)[0];
    else buf = this.createStorage(2 ** Math.ceil(Math.log2(need)), 'hemaclust scratch');
    this.scratchUsed.push(buf);
    this.scratchBytes += buf.size;
    return buf;
  }

  /** Destroy a buffer once the work already recorded against it has been submitted. */
  release(buf: GPUBuffer): void {
    if (this.encoder) this.toDestroy.push(buf);
    else buf.destroy();
  }

  /** Upload host data; earlier recorded work is submitted first so queue order equals call order. */
  write(buf: GPUBuffer, data: ArrayBufferView): void {
    if (this.encoder) this.flush();
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Copy `bytes` from a buffer to the host via a pooled MAP_READ staging buffer. */
  async read(src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(ceilDiv(bytes, 4) * 4)));
    let k = this.stagingFree.findIndex((b) => b.size === size);
    const staging = k >= 0 ? this.stagingFree.splice(k, 1)[0]
      : this.device.createBuffer({ label: 'hemaclust staging', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.enc().copyBufferToBuffer(src, 0, staging, 0, ceilDiv(bytes, 4) * 4);
    this.commands++;
    this.flush();
    await this.settle();
    try {
      await this.raceLost(staging.mapAsync(GPUMapMode.READ, 0, ceilDiv(bytes, 4) * 4));
    } catch (e) {
      this.alive();
      throw new Error(`webgpu: mapAsync of a staging buffer failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange(0, ceilDiv(bytes, 4) * 4).slice(0, bytes);
    staging.unmap();
    this.stagingFree.push(staging);
    return out;
  }

  /** Submit everything recorded and wait until the queue is idle. */
  async sync(): Promise<void> {
    this.alive();
    this.flush();
    await this.settle();
    await this.raceLost(this.device.queue.onSubmittedWorkDone());
    this.alive();
  }

  /** Await pending pipeline validation results and report the first error clearly. */
  private async settle(): Promise<void> {
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    for (const msg of await Promise.all(checks)) if (msg) this.firstError ??= msg;
    this.alive();
  }

  private raceLost<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.device.lost.then((info) => {
      throw new Error(`webgpu: device lost (reason ${info.reason}${info.message ? ': ' + info.message : ''})`);
    })]);
  }

  // ---- recording --------------------------------------------------------------------------
  private enc(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'hemaclust batch' });
    return this.encoder;
  }

  /** Submit the current batch (if any). */
  flush(): void {
    if (!this.encoder) return;
    if (this.uniformUsed > 0) this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformMirror, 0, this.uniformUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.submissions++;
    this.encoder = null;
    this.commands = 0;
    this.uniformUsed = 0;
    for (const b of this.toDestroy) b.destroy();
    this.toDestroy = [];
  }

  pipeline(k: KernelRef): GPUComputePipeline {
    const consts = Object.entries(k.consts ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const modKey = `${k.file}|${consts.map(([n, v]) => `${n}=${v}`).join(',')}`;
    const key = `${modKey}|${k.entry}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    this.device.pushErrorScope('validation');
    let mod = this.modules.get(modKey);
    if (!mod) {
      const body = SHADERS[k.file];
      if (body === undefined) throw new Error(`webgpu: no WGSL source '${k.file}' (run npm run build:wgsl)`);
      const header = consts.map(([n, v]) => `const ${n} = ${typeof v === 'boolean' ? v : `${v}u`};`).join('\n');
      mod = this.device.createShaderModule({ label: `hemaclust ${modKey}`, code: `${header}\n${SHADERS['common.wgsl']}\n${body}` });
      this.modules.set(modKey, mod);
      const m = mod;
      this.pendingChecks.push(m.getCompilationInfo().then((info) => {
        const errs = info.messages.filter((x) => x.type === 'error');
        return errs.length ? `webgpu: WGSL compile error in ${modKey}: ${errs.map((x) => `${x.lineNum}:${x.linePos} ${x.message}`).join('; ')}` : null;
      }));
    }
    p = this.device.createComputePipeline({ label: `hemaclust ${key}`, layout: 'auto', compute: { module: mod, entryPoint: k.entry } });
    this.pendingChecks.push(this.device.popErrorScope().then((e) => (e ? `webgpu: pipeline ${key} failed validation: ${e.message}` : null)));
    this.pipelines.set(key, p);
    return p;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Record one dispatch of `groups` workgroups (split on a 2-D grid if needed). Read-only bindings
   * that overlap a written binding of the same buffer are first copied to scratch (WebGPU forbids
   * a writable binding aliasing another binding in one dispatch).
   */
  dispatch(k: KernelRef, params: Param[], binds: Bind[], groups: number): void {
    if (groups <= 0) return;
    const pipe = this.pipeline(k);
    if (params.length * 4 > UNIFORM_SLOT) throw new Error(`webgpu: ${k.entry} has too many parameters`);
    // A full ring submits the batch mid-op; scratch is not recycled there, so partials stay valid.
    if (this.uniformUsed + UNIFORM_SLOT > this.uniformMirror.byteLength) this.flush();
    const enc = this.enc();
    const bound = binds.map((b) => {
      if (b.write) return b;
      const clash = binds.some((w) => w.write && w.buffer === b.buffer && w.offset < b.offset + b.size && b.offset < w.offset + w.size);
      if (!clash) return b;
      const copy = this.scratch(b.size);
      enc.copyBufferToBuffer(b.buffer, b.offset, copy, 0, b.size);
      return { buffer: copy, offset: 0, size: b.size, write: false };
    });
    const slot = this.uniformUsed;
    params.forEach((p, j) => {
      if ('u' in p) this.uniformView.setUint32(slot + 4 * j, p.u, true);
      else if ('f' in p) this.uniformView.setFloat32(slot + 4 * j, p.f, true);
      else this.uniformView.setInt32(slot + 4 * j, p.i, true);
    });
    this.uniformUsed += UNIFORM_SLOT;
    for (const b of bound) {
      if (b.size > this.bindLimit) throw new Error(`webgpu: ${k.entry} binding of ${b.size} bytes exceeds the storage binding limit ${this.bindLimit}`);
    }
    const bindGroup = this.device.createBindGroup({
      label: `hemaclust ${k.entry}`,
      layout: pipe.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.uniformBuffer, offset: slot, size: Math.max(16, ceilDiv(params.length * 4, 16) * 16) } },
        ...bound.map((b, j) => ({ binding: j + 1, resource: { buffer: b.buffer, offset: b.offset, size: b.size } })),
      ],
    });
    const pass = enc.beginComputePass({ label: `hemaclust ${k.entry}` });
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bindGroup);
    const [x, y] = splitGroups(groups, this.maxPerDim);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    this.commands++;
  }

  /** The row chunks rowOp will use for these row widths. */
  chunks(rows: number, widths: number[]): Chunk[] {
    return planRowChunks(rows, widths, this.bindLimit, this.align);
  }

  /**
   * Run a kernel over `rows` rows, bound chunk by chunk so no binding exceeds the limit.
   * `params(chunk)` gives the uniforms, `groups(chunk)` the workgroup count of that chunk.
   */
  rowOp(k: KernelRef, rows: number, args: Arg[], params: (c: Chunk) => Param[], groups: (c: Chunk) => number): Chunk[] {
    const widths = args.flatMap((a) => ('rows' in a ? [a.width] : []));
    const chunks = this.chunks(rows, widths);
    for (const c of chunks) {
      const binds = args.map((a): Bind => {
        if ('rows' in a) {
          return { buffer: a.rows.buffer, offset: c.row0 * a.width * 4, size: c.rows * a.width * 4, write: !!a.write };
        }
        if ('range' in a) return a.range;
        const buf = a.whole instanceof WebGPUTensor ? a.whole.buffer : a.whole;
        const size = a.bytes ?? (a.whole instanceof WebGPUTensor ? a.whole.bytes : buf.size);
        return { buffer: buf, offset: 0, size: Math.max(4, size), write: !!a.write };
      });
      this.dispatch(k, params(c), binds, groups(c));
    }
    return chunks;
  }

  destroy(): void {
    if (this.destroyed) return;
    try {
      this.flush();
    } catch {
      /* the device may already be lost */
    }
    this.destroyed = true;
    for (const b of [...this.scratchFree, ...this.stagingFree]) b.destroy();
    this.uniformBuffer.destroy();
    this.device.destroy();
  }
}
