import { optionalNumber, numberSetting, optionalText, parseEnv, requiredText } from './env.js';
import type { Env } from './env.js';
import { ConfigError } from './errors.js';

export interface ClassifyConfig {
  readonly resultsTable: string;
  readonly registryTable: string;
  /** Top-label confidence (0–100) below which a result is NEEDS_REVIEW instead of CLASSIFIED. */
  readonly reviewThreshold: number;
  /** How long a running model's registry entry is trusted before it is read again. */
  readonly registryCacheMs: number;
}

export function loadClassifyConfig(env: Env = process.env): ClassifyConfig {
  const settings = parseEnv(
    {
      RESULTS_TABLE: requiredText(),
      REGISTRY_TABLE: requiredText(),
      REVIEW_THRESHOLD: numberSetting(0, 100, 80),
      REGISTRY_CACHE_SECONDS: numberSetting(0, 3600, 30),
    },
    env,
  );
  return {
    resultsTable: settings.RESULTS_TABLE,
    registryTable: settings.REGISTRY_TABLE,
    reviewThreshold: settings.REVIEW_THRESHOLD,
    registryCacheMs: settings.REGISTRY_CACHE_SECONDS * 1000,
  };
}

const WHOLE = { whole: true } as const;

/** Defaults a retrain uses for every input field it was not given; the stage parameters set them. */
export interface TrainingDefaults {
  readonly minF1: number;
  readonly minPneumoniaRecall: number;
  /** How much lower than the live model's F1 a candidate may score and still be deployed. */
  readonly maxF1Drop: number;
  readonly minInferenceUnits: number;
  readonly maxInferenceUnits: number;
}

export interface StartTimingConfig {
  readonly startPollSeconds: number;
  readonly maxStartMinutes: number;
}

export interface TrainingConfig extends StartTimingConfig {
  readonly projectName: string;
  readonly dataBucket: string;
  readonly registryTable: string;
  /** The stack's KMS key for the service's copies of images and its outputs; absent → AWS-owned key. */
  readonly kmsKeyId: string | undefined;
  readonly defaults: TrainingDefaults;
  readonly positiveLabel: string;
  readonly minImagesPerLabel: number;
  readonly trainingPollSeconds: number;
  readonly maxTrainingHours: number;
}

/** The inference units defaults, the max defaulting to the min and never below it. */
function loadUnitDefaults(env: Env): Pick<TrainingDefaults, 'minInferenceUnits' | 'maxInferenceUnits'> {
  const units = parseEnv(
    { DEFAULT_MIN_INFERENCE_UNITS: numberSetting(1, 100, 1, WHOLE), DEFAULT_MAX_INFERENCE_UNITS: optionalNumber(1, 100, WHOLE) },
    env,
  );
  const minInferenceUnits = units.DEFAULT_MIN_INFERENCE_UNITS;
  const maxInferenceUnits = units.DEFAULT_MAX_INFERENCE_UNITS ?? minInferenceUnits;
  if (maxInferenceUnits < minInferenceUnits) {
    throw new ConfigError('DEFAULT_MAX_INFERENCE_UNITS', `must not be below DEFAULT_MIN_INFERENCE_UNITS (${minInferenceUnits})`);
  }
  return { minInferenceUnits, maxInferenceUnits };
}

function loadTrainingDefaults(env: Env): TrainingDefaults {
  const units = loadUnitDefaults(env);
  const gate = parseEnv(
    { DEFAULT_MIN_F1: numberSetting(0, 1, 0.85), DEFAULT_MIN_PNEUMONIA_RECALL: numberSetting(0, 1, 0.9), MAX_F1_DROP: numberSetting(0, 1, 0.02) },
    env,
  );
  return { minF1: gate.DEFAULT_MIN_F1, minPneumoniaRecall: gate.DEFAULT_MIN_PNEUMONIA_RECALL, maxF1Drop: gate.MAX_F1_DROP, ...units };
}

function loadStartTiming(env: Env): StartTimingConfig {
  const timing = parseEnv({ START_POLL_SECONDS: numberSetting(1, 3600, 60, WHOLE), MAX_START_MINUTES: numberSetting(1, 24 * 60, 60, WHOLE) }, env);
  return { startPollSeconds: timing.START_POLL_SECONDS, maxStartMinutes: timing.MAX_START_MINUTES };
}

/** The label whose recall the gate checks and the review worklist orders by confidence, unless a stage says otherwise. */
export const DEFAULT_POSITIVE_LABEL = 'PNEUMONIA';

