// Simulated flow-analyzer data (RBC/PLT channel) with ground truth: see sample.ts for the model.
export * from './rng.js';
export * from './species.js';
export * from './sample.js';
export * from './cohort.js';
