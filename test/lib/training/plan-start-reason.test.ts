import { describe, expect, it } from 'vitest';
import { InvalidTrainingInputError } from '../../../src/lib/errors.js';
import { planStart } from '../../../src/lib/training/promote.js';
import type { PlanStartDeps } from '../../../src/lib/training/promote.js';

// The reason is checked before anything is read: no dependency is reached for a refused input.
const unreachable = new Proxy({}, { get: () => { throw new Error('a dependency was used'); } }) as PlanStartDeps;

describe("planStart's reason", () => {
  it.each([['bored'], [42]])('refuses %j, naming the reasons it knows', async (reason) => {
    await expect(planStart(unreachable, { reason })).rejects.toThrow(
      new InvalidTrainingInputError(`reason must be one of on-demand, schedule, user, retrain, got ${JSON.stringify(reason)}`),
    );
  });
});
