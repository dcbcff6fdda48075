// The reticulocyte count's scale (retic-count.ts): fitted from training references against argmax
// counts, applied to a sample's counts by moving whole events between rbc and reticulocyte.
import { describe, expect, it } from 'vitest';
import { fitReticScale, scaleReticCount } from '../bindings/pipeline/retic-count.js';

describe('reticulocyte count scale', () => {
  it('is the least-squares scale through the origin', () => {
    // References 8 % above the counts on every sample: exactly 1.08.
    const counted = [0.5, 2, 7.5, 12];
    expect(fitReticScale(counted, counted.map((x) => 1.08 * x))).toBeCloseTo(1.08, 12);
    // Σ r·x / Σ x² by hand: (1·1 + 2·3) / (1 + 4) = 1.4.
    expect(fitReticScale([1, 2], [1, 3])).toBeCloseTo(1.4, 12);
    // The high-reticulocyte sample weighs most (points, not relative error).
    expect(fitReticScale([1, 10], [2, 10])).toBeLessThan(1.02);
  });

  it('falls back to 1 without counted reticulocytes and stays within its guard', () => {
    expect(fitReticScale([0, 0], [1, 2])).toBe(1);
    expect(fitReticScale([1, 1], [10, 10])).toBe(2);
    expect(fitReticScale([1, 1], [0, 0])).toBe(0.5);
    expect(() => fitReticScale([1], [1, 2])).toThrow(/1 counts for 2 references/);
  });

  it('moves whole events between rbc and reticulocyte, other counts unchanged', () => {
    const c = { platelet: 50, rbc: 900, reticulocyte: 100, clumped_rbc: 20 };
    scaleReticCount(c, 1.084);
    expect(c).toEqual({ platelet: 50, rbc: 892, reticulocyte: 108, clumped_rbc: 20 });
    scaleReticCount(c, 1);
    expect(c.reticulocyte).toBe(108);
    // Never more reticulocytes than single red cells.
    const d = { rbc: 3, reticulocyte: 10 };
    scaleReticCount(d, 2);
    expect(d).toEqual({ rbc: 0, reticulocyte: 13 });
  });
});
