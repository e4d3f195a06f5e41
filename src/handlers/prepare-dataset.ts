import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildPrepareDataset } from '../lib/functions/training.js';
import type { TrainingPlan } from '../lib/training/prepare.js';

/** Train-and-deploy, first step: validate the input, take the lock, write the manifests, return the plan. */
const entry = buildPrepareDataset(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<TrainingPlan> => {
  const result = await entry(event, context);
  return result;
};
