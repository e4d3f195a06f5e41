import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildRedrive } from '../lib/functions/redrive.js';
import type { RedriveProgress } from '../lib/redrive.js';

/** Start path, after promotion: classify one page of images that waited for a model; the state machine loops. */
const entry = buildRedrive(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<RedriveProgress> => {
  const result = await entry(event, context);
  return result;
};
