import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { loadClassifyConfig } from '../lib/config.js';
import { classifyFunction } from '../lib/functions/classify.js';
import type { ImageOutcome } from '../lib/image-outcome.js';
import { classifyServing } from '../lib/serving/wiring.js';

/** S3 ObjectCreated notifications for `inbox/` → one result row per image. Config is read and checked at cold start. */
const runtime = deployedRuntime();
const entry = classifyFunction(runtime, loadClassifyConfig(), { serving: classifyServing(runtime) });

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<ImageOutcome[]> => {
  const result = await entry(event, context);
  return result;
};
