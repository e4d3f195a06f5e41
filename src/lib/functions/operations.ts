import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Env, FunctionBuilder, LambdaEntry, Runtime } from '../composition.js';
import { loadGaugesConfig, loadServingCheckConfig } from '../config.js';
import type { GaugesConfig, ServingCheckConfig } from '../config.js';
import { readGauges } from '../gauges.js';
import type { Gauges } from '../gauges.js';
import { executionStatusProbe, pendingWorkProbe, runServingCheck } from '../serving/check.js';
import type { CheckReport } from '../serving/check.js';
import { loadServingPolicy } from '../serving/config.js';
import { overduePendingSeconds } from '../serving/overdue.js';
import { servingHoldOf, ServingStore } from '../serving/store.js';
import { servingControl } from '../serving/wiring.js';
import { requiredVariable } from '../env.js';

/** Every few minutes (EventBridge Scheduler): the gauges the PENDING-age and serving-time alarms watch. */
export function gaugesFunction(runtime: Runtime, config: GaugesConfig, env: Env): LambdaEntry<Gauges & { readonly overduePendingAgeSeconds: number }> {
  const now = runtime.clock;
  const deps = { documents: runtime.documents, rekognition: runtime.rekognition, ...config, now };
  // Quiet hours, the cap and a user's hold are waiting by design: the alarm counts only the waiting beyond them.
  const policy = loadServingPolicy(env);
  const store = new ServingStore(runtime.documents, requiredVariable(env, 'REGISTRY_TABLE'));
  const { logger, metrics } = runtime;
  return async (_event, context) => {
    if (context) logger.addContext(context);
    const [gauges, serving, hold] = await Promise.all([readGauges(deps), store.read(), store.readHold()]);
    const overduePendingAgeSeconds = overduePendingSeconds(gauges.oldestPending?.since, serving?.state, servingHoldOf(hold), now(), policy);
    metrics.addMetric('OldestPendingAgeSeconds', MetricUnit.Seconds, gauges.oldestPendingAgeSeconds);
    metrics.addMetric('OverduePendingAgeSeconds', MetricUnit.Seconds, overduePendingAgeSeconds);
    metrics.addMetric('PendingImages', MetricUnit.Count, gauges.pendingImages);
    metrics.addMetric('BillingInferenceUnits', MetricUnit.Count, gauges.inferenceUnits);
    metrics.publishStoredMetrics();
    // The oldest waiting key is an identifier: logged like classify logs keys, never an image's content.
    logger.info('gauges', { ...gauges, overduePendingAgeSeconds });
    return { ...gauges, overduePendingAgeSeconds };
  };
}

/** Every few minutes: stop an idle or capped model, start a stopped one for images that still wait. */
export function servingCheckFunction(runtime: Runtime, config: ServingCheckConfig, env: Env): LambdaEntry<CheckReport> {
  const deps = {
    control: servingControl(runtime, env, { canStart: true, canStop: true }),
    pendingWork: pendingWorkProbe(runtime.documents, config.resultsTable),
    executionStatus: executionStatusProbe(runtime.clientSettings),
  };
  return async (_event, context) => {
    if (context) runtime.logger.addContext(context);
    const report = await runServingCheck(deps);
    if (report.cleared) {
      // A run that ended without its failure step (States.Runtime, a timeout, StopExecution): worth an operator's look.
      runtime.metrics.addMetric('ServingRequestsEndedUnrecorded', MetricUnit.Count, 1);
      runtime.metrics.publishStoredMetrics();
    }
    if (report.verdict.action !== 'none') runtime.logger.info('serving check acted', { ...report });
    return report;
  };
}

export const buildGauges: FunctionBuilder<Gauges> = (runtime, env) => gaugesFunction(runtime, loadGaugesConfig(env), env);

export const buildServingCheck: FunctionBuilder<CheckReport> = (runtime, env) => servingCheckFunction(runtime, loadServingCheckConfig(env), env);
