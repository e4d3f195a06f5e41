import type { Context } from 'aws-lambda';
import { documentClient } from '../lib/clients.js';
import { loadStartConfig } from '../lib/config.js';
import { logger } from '../lib/observability.js';
import { loadServingPolicy } from '../lib/serving/config.js';
import { ServingStore } from '../lib/serving/store.js';
import { planStart } from '../lib/training/promote.js';
import type { StartPlan } from '../lib/training/promote.js';
import { TrainingRegistry } from '../lib/training/registry.js';

const config = loadStartConfig();

const deps = {
  registry: new TrainingRegistry(documentClient, config.registryTable),
  config,
  serving: { store: new ServingStore(documentClient, config.registryTable), policy: loadServingPolicy() },
};

/** Start path, first step: which version to start and with how many inference units. */
export const handler = async (event: unknown, context: Context): Promise<StartPlan> => {
  logger.addContext(context);
  const plan = await planStart(deps, event);
  logger.info('start planned', { ...plan });
  return plan;
};
