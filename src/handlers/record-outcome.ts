import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { loadOutcomeConfig } from '../lib/config.js';
import { recordOutcomeFunction } from '../lib/functions/training.js';
import { loadServingPolicy } from '../lib/serving/config.js';
import type { OutcomeRecord } from '../lib/training/outcome.js';

/** Every state machine's last Task: record how the run ended in the registry and release the training lock. */
const config = loadOutcomeConfig();
// Only this function publishes events: its client stays out of the shared runtime (and classify's bundle).
const events = { client: new EventBridgeClient({ maxAttempts: 5 }), busName: config.eventBusName, source: config.retrainEventSource };
const entry = recordOutcomeFunction(deployedRuntime(), config, loadServingPolicy(), { events });

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<OutcomeRecord> => {
  const result = await entry(event, context);
  return result;
};
