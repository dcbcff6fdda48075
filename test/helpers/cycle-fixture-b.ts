// Fixture for test/import-cycles.test.ts: the other half of the deliberate cycle.
import { a } from './cycle-fixture-a.js';
export const b = a + 1;
