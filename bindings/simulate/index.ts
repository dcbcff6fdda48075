// Simulated flow-analyzer data (RBC/PLT channel) with ground truth: see sample.ts for the model,
// domains.ts for the family of simulated instruments.
export * from './rng.js';
export * from './species.js';
export * from './sample.js';
export * from './cells.js';
export * from './shapes.js';
export * from './domains.js';
export * from './instrument.js';
export * from './cohort.js';
