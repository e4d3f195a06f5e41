import type { Runtime } from '../composition.js';
import type { RedriveConfig } from '../config.js';
import { publishMetrics } from '../observability.js';
import { parseRedriveRequest, redrivePage } from '../redrive.js';
import type { ServingHook } from '../serving/classify-hook.js';
import type { RedriveProgress } from '../redrive.js';
import { classifyDependencies } from './classify.js';
import type { LambdaEntry } from './classify.js';

/** Start path, after promotion: classify one page of images that waited for a model; the state machine loops. */
export function redriveFunction(
  runtime: Runtime,
  config: RedriveConfig,
  options: { readonly clock?: () => number; readonly serving?: ServingHook } = {},
): LambdaEntry<RedriveProgress> {
  const { serving, ...rest } = options;
  const deps = { ...classifyDependencies(runtime, config, serving), pageSize: config.pageSize, ...rest };
  const { logger, metrics } = runtime;
  return async (event, context) => {
    if (context) logger.addContext(context);
    metrics.captureColdStartMetric();
    try {
      const progress = await redrivePage(deps, parseRedriveRequest(event));
      logger.info('redrive page done', { done: progress.done, totals: progress.totals });
      return progress;
    } finally {
      publishMetrics(metrics);
    }
  };
}
