// What the route groups (routes/*.ts) share: created once by createApp and handed to each group,
// so a group is a plain function of its dependencies and holds no state of its own.
import type { MiddlewareHandler } from 'hono';
import type { Guard, Limits } from './limits.js';
import type { JobRegistry } from './jobs.js';
import type { Models } from './models.js';
import type { Engine } from './engine.js';
import type { AssetSource } from './assets.js';

export interface Services {
  limits: Limits;
  guard: Guard;
  jobs: JobRegistry;
  models: Models;
  engine: Engine;
  /** Requires the API key (write endpoints). */
  auth: MiddlewareHandler;
  /** The backend kind asked for, shown by /health until the engine has created one. */
  backendKind: string;
  assets?: AssetSource;
  log: (line: string) => void;
  isClosing(): boolean;
  /** Ends every open event stream (shutdown). */
  readonly streams: Set<() => void>;
}
