import type { Context } from 'aws-lambda';
import { classifyDependencies } from '../lib/classify-wiring.js';
import { loadRedriveConfig } from '../lib/config.js';
import { logger, metrics, publishMetrics } from '../lib/observability.js';
import { parseRedriveRequest, redrivePage } from '../lib/redrive.js';
import type { RedriveProgress } from '../lib/redrive.js';

const config = loadRedriveConfig();

const deps = {
  ...classifyDependencies(config),
  pageSize: config.pageSize,
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
    publishMetrics(metrics);
  }
};
