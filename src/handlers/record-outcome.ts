import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { documentClient } from '../lib/clients.js';
import { loadOutcomeConfig } from '../lib/config.js';
import { publishRetrainEvent, retrainEventDetail } from '../lib/events/retrain-events.js';
import { logger } from '../lib/observability.js';
import { loadServingPolicy } from '../lib/serving/config.js';
import { ServingStore } from '../lib/serving/store.js';
import { parseOutcomeRequest, recordOutcome } from '../lib/training/outcome.js';
import type { OutcomeRecord } from '../lib/training/outcome.js';
import { TrainingRegistry } from '../lib/training/registry.js';

const config = loadOutcomeConfig();

const deps = {
  registry: new TrainingRegistry(documentClient, config.registryTable),
  serving: { store: new ServingStore(documentClient, config.registryTable), policy: loadServingPolicy() },
};
const events = { client: new EventBridgeClient({ maxAttempts: 5 }), busName: config.eventBusName, source: config.retrainEventSource };

/** Every state machine's last Task: record how the run ended in the registry and release the training lock. */
export const handler = async (event: unknown, context: Context): Promise<OutcomeRecord> => {
  logger.addContext(context);
  const request = parseOutcomeRequest(event);
  const record = await recordOutcome(deps, request);
  // A stop run reports every version of the project (hundreds, after months of daily retraining): log the ones it stopped.
  const { stopped, ...summary } = record;
  const details = { ...summary, versionsSeen: stopped.length, versionsStopped: stopped.filter((version) => version.action === 'stopped').map((version) => version.versionName) };
  if (record.error) logger.warn('run ended without success', details);
  else logger.info('run ended', details);
  const detail = retrainEventDetail(record, request.executionArn, new Date().toISOString());
  if (detail) await publishRetrainEvent(events, detail);
  return record;
};
