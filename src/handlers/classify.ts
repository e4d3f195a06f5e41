import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildClassify } from '../lib/functions/classify.js';
import type { ImageOutcome } from '../lib/image-outcome.js';

/** S3 ObjectCreated notifications for `inbox/` → one result row per image. Config is read and checked at cold start. */
const entry = buildClassify(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<ImageOutcome[]> => {
  const result = await entry(event, context);
  return result;
};
