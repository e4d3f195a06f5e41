import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { ApiError, invalidParameter, notFound } from './errors.js';
import { newestFirst, oldestFirst, paginate } from './pagination.js';
import { loadModel, trainedModelPredictor } from './predictor.js';
import type { LoadedModel, Predictor } from './predictor.js';
import { readObject, S3ReadError, TooLargeError, writeJson } from './s3.js';
import { Store } from './store.js';
import type { ProjectRecord, State, VersionRecord, VersionStatus } from './store.js';
import { buildJob, evaluationSummary, startTraining, TrainingFailure } from './training.js';
import type { DatasetSpec, RunningTraining, S3Location, TrainingSettings } from './training.js';

export interface FaultRule {
  /** Operation name, e.g. `DetectCustomLabels`; `*` for every operation. */
  readonly operation: string;
  /** How many of the next matching calls fail. */
  readonly count: number;
  /** `__type` to return (HTTP 400), or `InternalServerError` (HTTP 500). Default ThrottlingException. */
  readonly error?: string;
}

export interface RekognitionEmulatorOptions {
  /** Where images, manifests and evaluation summaries live (the local stack points it at its local S3). */
  readonly s3: S3Client;
  /** Folder for state.json and models/; a restart on the same folder keeps projects, versions and models. */
  readonly dataDir: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  readonly region?: string;
  /** 12 digits. */
  readonly accountId?: string;
  /** STARTING → RUNNING (default 1500 ms). */
  readonly startingDelayMs?: number;
  /** STOPPING → STOPPED (default 1000 ms). */
  readonly stoppingDelayMs?: number;
  readonly training?: TrainingSettings;
  /** Training jobs that run at once (default 1: a job keeps both cores busy); later ones wait, TRAINING_IN_PROGRESS. */
  readonly maxConcurrentTrainings?: number;
  /** BENCHMARK ONLY: replaces the trained model at inference time (see predictor.ts `constantPredictor`). */
  readonly predictor?: Predictor;
  /** Faults armed from the start; more through `injectFault` or `POST /__emulator/faults`. */
  readonly faults?: readonly FaultRule[];
  readonly log?: (line: string) => void;
  /**
   * TESTS ONLY (the local stack never sets it): called at each point a test may need to act inside what would
   * otherwise be a race; when it returns a promise the emulator waits there until it settles (or the emulator
   * closes). See `HoldPoint`.
   */
  readonly hold?: (point: HoldPoint) => Promise<unknown> | undefined;
}

/**
 * `call`: a request about to be answered (after fault injection); `running`: a STARTING version about to become
 * RUNNING (before its start delay); `training`: a version whose training worker reported its first epoch and
 * waits (the worker path only).
 */
export type HoldPoint =
  | { readonly at: 'call'; readonly operation: string }
  | { readonly at: 'running'; readonly versionArn: string }
  | { readonly at: 'training'; readonly versionArn: string };

export interface RekognitionEmulator {
  /** `http://host:port`, for `endpoint` / AWS_ENDPOINT_URL_REKOGNITION. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Resolves when no training job and no STARTING/STOPPING transition is pending. */
  idle(): Promise<void>;
  /** Stops listening, cancels training (those versions become TRAINING_FAILED), keeps state on disk. */
  close(): Promise<void>;
}

type Body = Record<string, unknown>;
type Handler = (body: Body) => unknown;

const NAME = /^[a-zA-Z0-9_.-]{1,255}$/;
const MAX_S3_BYTES = 15 * 1024 * 1024;
const MAX_INLINE_BYTES = 4 * 1024 * 1024;
const MIN_SIDE = 64;
const MAX_SIDE = 4096;
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const INTERRUPTED = 'Training was interrupted by an emulator shutdown; create a new version to train again';

function isRecord(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) throw invalidParameter(`${field} is required`);
  return value;
}

function optionalNumber(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidParameter(`${field} must be a number from ${min} to ${max}`);
  }
  return value;
}

