import type { Context } from 'aws-lambda';
import { documentClient } from '../lib/clients.js';
import { loadRegistryConfig } from '../lib/config.js';
import { logger } from '../lib/observability.js';
import { parsePromoteRequest, promoteVersion } from '../lib/training/promote.js';
import type { Promotion } from '../lib/training/promote.js';
import { TrainingRegistry } from '../lib/training/registry.js';

const config = loadRegistryConfig();

const deps = { registry: new TrainingRegistry(documentClient, config.registryTable) };

/** Start path: make the running version the one classify uses; return the one it replaced. */
export const handler = async (event: unknown, context: Context): Promise<Promotion> => {
  logger.addContext(context);
  const promotion = await promoteVersion(deps, parsePromoteRequest(event));
  logger.info('model promoted', { ...promotion });
  return promotion;
};
