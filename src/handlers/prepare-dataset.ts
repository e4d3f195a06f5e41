import type { Context } from 'aws-lambda';
import { documentClient, s3Client } from '../lib/clients.js';
import { loadTrainingConfig } from '../lib/config.js';
import { logger } from '../lib/observability.js';
import { parsePrepareRequest, prepareTraining } from '../lib/training/prepare.js';
import type { TrainingPlan } from '../lib/training/prepare.js';
import { TrainingRegistry } from '../lib/training/registry.js';

const config = loadTrainingConfig();

const deps = {
  s3: s3Client,
  registry: new TrainingRegistry(documentClient, config.registryTable),
  config,
};

/** Train-and-deploy, first step: validate the input, take the lock, write the manifests, return the plan. */
export const handler = async (event: unknown, context: Context): Promise<TrainingPlan> => {
  logger.addContext(context);
  const plan = await prepareTraining(deps, parsePrepareRequest(event));
  logger.info('training prepared', { versionName: plan.versionName, labels: plan.dataset.training, testing: plan.dataset.testing });
  return plan;
};
