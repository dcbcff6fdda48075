// Model names become file names in the model directory, so they must not be able to leave it:
// one strict pattern (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 64
// characters) plus explicit refusals of '..', path separators and NUL for a clear message.
import { ApiError } from './errors.js';

export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Returns `name` if it is a safe model name, else throws a 400 ApiError saying why. */
export function checkModelName(name: string | undefined | null): string {
  if (name === undefined || name === null || name === '') throw new ApiError(400, 'missing_model', 'the model name is required (query parameter `model` or `name`)');
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  if (name.includes('\0')) throw new ApiError(400, 'bad_model_name', `model name ${shown} contains a NUL byte`);
  if (name.includes('/') || name.includes('\\')) throw new ApiError(400, 'bad_model_name', `model name ${shown} contains a path separator`);
  if (name.includes('..')) throw new ApiError(400, 'bad_model_name', `model name ${shown} contains '..'`);
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new ApiError(400, 'bad_model_name', `model name ${shown} must match ${MODEL_NAME_PATTERN.source} (letters, digits, '.', '_', '-'; 1-64 characters)`);
  }
  return name;
}
