import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildEvaluate } from '../lib/functions/training.js';
import type { Evaluation } from '../lib/training/evaluate.js';

/** Train-and-deploy: read the evaluation summary, apply the gate, record metrics and decision. */
const entry = buildEvaluate(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<Evaluation> => {
  const result = await entry(event, context);
  return result;
};
