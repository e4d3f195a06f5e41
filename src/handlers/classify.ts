import type { Context } from 'aws-lambda';
import { classifyS3Event } from '../lib/classify.js';
import type { RecordOutcome } from '../lib/classify.js';
import { classifyDependencies } from '../lib/classify-wiring.js';
import { loadClassifyConfig } from '../lib/config.js';
import { logger, metrics, publishMetrics } from '../lib/observability.js';
import { classifyServing } from '../lib/serving/wiring.js';

const deps = { ...classifyDependencies(loadClassifyConfig()), serving: classifyServing() };

/** S3 ObjectCreated notifications for `inbox/` → one result row per image. */
export const handler = async (event: unknown, context: Context): Promise<RecordOutcome[]> => {
  logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    return await classifyS3Event(deps, event);
  } finally {
    publishMetrics(metrics);
  }
};
