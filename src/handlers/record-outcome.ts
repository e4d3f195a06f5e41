import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildRecordOutcome } from '../lib/functions/training.js';
import type { OutcomeRecord } from '../lib/training/outcome.js';

/** Every state machine's last Task: record how the run ended in the registry and release the training lock. */
const entry = buildRecordOutcome(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<OutcomeRecord> => {
  const result = await entry(event, context);
  return result;
};