/** A name filter; sorted, so the same names in another order are the same query (and accept the same tokens). */
function optionalNames(body: Body, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((n): n is string => typeof n === 'string')) throw invalidParameter(`${field} must be a list of names`);
  return [...value].sort();
}

function s3Location(value: unknown, field: string): S3Location {
  if (!isRecord(value) || typeof value.Bucket !== 'string' || typeof value.Name !== 'string' || !value.Bucket || !value.Name) {
    throw invalidParameter(`${field} needs S3Object.Bucket and S3Object.Name`);
  }
  return { Bucket: value.Bucket, Name: value.Name };
}

function datasetSpec(value: unknown, field: string, allowAutoCreate: boolean): DatasetSpec {
  if (!isRecord(value)) throw invalidParameter(`${field} is required`);
  if (value.AutoCreate === true) {
    if (!allowAutoCreate) throw invalidParameter(`${field}.AutoCreate is only valid for TestingData`);
    return { autoCreate: true };
  }
  const assets = value.Assets;
  if (!Array.isArray(assets) || assets.length !== 1 || !isRecord(assets[0]) || !isRecord(assets[0].GroundTruthManifest)) {
    throw invalidParameter(`${field}.Assets must hold one GroundTruthManifest`);
  }
  return { manifest: s3Location(assets[0].GroundTruthManifest.S3Object, `${field}.Assets[0].GroundTruthManifest`) };
}

const seconds = (ms: number): number => ms / 1000;

