/*
 * Inference units and classify's concurrency must fit together. Each unit answers a bounded rate of
 * DetectCustomLabels calls; classify calls one image at a time per invocation. The pipeline bench measured that 5
 * concurrent invocations keep one unit at least 95 % busy from 100 ms down to 25 ms per image, so:
 *
 *   (maxInferenceUnits − 1) × callersPerUnit < classifyConcurrency ≤ maxInferenceUnits × callersPerUnit
 *
 * Fewer callers than that leave units auto-scaling may add (or a min above 1) without enough work to scale on;
 * more callers than the largest model can serve only throttle (ProvisionedThroughputExceeded) and retry.
 */

export const CALLERS_PER_UNIT = 5;

export interface UnitsFit {
  readonly ok: boolean;
  /** The max units this concurrency can keep busy. */
  readonly unitsForConcurrency: number;
  readonly message: string;
}

export function unitsForConcurrency(classifyConcurrency: number, callersPerUnit = CALLERS_PER_UNIT): number {
  return Math.max(1, Math.ceil(classifyConcurrency / callersPerUnit));
}

export function checkUnitsFit(classifyConcurrency: number, minUnits: number, maxUnits: number, callersPerUnit = CALLERS_PER_UNIT): UnitsFit {
  const fits = unitsForConcurrency(classifyConcurrency, callersPerUnit);
  const rule = `classify concurrency ${classifyConcurrency} keeps ${fits} unit(s) busy at ${callersPerUnit} callers per unit`;
  if (minUnits > maxUnits) return { ok: false, unitsForConcurrency: fits, message: `minInferenceUnits ${minUnits} is above maxInferenceUnits ${maxUnits}` };
  if (maxUnits !== fits) {
    const concurrency = `${(maxUnits - 1) * callersPerUnit + 1}–${maxUnits * callersPerUnit}`;
    return {
      ok: false,
      unitsForConcurrency: fits,
      message: `${rule}, not ${maxUnits}: set maxInferenceUnits to ${fits}, or classifyConcurrency to ${concurrency} for ${maxUnits} unit(s)`,
    };
  }
  return { ok: true, unitsForConcurrency: fits, message: rule };
}
