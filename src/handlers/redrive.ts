import type { Context } from 'aws-lambda';
import { documentClient, rekognitionClient, s3Client } from '../lib/clients.js';
import { loadRedriveConfig } from '../lib/config.js';
import { ModelRegistry } from '../lib/model-registry.js';
import { logger, metrics } from '../lib/observability.js';
import { ResultStore } from '../lib/results.js';
import { parseRedriveRequest, redrivePage } from '../lib/training/redrive.js';
import type { RedriveProgress } from '../lib/training/redrive.js';

const config = loadRedriveConfig();

const deps = {
  s3: s3Client,
  rekognition: rekognitionClient,
  results: new ResultStore(documentClient, config.resultsTable),
  registry: new ModelRegistry(documentClient, config.registryTable, config.registryCacheMs),
  reviewThreshold: config.reviewThreshold,
  documents: documentClient,
  resultsTable: config.resultsTable,
  pageSize: config.pageSize,
  logger,
  metrics,
};

/** Start path, after promotion: classify one page of images that waited for a model; the state machine loops. */
export const handler = async (event: unknown, context: Context): Promise<RedriveProgress> => {
  logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    const progress = await redrivePage(deps, parseRedriveRequest(event));
    logger.info('redrive page done', { done: progress.done, totals: progress.totals });
    return progress;
  } finally {
    metrics.publishStoredMetrics();
  }
};
