import type { Context } from 'aws-lambda';
import { classifyS3Event } from '../lib/classify.js';
import type { RecordOutcome } from '../lib/classify.js';
import { documentClient, rekognitionClient, s3Client } from '../lib/clients.js';
import { loadClassifyConfig } from '../lib/config.js';
import { ModelRegistry } from '../lib/model-registry.js';
import { logger, metrics } from '../lib/observability.js';
import { ResultStore } from '../lib/results.js';

const config = loadClassifyConfig();

const deps = {
  s3: s3Client,
  rekognition: rekognitionClient,
  results: new ResultStore(documentClient, config.resultsTable),
  registry: new ModelRegistry(documentClient, config.registryTable, config.registryCacheMs),
  reviewThreshold: config.reviewThreshold,
  logger,
  metrics,
};

/** S3 ObjectCreated notifications for `inbox/` → one result row per image. */
export const handler = async (event: unknown, context: Context): Promise<RecordOutcome[]> => {
  logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    return await classifyS3Event(deps, event);
  } finally {
    metrics.publishStoredMetrics();
  }
};
