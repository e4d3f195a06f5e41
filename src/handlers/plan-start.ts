import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { loadStartConfig } from '../lib/config.js';
import { planStartFunction } from '../lib/functions/training.js';
import { loadServingPolicy } from '../lib/serving/config.js';
import type { StartPlan } from '../lib/training/promote.js';

/** Start path, first step: which version to start and with how many inference units. */
const entry = planStartFunction(deployedRuntime(), loadStartConfig(), loadServingPolicy());

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<StartPlan> => {
  const result = await entry(event, context);
  return result;
};
