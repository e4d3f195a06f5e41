import type { TrainingDefaults } from '../config.js';
import { InvalidTrainingInputError } from '../errors.js';

/** Rekognition allows [a-zA-Z0-9_.-] up to 255; shorter keeps `train-<name>` a valid execution name. */
export const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Prefixes training images may be listed from; the Lambda's IAM allows exactly these. */
export const DATASET_ROOTS = ['training/', 'testing/'] as const;

export interface TrainingInput {
  readonly versionName: string;
  readonly trainingPrefix: string;
  readonly testingPrefix: string | undefined;
  readonly minF1: number;
  readonly minPneumoniaRecall: number;
  readonly minInferenceUnits: number;
  readonly maxInferenceUnits: number;
  readonly autoStart: boolean;
}

const FIELDS = ['versionName', 'trainingPrefix', 'testingPrefix', 'minF1', 'minPneumoniaRecall', 'minInferenceUnits', 'maxInferenceUnits', 'autoStart'];
/** Step Functions adds this to the input of an execution started by another one. */
const IGNORED = ['AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID'];

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object input whose every field is one of `allowed`; a misspelt option must not be ignored silently. */
export function inputObject(raw: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new InvalidTrainingInputError(`input must be a JSON object, got ${JSON.stringify(raw)}`);
  const unknown = Object.keys(raw).filter((name) => !allowed.includes(name) && !IGNORED.includes(name));
  if (unknown.length > 0) {
    throw new InvalidTrainingInputError(`unknown input field(s) ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
  }
  return raw;
}

export function fraction(input: Record<string, unknown>, name: string, fallback: number): number {
  const value = input[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidTrainingInputError(`${name} must be a number from 0 to 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function inferenceUnits(input: Record<string, unknown>, defaults: { minInferenceUnits: number; maxInferenceUnits: number }): { min: number; max: number } {
  const read = (name: string, fallback: number): number => {
    const value = input[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) {
      throw new InvalidTrainingInputError(`${name} must be a whole number from 1 to 100, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const min = read('minInferenceUnits', defaults.minInferenceUnits);
  const max = read('maxInferenceUnits', Math.max(min, defaults.maxInferenceUnits));
  if (max < min) throw new InvalidTrainingInputError(`maxInferenceUnits (${max}) must not be below minInferenceUnits (${min})`);
  return { min, max };
}

export function versionNameField(input: Record<string, unknown>): string | undefined {
  const value = input.versionName;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !VERSION_NAME.test(value)) {
    throw new InvalidTrainingInputError(
      `versionName must be 1–63 letters, digits, "_", "." or "-" starting with a letter or digit, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function prefix(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value.endsWith('/') || value.includes('..') || !DATASET_ROOTS.some((root) => value.startsWith(root))) {
    throw new InvalidTrainingInputError(`${name} must be a folder ending in "/" under ${DATASET_ROOTS.join(' or ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `v20261125-173000` from the execution's start time, the default name of a version. */
export function versionNameFromTime(startTime: string): string {
  const date = new Date(startTime);
  if (Number.isNaN(date.getTime())) throw new InvalidTrainingInputError(`execution start time "${startTime}" is not a timestamp`);
  const iso = date.toISOString();
  return `v${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

/** Validates a retrain's input and fills every absent field from the stage defaults. */
export function parseTrainingInput(raw: unknown, defaults: TrainingDefaults, startTime: string): TrainingInput {
  const input = inputObject(raw, FIELDS);
  const autoStart = input.autoStart ?? true;
  if (typeof autoStart !== 'boolean') throw new InvalidTrainingInputError(`autoStart must be true or false, got ${JSON.stringify(autoStart)}`);
  const units = inferenceUnits(input, defaults);
  const trainingPrefix = prefix(input, 'trainingPrefix') ?? 'training/';
  const testingPrefix = prefix(input, 'testingPrefix');
  if (testingPrefix !== undefined && (testingPrefix.startsWith(trainingPrefix) || trainingPrefix.startsWith(testingPrefix))) {
    throw new InvalidTrainingInputError(`testingPrefix "${testingPrefix}" and trainingPrefix "${trainingPrefix}" must not contain one another`);
  }
  return {
    versionName: versionNameField(input) ?? versionNameFromTime(startTime),
    trainingPrefix,
    testingPrefix,
    minF1: fraction(input, 'minF1', defaults.minF1),
    minPneumoniaRecall: fraction(input, 'minPneumoniaRecall', defaults.minPneumoniaRecall),
    minInferenceUnits: units.min,
    maxInferenceUnits: units.max,
    autoStart,
  };
}
