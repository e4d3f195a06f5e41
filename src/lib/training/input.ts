import type { TrainingDefaults } from '../config.js';
import { InvalidTrainingInputError } from '../errors.js';
import * as z from 'zod/mini';
import { parseWith, shown } from '../schema.js';

/** Rekognition allows [a-zA-Z0-9_.-] up to 255; shorter keeps `train-<name>` a valid execution name. */
export const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Prefixes training images may be listed from; the Lambda's IAM allows exactly these. */
export const DATASET_ROOTS = ['training/', 'testing/'] as const;

/** Step Functions adds this to the input of an execution started by another one. */
const STARTED_BY = 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID';

function fraction(name: string): z.ZodMiniOptional<z.ZodMiniNumber> {
  const message = (issue: { input?: unknown }): string => `${name} must be a number from 0 to 1, got ${shown(issue.input)}`;
  return z.optional(z.number({ error: message }).check(z.gte(0, { error: message }), z.lte(1, { error: message })));
}

function units(name: string): z.ZodMiniOptional<z.ZodMiniNumber> {
  const message = (issue: { input?: unknown }): string => `${name} must be a whole number from 1 to 100, got ${shown(issue.input)}`;
  return z.optional(z.number({ error: message }).check(z.int({ error: message }), z.gte(1, { error: message }), z.lte(100, { error: message })));
}

const versionNameMessage = (issue: { input?: unknown }): string =>
  `versionName must be 1–63 letters, digits, "_", "." or "-" starting with a letter or digit, got ${shown(issue.input)}`;
export const VersionNameSchema = z.optional(z.string({ error: versionNameMessage }).check(z.regex(VERSION_NAME, { error: versionNameMessage })));

function prefix(name: string): z.ZodMiniOptional<z.ZodMiniString> {
  const message = (issue: { input?: unknown }): string =>
    `${name} must be a folder ending in "/" under ${DATASET_ROOTS.join(' or ')}, got ${shown(issue.input)}`;
  return z.optional(
    z.string({ error: message }).check(
      z.endsWith('/', { error: message }),
      z.refine((value) => !value.includes('..') && DATASET_ROOTS.some((root) => value.startsWith(root)), { error: message }),
    ),
  );
}

/**
 * An object input whose every field is in `shape`; a misspelt option must not be ignored silently. Absent
 * (`undefined` or `null`) is an empty input.
 */
function inputSchema<S extends z.core.$ZodLooseShape>(shape: S): z.ZodMiniPipe<z.ZodMiniTransform, z.ZodMiniObject<S & { [STARTED_BY]: z.ZodMiniOptional<z.ZodMiniUnknown> }, z.core.$strict>> {
  const allowed = Object.keys(shape).join(', ');
  return z.pipe(
    z.transform((raw: unknown) => raw ?? {}),
    z.strictObject(
      { ...shape, [STARTED_BY]: z.optional(z.unknown()) },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? `unknown input field(s) ${issue.keys.join(', ')}; allowed: ${allowed}`
            : `input must be a JSON object, got ${shown(issue.input)}`,
      },
    ),
  );
}

const unitFields = { minInferenceUnits: units('minInferenceUnits'), maxInferenceUnits: units('maxInferenceUnits') };

/** The retrain state machine's input: every field optional, the stage defaults fill the rest. */
export const TrainingInputSchema = inputSchema({
  versionName: VersionNameSchema,
  trainingPrefix: prefix('trainingPrefix'),
  testingPrefix: prefix('testingPrefix'),
  minF1: fraction('minF1'),
  minPneumoniaRecall: fraction('minPneumoniaRecall'),
  ...unitFields,
  autoStart: z.optional(z.boolean({ error: (issue) => `autoStart must be true or false, got ${shown(issue.input)}` })),
});

/** The start state machine's input; `reason` is checked against the serving module's start reasons. */
export const StartInputSchema = inputSchema({ versionName: VersionNameSchema, ...unitFields, reason: z.optional(z.unknown()) });

export type StartInput = z.output<typeof StartInputSchema>;

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

export function parseInput<S extends z.ZodMiniType>(schema: S, raw: unknown): z.output<S> {
  return parseWith(schema, raw, (message) => new InvalidTrainingInputError(message));
}

/** The units asked for, each absent one from `defaults`; a default maximum below a given minimum rises to it. */
export function inferenceUnits(
  input: { readonly minInferenceUnits?: number | undefined; readonly maxInferenceUnits?: number | undefined },
  defaults: { minInferenceUnits: number; maxInferenceUnits: number },
): { min: number; max: number } {
  const min = input.minInferenceUnits ?? defaults.minInferenceUnits;
  const max = input.maxInferenceUnits ?? Math.max(min, defaults.maxInferenceUnits);
  if (max < min) throw new InvalidTrainingInputError(`maxInferenceUnits (${max}) must not be below minInferenceUnits (${min})`);
  return { min, max };
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
  const input = parseInput(TrainingInputSchema, raw);
  const unitRange = inferenceUnits(input, defaults);
  const trainingPrefix = input.trainingPrefix ?? 'training/';
  const { testingPrefix } = input;
  if (testingPrefix !== undefined && (testingPrefix.startsWith(trainingPrefix) || trainingPrefix.startsWith(testingPrefix))) {
    throw new InvalidTrainingInputError(`testingPrefix "${testingPrefix}" and trainingPrefix "${trainingPrefix}" must not contain one another`);
  }
  return {
    versionName: input.versionName ?? versionNameFromTime(startTime),
    trainingPrefix,
    testingPrefix,
    minF1: input.minF1 ?? defaults.minF1,
    minPneumoniaRecall: input.minPneumoniaRecall ?? defaults.minPneumoniaRecall,
    minInferenceUnits: unitRange.min,
    maxInferenceUnits: unitRange.max,
    autoStart: input.autoStart ?? true,
  };
}
