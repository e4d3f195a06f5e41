import { describe, expect, it } from 'vitest';
import { checkUnitsFit, unitsForConcurrency } from '../../../src/lib/serving/units.js';

describe('inference units and classify concurrency', () => {
  it('fits the defaults: concurrency 5 keeps one unit busy', () => {
    expect(checkUnitsFit(5, 1, 1)).toMatchObject({ ok: true, unitsForConcurrency: 1 });
  });

  it.each([
    [5, 1, 2, 'set maxInferenceUnits to 1, or classifyConcurrency to 6–10 for 2 unit(s)'],
    [12, 1, 2, 'set maxInferenceUnits to 3, or classifyConcurrency to 6–10 for 2 unit(s)'],
    [10, 3, 2, 'minInferenceUnits 3 is above maxInferenceUnits 2'],
  ])('refuses concurrency %i with units %i–%i', (concurrency, min, max, message) => {
    const fit = checkUnitsFit(concurrency, min, max);
    expect(fit.ok).toBe(false);
    expect(fit.message).toContain(message);
  });

  it('rounds up: 6 to 10 callers keep two units busy', () => {
    expect([1, 5, 6, 10, 11].map((c) => unitsForConcurrency(c))).toEqual([1, 1, 2, 2, 3]);
  });
});