export function loadTrainingConfig(env: Env = process.env): TrainingConfig {
  const names = parseEnv({ PROJECT_NAME: requiredText(), DATA_BUCKET: requiredText(), REGISTRY_TABLE: requiredText(), KMS_KEY_ID: optionalText() }, env);
  const defaults = loadTrainingDefaults(env);
  const training = parseEnv(
    {
      POSITIVE_LABEL: optionalText(),
      MIN_IMAGES_PER_LABEL: numberSetting(1, 100_000, 10, WHOLE),
      TRAINING_POLL_SECONDS: numberSetting(1, 3600, 600, WHOLE),
      // The service itself ends a training after 72 hours at most.
      MAX_TRAINING_HOURS: numberSetting(0.1, 72, 24),
    },
    env,
  );
  return {
    projectName: names.PROJECT_NAME,
    dataBucket: names.DATA_BUCKET,
    registryTable: names.REGISTRY_TABLE,
    kmsKeyId: names.KMS_KEY_ID,
    defaults,
    positiveLabel: training.POSITIVE_LABEL ?? DEFAULT_POSITIVE_LABEL,
    minImagesPerLabel: training.MIN_IMAGES_PER_LABEL,
    trainingPollSeconds: training.TRAINING_POLL_SECONDS,
    maxTrainingHours: training.MAX_TRAINING_HOURS,
    ...loadStartTiming(env),
  };
}

export interface RegistryConfig {
  readonly registryTable: string;
}

export function loadRegistryConfig(env: Env = process.env): RegistryConfig {
  return { registryTable: parseEnv({ REGISTRY_TABLE: requiredText() }, env).REGISTRY_TABLE };
}

export interface OutcomeConfig extends RegistryConfig {
  /** The stage's event bus, where retrain outcomes become events. */
  readonly eventBusName: string;
  readonly retrainEventSource: string;
}

export function loadOutcomeConfig(env: Env = process.env): OutcomeConfig {
  const events = parseEnv({ REGISTRY_TABLE: requiredText(), EVENT_BUS_NAME: requiredText(), RETRAIN_EVENT_SOURCE: requiredText() }, env);
  return { registryTable: events.REGISTRY_TABLE, eventBusName: events.EVENT_BUS_NAME, retrainEventSource: events.RETRAIN_EVENT_SOURCE };
}

export interface StartConfig extends StartTimingConfig, RegistryConfig {
  readonly defaults: Pick<TrainingDefaults, 'minInferenceUnits' | 'maxInferenceUnits'>;
  /** classify's reserved concurrency: a start's units must fit it (src/lib/serving/units.ts); unset, not checked. */
  readonly classifyConcurrency?: number | undefined;
}

export function loadStartConfig(env: Env = process.env): StartConfig {
  const { minInferenceUnits, maxInferenceUnits } = loadTrainingDefaults(env);
  const start = parseEnv({ CLASSIFY_CONCURRENCY: optionalNumber(1, 1000, WHOLE), REGISTRY_TABLE: requiredText() }, env);
  return { registryTable: start.REGISTRY_TABLE, defaults: { minInferenceUnits, maxInferenceUnits }, classifyConcurrency: start.CLASSIFY_CONCURRENCY, ...loadStartTiming(env) };
}

export interface RedriveConfig extends ClassifyConfig {
  /** Rows one redrive invocation classifies; the state machine loops until none are left. */
  readonly pageSize: number;
}

export function loadRedriveConfig(env: Env = process.env): RedriveConfig {
  return { ...loadClassifyConfig(env), pageSize: parseEnv({ REDRIVE_PAGE_SIZE: numberSetting(1, 500, 25, WHOLE) }, env).REDRIVE_PAGE_SIZE };
}

export interface GaugesConfig {
  readonly resultsTable: string;
  readonly projectName: string;
}

export function loadGaugesConfig(env: Env = process.env): GaugesConfig {
  const gauges = parseEnv({ RESULTS_TABLE: requiredText(), PROJECT_NAME: requiredText() }, env);
  return { resultsTable: gauges.RESULTS_TABLE, projectName: gauges.PROJECT_NAME };
}

export interface ServingCheckConfig {
  readonly resultsTable: string;
}

export function loadServingCheckConfig(env: Env = process.env): ServingCheckConfig {
  return { resultsTable: parseEnv({ RESULTS_TABLE: requiredText() }, env).RESULTS_TABLE };
}
