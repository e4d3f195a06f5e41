import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { clientConfig } from '../composition.js';
import type { FunctionBuilder, LambdaEntry, Runtime } from '../composition.js';
import { loadOutcomeConfig, loadRegistryConfig, loadStartConfig, loadTrainingConfig } from '../config.js';
import type { RegistryConfig, StartConfig, TrainingConfig } from '../config.js';
import { publishRetrainEvent, retrainEventDetail } from '../events/retrain-events.js';
import type { RetrainEventTarget } from '../events/retrain-events.js';
import { loadServingPolicy } from '../serving/config.js';
import type { ServingPolicy } from '../serving/policy.js';
import { ServingStore } from '../serving/store.js';
import { evaluateVersion, parseEvaluateRequest } from '../training/evaluate.js';
import type { Evaluation } from '../training/evaluate.js';
import { parseOutcomeRequest, recordOutcome } from '../training/outcome.js';
import type { OutcomeRecord } from '../training/outcome.js';
import { parsePrepareRequest, prepareTraining } from '../training/prepare.js';
import type { TrainingPlan } from '../training/prepare.js';
import { parsePromoteRequest, planStart, promoteVersion } from '../training/promote.js';
import type { Promotion, StartPlan } from '../training/promote.js';
import { TrainingRegistry } from '../training/registry.js';

/*
 * The state machines' Lambdas. Each parses its payload, calls src/lib/training and logs what it decided; an error
 * is thrown as it is, because its name is what the state machine's Catch matches on.
 */

/** The serving bookkeeping the start and stop paths keep on the registry table. */
function servingOn(runtime: Runtime, config: RegistryConfig, policy: ServingPolicy): { readonly store: ServingStore; readonly policy: ServingPolicy } {
  return { store: new ServingStore(runtime.documents, config.registryTable), policy };
}

/** Train-and-deploy, first step: validate the input, take the lock, write the manifests, return the plan. */
export function prepareDatasetFunction(runtime: Runtime, config: TrainingConfig, ): LambdaEntry<TrainingPlan> {
  const deps = { s3: runtime.s3, registry: new TrainingRegistry(runtime.documents, config.registryTable), config, clock: runtime.clock };
  return async (event, context) => {
    if (context) runtime.logger.addContext(context);
    const plan = await prepareTraining(deps, parsePrepareRequest(event));
    runtime.logger.info('training prepared', { versionName: plan.versionName, labels: plan.dataset.training, testing: plan.dataset.testing });
    return plan;
  };
}

/** Train-and-deploy: read the evaluation summary, apply the gate, record metrics and decision. */
export function evaluateFunction(runtime: Runtime, config: RegistryConfig, ): LambdaEntry<Evaluation> {
  const deps = { s3: runtime.s3, registry: new TrainingRegistry(runtime.documents, config.registryTable), clock: runtime.clock };
  return async (event, context) => {
    if (context) runtime.logger.addContext(context);
    const evaluation = await evaluateVersion(deps, parseEvaluateRequest(event));
    runtime.logger.info('model evaluated', { decision: evaluation.decision, reasons: evaluation.reasons, f1: evaluation.f1, positiveRecall: evaluation.positiveRecall });
    return evaluation;
  };
}

/** Start path, first step: which version to start and with how many inference units. */
export function planStartFunction(runtime: Runtime, config: StartConfig, policy: ServingPolicy, ): LambdaEntry<StartPlan> {
  const deps = { registry: new TrainingRegistry(runtime.documents, config.registryTable), config, serving: servingOn(runtime, config, policy), clock: runtime.clock };
  return async (event, context) => {
    if (context) runtime.logger.addContext(context);
    const plan = await planStart(deps, event);
    runtime.logger.info('start planned', { ...plan });
    return plan;
  };
}

/** Start path: make the running version the one classify uses; return the one it replaced. */
export function promoteFunction(runtime: Runtime, config: RegistryConfig, ): LambdaEntry<Promotion> {
  const deps = { registry: new TrainingRegistry(runtime.documents, config.registryTable), clock: runtime.clock };
  return async (event, context) => {
    if (context) runtime.logger.addContext(context);
    const promotion = await promoteVersion(deps, parsePromoteRequest(event));
    runtime.logger.info('model promoted', { ...promotion });
    return promotion;
  };
}

/**
 * Every state machine's last Task: record how the run ended in the registry and release the training lock; a
 * retrain's end becomes an event on `events` (the stage's bus).
 */
export function recordOutcomeFunction(
  runtime: Runtime,
  config: RegistryConfig,
  policy: ServingPolicy,
  options: { readonly events?: RetrainEventTarget } = {},
): LambdaEntry<OutcomeRecord> {
  const { events } = options;
  const deps = { registry: new TrainingRegistry(runtime.documents, config.registryTable), serving: servingOn(runtime, config, policy), clock: runtime.clock };
  return async (event, context) => {
    if (context) runtime.logger.addContext(context);
    const request = parseOutcomeRequest(event);
    const record = await recordOutcome(deps, request);
    // A stop run reports every version of the project (hundreds, after months of daily retraining): log the ones it stopped.
    const { stopped, ...summary } = record;
    const details = { ...summary, versionsSeen: stopped.length, versionsStopped: stopped.filter((version) => version.action === 'stopped').map((version) => version.versionName) };
    if (record.error) runtime.logger.warn('run ended without success', details);
    else runtime.logger.info('run ended', details);
    const detail = events ? retrainEventDetail(record, request.executionArn, new Date(runtime.clock()).toISOString()) : undefined;
    if (events && detail) await publishRetrainEvent(events, detail);
    return record;
  };
}

export const buildPrepareDataset: FunctionBuilder<TrainingPlan> = (runtime, env) => prepareDatasetFunction(runtime, loadTrainingConfig(env));

export const buildEvaluate: FunctionBuilder<Evaluation> = (runtime, env) => evaluateFunction(runtime, loadRegistryConfig(env));

export const buildPlanStart: FunctionBuilder<StartPlan> = (runtime, env) => planStartFunction(runtime, loadStartConfig(env), loadServingPolicy(env));

export const buildPromote: FunctionBuilder<Promotion> = (runtime, env) => promoteFunction(runtime, loadRegistryConfig(env));

/** Only this function publishes events: its client is made here, not in the shared runtime (nor classify's bundle). */
export const buildRecordOutcome: FunctionBuilder<OutcomeRecord> = (runtime, env) => {
  const config = loadOutcomeConfig(env);
  const events = { client: new EventBridgeClient(clientConfig(runtime.clientSettings, 'eventbridge')), busName: config.eventBusName, source: config.retrainEventSource };
  return recordOutcomeFunction(runtime, config, loadServingPolicy(env), { events });
};
