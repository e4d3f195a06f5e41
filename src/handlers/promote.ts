import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildPromote } from '../lib/functions/training.js';
import type { Promotion } from '../lib/training/promote.js';

/** Start path: make the running version the one classify uses; return the one it replaced. */
const entry = buildPromote(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<Promotion> => {
  const result = await entry(event, context);
  return result;
};
