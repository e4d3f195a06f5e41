import type { S3Client } from '@aws-sdk/client-s3';
import type { TrainingConfig } from '../config.js';
import { InvalidEventError, VersionExistsError } from '../errors.js';
import { checkTestingSet, checkTrainingSet, listDataset, MANIFEST_PREFIX, manifestLines, writeManifest } from './dataset.js';
import * as z from 'zod/mini';
import { parseWith } from '../schema.js';
import { parseTrainingInput } from './input.js';
import type { TrainingRegistry } from './registry.js';

export const EVALUATION_PREFIX = 'evaluation/';

export interface PrepareDeps {
  readonly s3: S3Client;
  readonly registry: TrainingRegistry;
  readonly config: TrainingConfig;
  readonly clock?: () => number;
}

interface S3Asset {
  readonly GroundTruthManifest: { readonly S3Object: { readonly Bucket: string; readonly Name: string } };
}

/** The CreateProjectVersion request, built here so the state machine passes it on as it is. */
export interface CreateVersionRequest {
  readonly ProjectArn: string;
  readonly VersionName: string;
  readonly OutputConfig: { readonly S3Bucket: string; readonly S3KeyPrefix: string };
  readonly TrainingData: { readonly Assets: readonly S3Asset[] };
  readonly TestingData: { readonly AutoCreate: true } | { readonly Assets: readonly S3Asset[] };
  readonly Tags: Readonly<Record<string, string>>;
  readonly KmsKeyId?: string;
}

export interface GateSettings {
  readonly minF1: number;
  readonly minPneumoniaRecall: number;
  readonly maxF1Drop: number;
  readonly positiveLabel: string;
}

/** The start state machine's input, ready to pass. */
export interface StartRequest {
  readonly versionName: string;
  readonly minInferenceUnits: number;
  readonly maxInferenceUnits: number;
}

export interface TrainingPlan {
  readonly versionName: string;
  readonly executionArn: string;
  readonly projectArn: string;
  readonly autoStart: boolean;
  readonly gate: GateSettings;
  readonly start: StartRequest;
  readonly trainingPollSeconds: number;
  readonly maxTrainingPolls: number;
  readonly dataset: {
    readonly training: Readonly<Record<string, number>>;
    /** Per-label counts of the test set, or "AUTO_SPLIT" when the service holds out part of the training set. */
    readonly testing: Readonly<Record<string, number>> | 'AUTO_SPLIT';
    readonly ignoredObjects: number;
  };
  readonly createVersion: CreateVersionRequest;
}

function contextField(name: string): z.ZodMiniString {
  const missing = `${name} is missing from the PrepareDataset payload`;
  return z.string({ error: missing }).check(z.minLength(1, missing));
}

/** What the state machine passes: its own input untouched (checked by parseTrainingInput), plus facts from the context object. */
const PrepareRequestSchema = z.object(
  {
    input: z.unknown(),
    executionArn: contextField('executionArn'),
    startTime: contextField('startTime'),
    projectArn: contextField('projectArn'),
  },
  { error: 'PrepareDataset expects an object payload from the state machine' },
);

export type PrepareRequest = z.output<typeof PrepareRequestSchema>;

export function parsePrepareRequest(event: unknown): PrepareRequest {
  return parseWith(PrepareRequestSchema, event, (message) => new InvalidEventError(message));
}

function asset(bucket: string, key: string): S3Asset {
  return { GroundTruthManifest: { S3Object: { Bucket: bucket, Name: key } } };
}

/**
 * Step 1 of a retrain: validates the input, takes the training lock and claims the version name (so a double
 * trigger or a concurrent retrain is refused before anything is paid for), then lists the labelled images and
 * writes the manifests the service trains from.
 */
export async function prepareTraining(deps: PrepareDeps, request: PrepareRequest): Promise<TrainingPlan> {
  const { config, registry, s3 } = deps;
  const now = new Date((deps.clock ?? Date.now)());
  const input = parseTrainingInput(request.input, config.defaults, request.startTime);
  const { versionName } = input;
  const { executionArn } = request;

  const lockMinutes = config.maxTrainingHours * 60 + config.maxStartMinutes + 60;
  await registry.acquireLock(versionName, executionArn, now.toISOString(), new Date(now.getTime() + lockMinutes * 60_000).toISOString());
  try {
    await registry.claimVersion({
      versionName,
      executionArn,
      requestedAt: now.toISOString(),
      trainingPrefix: input.trainingPrefix,
      testingPrefix: input.testingPrefix,
    });
  } catch (error) {
    if (error instanceof VersionExistsError) await registry.releaseLock(executionArn);
    throw error;
  }

  const training = await listDataset(s3, config.dataBucket, input.trainingPrefix);
  checkTrainingSet(training, input.trainingPrefix, config.minImagesPerLabel, config.positiveLabel);
  const labels = Object.keys(training.counts).sort();
  const testing = input.testingPrefix === undefined ? undefined : await listDataset(s3, config.dataBucket, input.testingPrefix);
  if (testing && input.testingPrefix) checkTestingSet(testing, input.testingPrefix, labels);

  const jobName = `pneumo/${versionName}`;
  const trainingKey = `${MANIFEST_PREFIX}${versionName}/training.manifest`;
  await writeManifest(s3, config.dataBucket, trainingKey, manifestLines(config.dataBucket, training.images, labels, jobName, now.toISOString()));
  let testingData: CreateVersionRequest['TestingData'] = { AutoCreate: true };
  if (testing) {
    const testingKey = `${MANIFEST_PREFIX}${versionName}/testing.manifest`;
    await writeManifest(s3, config.dataBucket, testingKey, manifestLines(config.dataBucket, testing.images, labels, jobName, now.toISOString()));
    testingData = { Assets: [asset(config.dataBucket, testingKey)] };
  }

  await registry.updateVersion(
    versionName,
    { labelCounts: training.counts, testLabelCounts: testing?.counts, trainingManifest: trainingKey, updatedAt: now.toISOString() },
    executionArn,
  );

  return {
    versionName,
    executionArn,
    projectArn: request.projectArn,
    autoStart: input.autoStart,
    gate: {
      minF1: input.minF1,
      minPneumoniaRecall: input.minPneumoniaRecall,
      maxF1Drop: config.defaults.maxF1Drop,
      positiveLabel: config.positiveLabel,
    },
    start: { versionName, minInferenceUnits: input.minInferenceUnits, maxInferenceUnits: input.maxInferenceUnits },
    trainingPollSeconds: config.trainingPollSeconds,
    maxTrainingPolls: Math.ceil((config.maxTrainingHours * 3600) / config.trainingPollSeconds),
    dataset: { training: training.counts, testing: testing?.counts ?? 'AUTO_SPLIT', ignoredObjects: training.ignored + (testing?.ignored ?? 0) },
    createVersion: {
      ProjectArn: request.projectArn,
      VersionName: versionName,
      OutputConfig: { S3Bucket: config.dataBucket, S3KeyPrefix: `${EVALUATION_PREFIX}${versionName}/` },
      TrainingData: { Assets: [asset(config.dataBucket, trainingKey)] },
      TestingData: testingData,
      Tags: { application: 'pneumo', project: config.projectName, versionName },
      ...(config.kmsKeyId ? { KmsKeyId: config.kmsKeyId } : {}),
    },
  };
}
