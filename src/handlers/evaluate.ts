import type { Context } from 'aws-lambda';
import { documentClient, s3Client } from '../lib/clients.js';
import { loadRegistryConfig } from '../lib/config.js';
import { logger } from '../lib/observability.js';
import { evaluateVersion, parseEvaluateRequest } from '../lib/training/evaluate.js';
import type { Evaluation } from '../lib/training/evaluate.js';
import { TrainingRegistry } from '../lib/training/registry.js';

const config = loadRegistryConfig();

const deps = {
  s3: s3Client,
  registry: new TrainingRegistry(documentClient, config.registryTable),
};

/** Train-and-deploy: read the evaluation summary, apply the gate, record metrics and decision. */
export const handler = async (event: unknown, context: Context): Promise<Evaluation> => {
  logger.addContext(context);
  const evaluation = await evaluateVersion(deps, parseEvaluateRequest(event));
  logger.info('model evaluated', { decision: evaluation.decision, reasons: evaluation.reasons, f1: evaluation.f1, positiveRecall: evaluation.positiveRecall });
  return evaluation;
};