/** A counting semaphore whose waiters hear how many are ahead of them; `abort` rejects every waiter. */
class Slots {
  private free: number;
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error('maxConcurrentTrainings must be a whole number ≥ 1');
    this.free = size;
  }

  async acquire(onWait: (ahead: number) => void): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    onWait(this.waiting.length + 1);
    await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.free++;
  }

  abort(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

export async function startRekognitionEmulator(options: RekognitionEmulatorOptions): Promise<RekognitionEmulator> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  if (!/^\d{12}$/.test(accountId)) throw new Error('accountId must be 12 digits');
  const startingDelay = options.startingDelayMs ?? 1500;
  const stoppingDelay = options.stoppingDelayMs ?? 1000;
  const predictor = options.predictor ?? trainedModelPredictor;
  const log = options.log ?? (() => undefined);
  const store = new Store(options.dataDir);
  const state: State = store.load();
  const models = new Map<string, LoadedModel>();
  const trainings = new Map<string, RunningTraining>();
  const pending = new Set<Promise<unknown>>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let faults: FaultRule[] = [...(options.faults ?? [])];
  const trainingSlots = new Slots(options.maxConcurrentTrainings ?? 1);
  let closed = false;
  let signalClosing: () => void = () => undefined;
  const closing = new Promise<void>((resolve) => (signalClosing = resolve));
  /** The test hook's wait at `point`, ended early by a shutdown; undefined when nothing holds it. */
  const holdAt = (point: HoldPoint): Promise<unknown> | undefined => {
    const wait = options.hold?.(point);
    return wait ? Promise.race([wait, closing]) : undefined;
  };

  // Recover from the last run. Real Rekognition keeps a RUNNING model running, so RUNNING stays RUNNING (and
  // STARTING finishes as RUNNING, STOPPING as STOPPED). A training job cannot resume: it fails, and can be retried.
  for (const version of state.versions) {
    if (version.status === 'TRAINING_IN_PROGRESS') {
      version.status = 'TRAINING_FAILED';
      version.statusMessage = INTERRUPTED;
    } else if (version.status === 'STARTING') {
      version.status = 'RUNNING';
      version.statusMessage = 'The model is running.';
    } else if (version.status === 'STOPPING') {
      version.status = 'STOPPED';
      version.statusMessage = 'The model is stopped.';
    }
  }
  state.versions = state.versions.filter((v) => v.status !== 'DELETING');
  store.save(state);

  const persist = (): void => {
    store.save(state);
  };

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => undefined);
    return promise;
  };

  const later = (ms: number, action: () => void, after?: Promise<unknown>): void => {
    if (after) {
      void track(after.then(() => {
        if (!closed) later(ms, action);
      }));
      return;
    }
    let finish: () => void = () => undefined;
    void track(new Promise<void>((resolve) => (finish = resolve)));
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) action();
      finish();
    }, ms);
    // On close the transition is dropped (the restart recovery completes it) and its promise settles.
    timers.set(timer, finish);
  };

  const projectByArn = (arn: string): ProjectRecord => {
    const project = state.projects.find((p) => p.arn === arn);
    if (!project) throw notFound(`Project ${arn}`);
    return project;
  };

  const versionByArn = (arn: string): VersionRecord => {
    const version = state.versions.find((v) => v.arn === arn);
    if (!version) throw notFound(`Model ${arn}`);
    return version;
  };

  const modelFor = (version: VersionRecord): LoadedModel => {
    let model = models.get(version.arn);
    if (!model) {
      if (!version.modelFile) throw new ApiError('InternalServerError', 'model weights are missing', 500);
      model = loadModel(store.loadModel(version.modelFile));
      models.set(version.arn, model);
    }
    return model;
  };

  const describeVersion = (v: VersionRecord): Body => ({
    ProjectVersionArn: v.arn,
    CreationTimestamp: seconds(v.createdAt),
    Status: v.status,
    StatusMessage: v.statusMessage,
    ...(v.description ? { VersionDescription: v.description } : {}),
    ...(v.minInferenceUnits === undefined ? {} : { MinInferenceUnits: v.minInferenceUnits }),
    ...(v.maxInferenceUnits === undefined ? {} : { MaxInferenceUnits: v.maxInferenceUnits }),
    ...(v.billableTrainingSeconds === undefined ? {} : { BillableTrainingTimeInSeconds: v.billableTrainingSeconds }),
    ...(v.trainingEndedAt === undefined ? {} : { TrainingEndTimestamp: seconds(v.trainingEndedAt) }),
    OutputConfig: v.outputConfig,
    TrainingDataResult: { Input: v.trainingData },
    TestingDataResult: { Input: v.testingData },
    ...(v.f1Score === undefined && !v.summary
      ? {}
      : { EvaluationResult: { ...(v.f1Score === undefined ? {} : { F1Score: v.f1Score }), ...(v.summary ? { Summary: { S3Object: v.summary } } : {}) } }),
    ...(v.trainingManifest ? { ManifestSummary: { S3Object: v.trainingManifest } } : {}),
    Feature: 'CUSTOM_LABELS',
  });

  const train = async (version: VersionRecord, training: DatasetSpec, testing: DatasetSpec): Promise<void> => {
    const settings = options.training ?? {};
    const progress = (message: string): void => {
      if (closed) throw new TrainingFailure('the emulator is shutting down');
      if (version.status !== 'TRAINING_IN_PROGRESS') return;
      version.statusMessage = message;
      persist();
    };
    try {
      await trainingSlots.acquire((ahead) => {
        progress(`Queued: waiting for ${ahead} training job(s) ahead of this one`);
      });
    } catch {
      // Only a shutdown rejects a waiter.
      version.status = 'TRAINING_FAILED';
      version.statusMessage = INTERRUPTED;
      persist();
      return;
    }
    const started = Date.now(); // billable time starts when the job leaves the queue
    try {
      const job = await buildJob(options.s3, training, testing, settings, progress);
      if (closed) throw new TrainingFailure('the emulator is shutting down');
      progress(`Training on ${job.train.length} images (${job.validation.length} for calibration, ${job.test.length} for testing)`);
      // Only a test's hook makes the worker wait for the parent at all.
      const hold = options.hold ? (): Promise<unknown> | undefined => holdAt({ at: 'training', versionArn: version.arn }) : undefined;
      const running = startTraining(job, settings, progress, hold);
      trainings.set(version.arn, running);
      const outcome = await running.result;
      const modelFile = `${randomUUID()}.json`;
      store.saveModel(modelFile, outcome.model);
      const endedAt = Date.now();
      const prefix = version.outputConfig.S3KeyPrefix ?? '';
      const summaryKey = `${prefix}${prefix && !prefix.endsWith('/') ? '/' : ''}EvaluationSummary-${version.projectName}-${version.versionName}.json`;
      const summary = evaluationSummary({
        projectVersionArn: version.arn,
        labels: outcome.model.labels,
        evaluation: outcome.evaluation,
        trainingImages: outcome.counts.train + outcome.counts.validation,
        testingImages: outcome.counts.test,
        endedAt: new Date(endedAt),
      });
      try {
        await writeJson(options.s3, version.outputConfig.S3Bucket, summaryKey, summary);
      } catch (error) {
        store.deleteModel(modelFile);
        throw new TrainingFailure(`could not write the evaluation summary to s3://${version.outputConfig.S3Bucket}/${summaryKey}: ${error instanceof Error ? error.message : String(error)}`);
      }
      version.modelFile = modelFile;
      version.f1Score = outcome.evaluation.f1;
      version.summary = { Bucket: version.outputConfig.S3Bucket, Name: summaryKey };
      version.trainingEndedAt = endedAt;
      version.billableTrainingSeconds = Math.max(1, Math.round((endedAt - started) / 1000));
      version.status = 'TRAINING_COMPLETED';
      version.statusMessage = 'The model is ready to run.';
      log(`rekognition: ${version.arn} trained in ${outcome.seconds.toFixed(1)} s, F1 ${outcome.evaluation.f1.toFixed(3)}`);
    } catch (error) {
      version.status = 'TRAINING_FAILED';
      version.statusMessage = closed
        ? INTERRUPTED
        : error instanceof TrainingFailure
          ? error.message
          : `Internal error: ${error instanceof Error ? error.message : String(error)}`;
      version.trainingEndedAt = Date.now();
      log(`rekognition: ${version.arn} training failed: ${version.statusMessage}`);
    } finally {
      trainings.delete(version.arn);
      trainingSlots.release();
      persist();
    }
  };

  const handlers: Record<string, Handler> = {
    CreateProject: (body) => {
      const name = requireString(body, 'ProjectName');
      if (!NAME.test(name)) throw invalidParameter('ProjectName must match [a-zA-Z0-9_.\\-]{1,255}');
      if (body.Feature !== undefined && body.Feature !== 'CUSTOM_LABELS') throw invalidParameter('only Feature CUSTOM_LABELS is emulated');
      if (state.projects.some((p) => p.name === name)) throw new ApiError('ResourceInUseException', `A project named ${name} already exists`);
      const createdAt = Date.now();
      const project = { name, arn: `arn:aws:rekognition:${region}:${accountId}:project/${name}/${createdAt}`, createdAt };
      state.projects.push(project);
      persist();
      return { ProjectArn: project.arn };
    },

    DescribeProjects: (body) => {
      const names = optionalNames(body, 'ProjectNames');
      const projects = state.projects.filter((p) => !names || names.includes(p.name));
      const page = paginate('DescribeProjects', { MaxResults: body.MaxResults, NextToken: body.NextToken, filters: { names } }, projects, (p) => oldestFirst(p.createdAt, p.arn));
      return {
        ProjectDescriptions: page.items.map((p) => ({ ProjectArn: p.arn, CreationTimestamp: seconds(p.createdAt), Status: 'CREATED', Feature: 'CUSTOM_LABELS' })),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    },

    CreateProjectVersion: (body) => {
      const project = projectByArn(requireString(body, 'ProjectArn'));
      const versionName = requireString(body, 'VersionName');
      if (!NAME.test(versionName)) throw invalidParameter('VersionName must match [a-zA-Z0-9_.\\-]{1,255}');
      const output = body.OutputConfig;
      if (!isRecord(output) || typeof output.S3Bucket !== 'string' || !output.S3Bucket) throw invalidParameter('OutputConfig.S3Bucket is required');
      if (output.S3KeyPrefix !== undefined && typeof output.S3KeyPrefix !== 'string') throw invalidParameter('OutputConfig.S3KeyPrefix must be a string');
      const training = datasetSpec(body.TrainingData, 'TrainingData', false);
      const testing = datasetSpec(body.TestingData, 'TestingData', true);
      if (state.versions.some((v) => v.projectArn === project.arn && v.versionName === versionName)) {
        throw new ApiError('ResourceInUseException', `A version named ${versionName} already exists in project ${project.name}`);
      }
      const createdAt = Date.now();
      const version: VersionRecord = {
        projectArn: project.arn,
        projectName: project.name,
        versionName,
        arn: `arn:aws:rekognition:${region}:${accountId}:project/${project.name}/version/${versionName}/${createdAt}`,
        createdAt,
        ...(typeof body.VersionDescription === 'string' ? { description: body.VersionDescription } : {}),
        status: 'TRAINING_IN_PROGRESS',
        statusMessage: 'The model is being trained.',
        outputConfig: { S3Bucket: output.S3Bucket, ...(typeof output.S3KeyPrefix === 'string' ? { S3KeyPrefix: output.S3KeyPrefix } : {}) },
        trainingData: body.TrainingData,
        testingData: body.TestingData,
        ...(training.manifest ? { trainingManifest: training.manifest } : {}),
      };
      state.versions.push(version);
      persist();
      void track(train(version, training, testing));
      return { ProjectVersionArn: version.arn };
    },

    DescribeProjectVersions: (body) => {
      const project = projectByArn(requireString(body, 'ProjectArn'));
      const names = optionalNames(body, 'VersionNames');
      const versions = state.versions.filter((v) => v.projectArn === project.arn && (!names || names.includes(v.versionName)));
      const request = { MaxResults: body.MaxResults, NextToken: body.NextToken, filters: { project: project.arn, names } };
      const page = paginate('DescribeProjectVersions', request, versions, (v) => newestFirst(v.createdAt, v.arn));
      return { ProjectVersionDescriptions: page.items.map(describeVersion), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    StartProjectVersion: (body) => {
      const version = versionByArn(requireString(body, 'ProjectVersionArn'));
      const min = optionalNumber(body, 'MinInferenceUnits', 1, 1_000_000);
      if (min === undefined) throw invalidParameter('MinInferenceUnits is required (at least 1)');
      const max = optionalNumber(body, 'MaxInferenceUnits', min, 1_000_000);
      if (version.status === 'STARTING' || version.status === 'RUNNING' || version.status === 'STOPPING' || version.status === 'DELETING') {
        throw new ApiError('ResourceInUseException', `The model is ${version.status}`);
      }
      if (version.status === 'TRAINING_IN_PROGRESS') throw new ApiError('ResourceInUseException', 'The model is still training');
      if (version.status !== 'TRAINING_COMPLETED' && version.status !== 'STOPPED' && version.status !== 'FAILED') {
        throw invalidParameter(`A model in status ${version.status} cannot be started`);
      }
      version.status = 'STARTING';
      version.statusMessage = 'The model is being started.';
      version.minInferenceUnits = min;
      version.maxInferenceUnits = max ?? min;
      persist();
      later(startingDelay, () => {
        if (version.status !== 'STARTING') return;
        try {
          modelFor(version);
          version.status = 'RUNNING';
          version.statusMessage = 'The model is running.';
        } catch (error) {
          version.status = 'FAILED';
          version.statusMessage = `The model could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
        }
        persist();
      }, holdAt({ at: 'running', versionArn: version.arn }));
      return { Status: 'STARTING' };
    },

    StopProjectVersion: (body) => {
      const version = versionByArn(requireString(body, 'ProjectVersionArn'));
      if (version.status !== 'RUNNING' && version.status !== 'STARTING') {
        throw new ApiError('ResourceInUseException', `The model is ${version.status}, not running`);
      }
      version.status = 'STOPPING';
      version.statusMessage = 'The model is being stopped.';
      persist();
      later(stoppingDelay, () => {
        if (version.status !== 'STOPPING') return;
        version.status = 'STOPPED';
        version.statusMessage = 'The model is stopped.';
        models.delete(version.arn);
        persist();
      });
      return { Status: 'STOPPING' };
    },

    DeleteProjectVersion: (body) => {
      const version = versionByArn(requireString(body, 'ProjectVersionArn'));
      if (version.status === 'RUNNING' || version.status === 'STARTING' || version.status === 'STOPPING' || version.status === 'TRAINING_IN_PROGRESS') {
        throw new ApiError('ResourceInUseException', `The model is ${version.status}; stop it (or wait for training) before deleting it`);
      }
      state.versions = state.versions.filter((v) => v !== version);
      models.delete(version.arn);
      if (version.modelFile) store.deleteModel(version.modelFile);
      persist();
      return { Status: 'DELETING' };
    },

    DetectCustomLabels: async (body) => {
      const arn = requireString(body, 'ProjectVersionArn');
      const minConfidence = optionalNumber(body, 'MinConfidence', 0, 100);
      const maxResults = optionalNumber(body, 'MaxResults', 0, Number.MAX_SAFE_INTEGER);
      const image = body.Image;
      if (!isRecord(image) || (image.Bytes === undefined) === (image.S3Object === undefined)) throw invalidParameter('Image needs exactly one of Bytes or S3Object');
      const version = versionByArn(arn);
      if (version.status !== 'RUNNING') throw new ApiError('ResourceNotReadyException', `The model ${arn} is ${version.status}, not RUNNING`);

      let bytes: Uint8Array;
      if (typeof image.Bytes === 'string') {
        bytes = Buffer.from(image.Bytes, 'base64');
        if (bytes.length > MAX_INLINE_BYTES) throw new ApiError('ImageTooLargeException', `Image bytes are ${bytes.length} bytes; the limit is 4 MB`);
      } else if (isRecord(image.S3Object)) {
        const { Bucket, Name, Version } = image.S3Object;
        if (typeof Bucket !== 'string' || typeof Name !== 'string' || !Bucket || !Name) throw invalidParameter('Image.S3Object needs Bucket and Name');
        try {
          bytes = await readObject(options.s3, Bucket, Name, { maxBytes: MAX_S3_BYTES, ...(typeof Version === 'string' ? { versionId: Version } : {}) });
        } catch (error) {
          if (error instanceof TooLargeError) throw new ApiError('ImageTooLargeException', `The S3 object is ${error.bytes} bytes; the limit is 15 MB`);
          if (error instanceof S3ReadError && error.kind !== 'fault') throw new ApiError('InvalidS3ObjectException', `Unable to get object metadata from S3. Check object key, region and/or access permissions. (${error.message})`);
          throw error;
        }
      } else {
        throw invalidParameter('Image.Bytes must be base64 and Image.S3Object an object');
      }

      let format: string | undefined;
      let width: number;
      let height: number;
      try {
        const metadata = await sharp(bytes).metadata();
        format = metadata.format;
        width = metadata.width;
        height = metadata.height;
      } catch {
        throw new ApiError('InvalidImageFormatException', 'Request has invalid image format');
      }
      if (format !== 'jpeg' && format !== 'png') throw new ApiError('InvalidImageFormatException', `Request has invalid image format (${format}); use JPEG or PNG`);
      if (width > MAX_SIDE || height > MAX_SIDE) throw new ApiError('ImageTooLargeException', `Image is ${width}×${height}; the limit is ${MAX_SIDE}×${MAX_SIDE}`);
      if (width < MIN_SIDE || height < MIN_SIDE) throw new ApiError('InvalidParameterException', `Image is ${width}×${height}; the minimum is ${MIN_SIDE}×${MIN_SIDE}`);

      const model = modelFor(version);
      let confidences: number[];
      try {
        confidences = await predictor(model, bytes);
      } catch {
        throw new ApiError('InvalidImageFormatException', 'Request has invalid image format (the image could not be decoded)');
      }
      const labels = model.labels
        .map((name, i) => ({ Name: name, Confidence: confidences[i] ?? 0, threshold: (model.thresholds[i] ?? 0.5) * 100 }))
        .filter((l) => l.Confidence >= (minConfidence ?? l.threshold))
        .sort((a, b) => b.Confidence - a.Confidence)
        .slice(0, maxResults)
        .map(({ Name, Confidence }) => ({ Name, Confidence }));
      return { CustomLabels: labels };
    },
  };

  const takeFault = (operation: string): FaultRule | undefined => {
    const index = faults.findIndex((f) => f.count > 0 && (f.operation === operation || f.operation === '*'));
    const rule = faults[index];
    if (!rule) return undefined;
    faults[index] = { ...rule, count: rule.count - 1 };
    faults = faults.filter((f) => f.count > 0);
    return rule;
  };

  const injectFault = (rule: FaultRule): void => {
    if (!Number.isInteger(rule.count) || rule.count < 0) throw new Error('fault count must be a whole number');
    faults.push(rule);
  };

  const send = (res: ServerResponse, status: number, payload: unknown): void => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
    res.end(text);
  };

  const sendError = (res: ServerResponse, error: ApiError): void => {
    res.setHeader('x-amzn-errortype', error.type);
    send(res, error.status, { __type: error.type, message: error.message, Message: error.message });
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) throw new ApiError('ImageTooLargeException', 'Request body is too large');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  };

  const handleAdmin = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/__emulator/health') {
      send(res, 200, { ok: true });
      return;
    }
    if (path === '/__emulator/faults' && req.method === 'POST') {
      const body: unknown = JSON.parse((await readBody(req)).toString('utf8') || '{}');
      if (!isRecord(body) || typeof body.operation !== 'string' || typeof body.count !== 'number') throw invalidParameter('fault needs operation and count');
      injectFault({ operation: body.operation, count: body.count, ...(typeof body.error === 'string' ? { error: body.error } : {}) });
      send(res, 200, { faults });
      return;
    }
    if (path === '/__emulator/faults' && req.method === 'DELETE') {
      faults = [];
      send(res, 200, { faults });
      return;
    }
    if (path === '/__emulator/faults') {
      send(res, 200, { faults });
      return;
    }
    send(res, 404, { __type: 'NotFound', message: path });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path.startsWith('/__emulator/')) {
        await handleAdmin(req, res, path);
        return;
      }
      if (req.method !== 'POST' || path !== '/') throw new ApiError('UnknownOperationException', `${req.method ?? ''} ${path} is not an operation`, 404);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('RekognitionService.') ? target.slice('RekognitionService.'.length) : '';
      const handler = handlers[operation];
      if (!handler) throw new ApiError('UnknownOperationException', `Unknown operation ${target}`);
      const raw = await readBody(req);
      let body: unknown;
      try {
        body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ApiError('SerializationException', 'Request body is not valid JSON');
      }
      if (!isRecord(body)) throw new ApiError('SerializationException', 'Request body must be a JSON object');
      const fault = takeFault(operation);
      if (fault) {
        const type = fault.error ?? 'ThrottlingException';
        throw new ApiError(type, `Injected fault (${type})`, type === 'InternalServerError' || type === 'ServiceUnavailableException' ? 500 : 400);
      }
      await holdAt({ at: 'call', operation });
      send(res, 200, await handler(body));
    } catch (error) {
      if (error instanceof ApiError) {
        sendError(res, error);
        return;
      }
      log(`rekognition: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendError(res, new ApiError('InternalServerError', 'Amazon Rekognition experienced a service issue. Try your call again.', 500));
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    region,
    injectFault,
    clearFaults: () => {
      faults = [];
    },
    idle: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      signalClosing();
      for (const [timer, finish] of timers) {
        clearTimeout(timer);
        finish();
      }
      timers.clear();
      trainingSlots.abort(new TrainingFailure('the emulator is shutting down'));
      await Promise.allSettled([...trainings.values()].map((t) => t.cancel()));
      await Promise.allSettled([...pending]);
      persist();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

export type { VersionStatus };
