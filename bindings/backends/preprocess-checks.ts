// Argument checks of the input-normalisation op (asinhStandardize), shared by the three backends in
// the style of checks.ts (same messages: op name, what is wrong, the shapes it got). Kept in its own
// file beside the backends for now; it belongs with the other checks in checks.ts.
import type { Backend, Tensor } from '../backend.js';
import { checkTensor, ShapeError } from '../checks.js';

const fmt = (t: Tensor) => `[${t.shape.join(',')}]${t.dtype === 'f32' ? '' : ':' + t.dtype}`;

/** x, out [N,D] f32 (out may be x); mean, std [D] f32; scale a positive finite number; every tensor
 *  owned by `be` and alive, as for every op. */
export function checkAsinhStandardize(be: Backend, x: Tensor, mean: Tensor, std: Tensor, scale: number, out: Tensor): void {
  const op = 'asinhStandardize';
  const args = { x, mean, std, out };
  for (const [name, t] of Object.entries(args)) {
    if (!t || typeof t !== 'object' || !Array.isArray(t.shape)) throw new ShapeError(`${op}: ${name} is not a tensor`);
    checkTensor(op, be, t);
  }
  const got = Object.entries(args).map(([k, t]) => `${k}${fmt(t)}`).join(' ');
  const fail = (what: string): never => {
    throw new ShapeError(`${op}: ${what} (got ${got})`);
  };
  for (const [name, t] of Object.entries(args)) if (t.dtype !== 'f32') fail(`${name} must be f32`);
  if (x.shape.length !== 2) fail('x must have rank 2');
  if (out.shape.length !== 2 || out.shape[0] !== x.shape[0] || out.shape[1] !== x.shape[1]) fail('out must be [N, D] like x');
  if (mean.shape.length !== 1 || mean.shape[0] !== x.shape[1]) fail('mean must be [D] for x [N, D]');
  if (std.shape.length !== 1 || std.shape[0] !== x.shape[1]) fail('std must be [D] for x [N, D]');
  if (!(Number.isFinite(scale) && scale > 0)) throw new ShapeError(`${op}: scale must be a positive finite number (got ${scale})`);
}
