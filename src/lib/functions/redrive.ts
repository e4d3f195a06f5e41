import type { FunctionBuilder, LambdaEntry, Runtime } from '../composition.js';
import { loadRedriveConfig } from '../config.js';
import type { RedriveConfig } from '../config.js';
import { publishMetrics } from '../observability.js';
import { parseRedriveRequest, redrivePage } from '../redrive.js';
import type { ServingHook } from '../serving/classify-hook.js';
import { redriveServing } from '../serving/wiring.js';
import type { RedriveProgress } from '../redrive.js';
import { classifyDependencies } from './classify.js';

/** Start path, after promotion: classify one page of images that waited for a model; the state machine loops. */
export function redriveFunction(
  runtime: Runtime,
  config: RedriveConfig,
  options: { readonly serving?: ServingHook } = {},
): LambdaEntry<RedriveProgress> {
  const deps = { ...classifyDependencies(runtime, config, options.serving), pageSize: config.pageSize };
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

export const buildRedrive: FunctionBuilder<RedriveProgress> = (runtime, env) =>
  redriveFunction(runtime, loadRedriveConfig(env), { serving: redriveServing(runtime, env) });
