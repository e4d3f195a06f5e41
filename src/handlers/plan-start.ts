import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildPlanStart } from '../lib/functions/training.js';
import type { StartPlan } from '../lib/training/promote.js';

/** Start path, first step: which version to start and with how many inference units. */
const entry = buildPlanStart(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<StartPlan> => {
  const result = await entry(event, context);
  return result;
};
