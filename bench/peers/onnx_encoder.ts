// Child process of the ONNX Runtime peers (onnx-peer.ts): one runtime at one thread count per
// process, because ONNX Runtime Web fixes its thread count when its wasm module first loads.
// Reads {"runtime": "web"|"node", "threads", "dims", "cells", "chunk"} on stdin; builds the encoder
// of bench/e2e/encoder-1m.ts (the same seeded weights and inputs) as an ONNX model, runs it over
// `cells` rows in chunks of `chunk` after one warm-up chunk, and prints
// {"seconds", "version", "threads"}.
import { standInInput, standInLayers } from '../lib/stand-in.js';
import { denseEncoderOnnx } from './onnx-model.js';

interface Job { runtime: 'web' | 'node'; threads: number; dims: number[]; cells: number; chunk: number }

// The slice of the ONNX Runtime API this uses, the same in its web and node packages.
interface OrtTensor { data: ArrayLike<number> }
interface OrtSession { run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>; release(): Promise<void> }
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  env: { versions?: Record<string, string>; wasm?: { numThreads?: number } };
}

async function load(job: Job): Promise<{ ort: Ort; options: object; version: string }> {
  if (job.runtime === 'node') {
    const ort = (await import('onnxruntime-node')) as unknown as Ort;
    return {
      ort, version: ort.env.versions?.node ?? ort.env.versions?.common ?? '?',
      options: { executionProviders: ['cpu'], intraOpNumThreads: job.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' },
    };
  }
  const ort = (await import('onnxruntime-web')) as unknown as Ort;
  ort.env.wasm!.numThreads = job.threads;
  return { ort, version: ort.env.versions?.web ?? ort.env.versions?.common ?? '?', options: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } };
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Job;
  const { dims, cells, chunk } = job;
  const layers = standInLayers(dims);
  const { ort, options, version } = await load(job);
  const session = await ort.InferenceSession.create(denseEncoderOnnx(dims, layers), options);
  const host = standInInput(chunk, dims[0]);
  let check = 0;
  const oneChunk = async () => {
    const out = await session.run({ x: new ort.Tensor('float32', host, [chunk, dims[0]]) });
    check += out.y.data[0];
  };
  await oneChunk();
  const t0 = performance.now();
  for (let done = 0; done < cells; done += chunk) await oneChunk();
  const seconds = (performance.now() - t0) / 1e3;
  await session.release();
  // The threads the runtime settled on: ONNX Runtime Web lowers numThreads to 1 where its threaded
  // build cannot start; the native build takes intraOpNumThreads as given.
  const threads = job.runtime === 'web' ? ort.env.wasm!.numThreads ?? 1 : job.threads;
  process.stdout.write(JSON.stringify({ seconds, version, threads, check }));
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
