import { ConfigError } from './errors.js';

export interface ClassifyConfig {
  readonly resultsTable: string;
  readonly registryTable: string;
  /** Top-label confidence (0–100) below which a result is NEEDS_REVIEW instead of CLASSIFIED. */
  readonly reviewThreshold: number;
  /** How long a running model's registry entry is trusted before it is read again. */
  readonly registryCacheMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is not set');
  return value;
}

function numberIn(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function loadClassifyConfig(env: Env = process.env): ClassifyConfig {
  return {
    resultsTable: required(env, 'RESULTS_TABLE'),
    registryTable: required(env, 'REGISTRY_TABLE'),
    reviewThreshold: numberIn(env, 'REVIEW_THRESHOLD', 80, 0, 100),
    registryCacheMs: numberIn(env, 'REGISTRY_CACHE_SECONDS', 30, 0, 3600) * 1000,
  };
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integerIn(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = numberIn(env, name, fallback, min, max);
  if (!Number.isInteger(value)) throw new ConfigError(name, `must be a whole number, got "${env[name] ?? ''}"`);
  return value;
}

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

function loadTrainingDefaults(env: Env): TrainingDefaults {
  const minInferenceUnits = integerIn(env, 'DEFAULT_MIN_INFERENCE_UNITS', 1, 1, 100);
  const maxInferenceUnits = integerIn(env, 'DEFAULT_MAX_INFERENCE_UNITS', minInferenceUnits, 1, 100);
  if (maxInferenceUnits < minInferenceUnits) {
    throw new ConfigError('DEFAULT_MAX_INFERENCE_UNITS', `must not be below DEFAULT_MIN_INFERENCE_UNITS (${minInferenceUnits})`);
  }
  return {
    minF1: numberIn(env, 'DEFAULT_MIN_F1', 0.85, 0, 1),
    minPneumoniaRecall: numberIn(env, 'DEFAULT_MIN_PNEUMONIA_RECALL', 0.9, 0, 1),
    maxF1Drop: numberIn(env, 'MAX_F1_DROP', 0.02, 0, 1),
    minInferenceUnits,
    maxInferenceUnits,
  };
}

function loadStartTiming(env: Env): StartTimingConfig {
  return {
    startPollSeconds: integerIn(env, 'START_POLL_SECONDS', 60, 1, 3600),
    maxStartMinutes: integerIn(env, 'MAX_START_MINUTES', 60, 1, 24 * 60),
  };
}

export function loadTrainingConfig(env: Env = process.env): TrainingConfig {
  const positiveLabel = optional(env, 'POSITIVE_LABEL') ?? 'PNEUMONIA';
  return {
    projectName: required(env, 'PROJECT_NAME'),
    dataBucket: required(env, 'DATA_BUCKET'),
    registryTable: required(env, 'REGISTRY_TABLE'),
    kmsKeyId: optional(env, 'KMS_KEY_ID'),
    defaults: loadTrainingDefaults(env),
    positiveLabel,
    minImagesPerLabel: integerIn(env, 'MIN_IMAGES_PER_LABEL', 10, 1, 100_000),
    trainingPollSeconds: integerIn(env, 'TRAINING_POLL_SECONDS', 600, 1, 3600),
    // The service itself ends a training after 72 hours at most.
    maxTrainingHours: numberIn(env, 'MAX_TRAINING_HOURS', 24, 0.1, 72),
    ...loadStartTiming(env),
  };
}

export interface RegistryConfig {
  readonly registryTable: string;
}

export function loadRegistryConfig(env: Env = process.env): RegistryConfig {
  return { registryTable: required(env, 'REGISTRY_TABLE') };
}

export interface OutcomeConfig extends RegistryConfig {
  /** The stage's event bus, where retrain outcomes become events. */
  readonly eventBusName: string;
  readonly retrainEventSource: string;
}

export function loadOutcomeConfig(env: Env = process.env): OutcomeConfig {
  return { ...loadRegistryConfig(env), eventBusName: required(env, 'EVENT_BUS_NAME'), retrainEventSource: required(env, 'RETRAIN_EVENT_SOURCE') };
}

export interface StartConfig extends StartTimingConfig, RegistryConfig {
  readonly defaults: Pick<TrainingDefaults, 'minInferenceUnits' | 'maxInferenceUnits'>;
  /** classify's reserved concurrency: a start's units must fit it (src/lib/serving/units.ts); unset, not checked. */
  readonly classifyConcurrency?: number | undefined;
}

export function loadStartConfig(env: Env = process.env): StartConfig {
  const { minInferenceUnits, maxInferenceUnits } = loadTrainingDefaults(env);
  const concurrency = optional(env, 'CLASSIFY_CONCURRENCY') === undefined ? undefined : integerIn(env, 'CLASSIFY_CONCURRENCY', 1, 1, 1000);
  return { registryTable: required(env, 'REGISTRY_TABLE'), defaults: { minInferenceUnits, maxInferenceUnits }, classifyConcurrency: concurrency, ...loadStartTiming(env) };
}

export interface RedriveConfig extends ClassifyConfig {
  /** Rows one redrive invocation classifies; the state machine loops until none are left. */
  readonly pageSize: number;
}

export function loadRedriveConfig(env: Env = process.env): RedriveConfig {
  return { ...loadClassifyConfig(env), pageSize: integerIn(env, 'REDRIVE_PAGE_SIZE', 25, 1, 500) };
}

export interface GaugesConfig {
  readonly resultsTable: string;
  readonly projectName: string;
}

export function loadGaugesConfig(env: Env = process.env): GaugesConfig {
  return { resultsTable: required(env, 'RESULTS_TABLE'), projectName: required(env, 'PROJECT_NAME') };
}

export interface ServingCheckConfig {
  readonly resultsTable: string;
}

export function loadServingCheckConfig(env: Env = process.env): ServingCheckConfig {
  return { resultsTable: required(env, 'RESULTS_TABLE') };
}
