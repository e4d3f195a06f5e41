import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildServingCheck } from '../lib/functions/operations.js';
import type { CheckReport } from '../lib/serving/check.js';

/** Every few minutes: stop an idle or capped model, start a stopped one for images that still wait. */
const entry = buildServingCheck(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<CheckReport> => {
  const result = await entry(event, context);
  return result;
};
