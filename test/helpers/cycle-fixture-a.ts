// Fixture for test/import-cycles.test.ts: half of a deliberate cycle (closed by a dynamic import).
export const a = 1;
export async function loadB(): Promise<number> {
  const { b } = await import('./cycle-fixture-b.js');
  return b;
}
