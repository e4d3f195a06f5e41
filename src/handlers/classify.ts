import type { Context } from 'aws-lambda';
import { classifyS3Event } from '../lib/classify.js';
import type { ImageOutcome } from '../lib/image-outcome.js';
import { classifyDependencies } from '../lib/classify-wiring.js';
import { loadClassifyConfig } from '../lib/config.js';
import { logger, metrics, publishMetrics } from '../lib/observability.js';

const deps = classifyDependencies(loadClassifyConfig());

/** S3 ObjectCreated notifications for `inbox/` → one result row per image. */
export const handler = async (event: unknown, context: Context): Promise<ImageOutcome[]> => {
  logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    return await classifyS3Event(deps, event);
  } finally {
    publishMetrics(metrics);
  }
};
