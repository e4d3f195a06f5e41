import { classifyS3Event } from '../classify.js';
import type { ClassifyDeps } from '../classify.js';
import type { FunctionBuilder, LambdaEntry, Runtime } from '../composition.js';
import { loadClassifyConfig } from '../config.js';
import type { ClassifyConfig } from '../config.js';
import type { ImageOutcome } from '../image-outcome.js';
import { ModelRegistry } from '../model-registry.js';
import { publishMetrics } from '../observability.js';
import type { ServingHook } from '../serving/classify-hook.js';
import { classifyServing } from '../serving/wiring.js';
import { ResultsTable } from '../tables/results.js';

/** Classify's dependencies on a runtime: shared by the classify and re-drive functions. */
export function classifyDependencies(runtime: Runtime, config: ClassifyConfig, serving?: ServingHook): ClassifyDeps {
  return {
    ...(serving ? { serving } : {}),
    s3: runtime.s3,
    rekognition: runtime.rekognition,
    results: new ResultsTable(runtime.documents, config.resultsTable),
    registry: new ModelRegistry(runtime.documents, config.registryTable, config.registryCacheMs),
    reviewThreshold: config.reviewThreshold,
    logger: runtime.logger,
    metrics: runtime.metrics,
    clock: runtime.clock,
  };
}

/**
 * S3 ObjectCreated notifications for `inbox/` → one result row per image. `serving` (on-demand start and usage
 * marks, src/lib/serving) is optional: without it classify only stores rows.
 */
export function classifyFunction(runtime: Runtime, config: ClassifyConfig, options: { readonly serving?: ServingHook } = {}): LambdaEntry<ImageOutcome[]> {
  const deps = classifyDependencies(runtime, config, options.serving);
  const { logger, metrics } = runtime;
  return async (event, context) => {
    if (context) logger.addContext(context);
    metrics.captureColdStartMetric();
    try {
      return await classifyS3Event(deps, event);
    } finally {
      publishMetrics(metrics);
    }
  };
}

/** The classify Lambda as deployed: its config and serving policy from its environment. */
export const buildClassify: FunctionBuilder<ImageOutcome[]> = (runtime, env) =>
  classifyFunction(runtime, loadClassifyConfig(env), { serving: classifyServing(runtime, env) });
