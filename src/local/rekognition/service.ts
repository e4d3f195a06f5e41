import type {
  CreateProjectResponse,
  CreateProjectVersionResponse,
  DeleteProjectVersionResponse,
  DescribeProjectsResponse,
  DescribeProjectVersionsResponse,
  DetectCustomLabelsResponse,
  ProjectVersionDescription,
  StartProjectVersionResponse,
  StopProjectVersionResponse,
} from '@aws-sdk/client-rekognition';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Background } from './background.js';
import { ApiError, internalError, invalidParameter, inUse, notFound } from './errors.js';
import { checkImage, imageBytes } from './image.js';
import { newestFirst, oldestFirst, paginate } from './pagination.js';
import { loadModel } from './predictor.js';
import type { LoadedModel, Predictor } from './predictor.js';
import type {
  CreateProjectRequest,
  CreateProjectVersionRequest,
  DeleteProjectVersionRequest,
  DescribeProjectsRequest,
  DescribeProjectVersionsRequest,
  DetectCustomLabelsRequest,
  StartProjectVersionRequest,
  StopProjectVersionRequest,
  TestingData,
  TrainingData,
} from './schemas.js';
import type { ProjectRecord, State, Store, VersionRecord } from './store.js';
import { Trainer } from './trainer.js';
import type { DatasetSpec, TrainingSettings } from './training.js';

/*
 * Rekognition Custom Labels' state and operations, one method each: a method takes its operation's request
 * (already checked against the API's constraints, see schemas.ts), changes the state and returns the response in
 * the SDK's own types, or throws the ApiError the service answers with. Nothing here knows about HTTP.
 */

/**
 * `call`: a request about to be answered (after fault injection); `running`: a STARTING version about to become
 * RUNNING (before its start delay); `training`: a version whose training worker reported its first epoch and
 * waits (the worker path only).
 */
export type HoldPoint =
  | { readonly at: 'call'; readonly operation: string }
  | { readonly at: 'running'; readonly versionArn: string }
  | { readonly at: 'training'; readonly versionArn: string };

/** A test's wait at `point` (ended early by a shutdown), or undefined when nothing holds it. */
export type HoldHook = (point: HoldPoint) => Promise<unknown> | undefined;

export interface ServiceOptions {
  readonly s3: S3Client;
  readonly store: Store;
  /** What the data folder held, recovered (see recovery.ts). */
  readonly state: State;
  readonly background: Background;
  readonly region: string;
  readonly accountId: string;
  /** STARTING → RUNNING. */
  readonly startingDelayMs: number;
  /** STOPPING → STOPPED. */
  readonly stoppingDelayMs: number;
  readonly predictor: Predictor;
  readonly training: TrainingSettings;
  readonly maxConcurrentTrainings: number;
  readonly log: (line: string) => void;
  /** TESTS ONLY: absent, nothing is held. */
  readonly hold?: HoldHook;
}

const RUNNING = 'The model is running.';
const STOPPED = 'The model is stopped.';

function datasetSpec(data: TrainingData | TestingData): DatasetSpec {
  if ('AutoCreate' in data && data.AutoCreate === true) return { autoCreate: true };
  const manifest = data.Assets?.[0]?.GroundTruthManifest.S3Object;
  return manifest ? { manifest: { Bucket: manifest.Bucket, Name: manifest.Name } } : {};
}

function describeVersion(v: VersionRecord): ProjectVersionDescription {
  return {
    ProjectVersionArn: v.arn,
    CreationTimestamp: new Date(v.createdAt),
    Status: v.status,
    StatusMessage: v.statusMessage,
    ...(v.description ? { VersionDescription: v.description } : {}),
    ...(v.minInferenceUnits === undefined ? {} : { MinInferenceUnits: v.minInferenceUnits }),
    ...(v.maxInferenceUnits === undefined ? {} : { MaxInferenceUnits: v.maxInferenceUnits }),
    ...(v.billableTrainingSeconds === undefined ? {} : { BillableTrainingTimeInSeconds: v.billableTrainingSeconds }),
    ...(v.trainingEndedAt === undefined ? {} : { TrainingEndTimestamp: new Date(v.trainingEndedAt) }),
    OutputConfig: v.outputConfig,
    TrainingDataResult: { Input: v.trainingData },
    TestingDataResult: { Input: v.testingData },
    ...(v.f1Score === undefined && !v.summary
      ? {}
      : { EvaluationResult: { ...(v.f1Score === undefined ? {} : { F1Score: v.f1Score }), ...(v.summary ? { Summary: { S3Object: v.summary } } : {}) } }),
    ...(v.trainingManifest ? { ManifestSummary: { S3Object: v.trainingManifest } } : {}),
    Feature: 'CUSTOM_LABELS',
  };
}

export class CustomLabelsService {
  private readonly state: State;
  private readonly models = new Map<string, LoadedModel>();
  private readonly trainer: Trainer;

  constructor(private readonly options: ServiceOptions) {
    this.state = options.state;
    const { hold } = options;
    this.trainer = new Trainer({
      s3: options.s3,
      store: options.store,
      background: options.background,
      settings: options.training,
      maxConcurrent: options.maxConcurrentTrainings,
      persist: () => { this.persist(); },
      log: options.log,
      ...(hold ? { hold: (versionArn: string) => hold({ at: 'training', versionArn }) } : {}),
    });
  }

  createProject(request: CreateProjectRequest): CreateProjectResponse {
    const name = request.ProjectName;
    if (request.Feature !== undefined && request.Feature !== 'CUSTOM_LABELS') throw invalidParameter('only Feature CUSTOM_LABELS is emulated');
    if (this.state.projects.some((p) => p.name === name)) throw inUse(`A project named ${name} already exists`);
    const createdAt = Date.now();
    const project = { name, arn: `arn:aws:rekognition:${this.options.region}:${this.options.accountId}:project/${name}/${createdAt}`, createdAt };
    this.state.projects.push(project);
    this.persist();
    return { ProjectArn: project.arn };
  }

  describeProjects(request: DescribeProjectsRequest): DescribeProjectsResponse {
    const names = request.ProjectNames;
    const projects = this.state.projects.filter((p) => !names || names.includes(p.name));
    const page = paginate('DescribeProjects', { MaxResults: request.MaxResults, NextToken: request.NextToken, filters: { names } }, projects, (p) => oldestFirst(p.createdAt, p.arn));
    return {
      ProjectDescriptions: page.items.map((p) => ({ ProjectArn: p.arn, CreationTimestamp: new Date(p.createdAt), Status: 'CREATED', Feature: 'CUSTOM_LABELS' })),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  }

  /** Answers at once (TRAINING_IN_PROGRESS); training goes on in the background. */
  createProjectVersion(request: CreateProjectVersionRequest): CreateProjectVersionResponse {
    const project = this.projectByArn(request.ProjectArn);
    const { VersionName: versionName, OutputConfig: output } = request;
    if (this.state.versions.some((v) => v.projectArn === project.arn && v.versionName === versionName)) {
      throw inUse(`A version named ${versionName} already exists in project ${project.name}`);
    }
    const training = datasetSpec(request.TrainingData);
    const testing = datasetSpec(request.TestingData);
    const createdAt = Date.now();
    const version: VersionRecord = {
      projectArn: project.arn,
      projectName: project.name,
      versionName,
      arn: `arn:aws:rekognition:${this.options.region}:${this.options.accountId}:project/${project.name}/version/${versionName}/${createdAt}`,
      createdAt,
      ...(request.VersionDescription ? { description: request.VersionDescription } : {}),
      status: 'TRAINING_IN_PROGRESS',
      statusMessage: 'The model is being trained.',
      outputConfig: { S3Bucket: output.S3Bucket, ...(output.S3KeyPrefix === undefined ? {} : { S3KeyPrefix: output.S3KeyPrefix }) },
      trainingData: request.TrainingData,
      testingData: request.TestingData,
      ...(training.manifest ? { trainingManifest: training.manifest } : {}),
    };
    this.state.versions.push(version);
    this.persist();
    this.trainer.train(version, training, testing);
    return { ProjectVersionArn: version.arn };
  }

  describeProjectVersions(request: DescribeProjectVersionsRequest): DescribeProjectVersionsResponse {
    const project = this.projectByArn(request.ProjectArn);
    const names = request.VersionNames;
    const versions = this.state.versions.filter((v) => v.projectArn === project.arn && (!names || names.includes(v.versionName)));
    const query = { MaxResults: request.MaxResults, NextToken: request.NextToken, filters: { project: project.arn, names } };
    const page = paginate('DescribeProjectVersions', query, versions, (v) => newestFirst(v.createdAt, v.arn));
    return { ProjectVersionDescriptions: page.items.map(describeVersion), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  /** STARTING now, RUNNING after the start delay (FAILED if its weights cannot be loaded). */
  startProjectVersion(request: StartProjectVersionRequest): StartProjectVersionResponse {
    const version = this.versionByArn(request.ProjectVersionArn);
    const { MinInferenceUnits: min, MaxInferenceUnits: max = min } = request;
    if (max < min) throw invalidParameter(`MaxInferenceUnits must be at least MinInferenceUnits (${min}), got ${max}`);
    if (version.status === 'STARTING' || version.status === 'RUNNING' || version.status === 'STOPPING' || version.status === 'DELETING') {
      throw inUse(`The model is ${version.status}`);
    }
    if (version.status === 'TRAINING_IN_PROGRESS') throw inUse('The model is still training');
    if (version.status !== 'TRAINING_COMPLETED' && version.status !== 'STOPPED' && version.status !== 'FAILED') {
      throw invalidParameter(`A model in status ${version.status} cannot be started`);
    }
    version.status = 'STARTING';
    version.statusMessage = 'The model is being started.';
    version.minInferenceUnits = min;
    version.maxInferenceUnits = max;
    this.persist();
    const toRunning = (): void => {
      if (version.status !== 'STARTING') return;
      try {
        this.modelFor(version);
        version.status = 'RUNNING';
        version.statusMessage = RUNNING;
      } catch (error) {
        version.status = 'FAILED';
        version.statusMessage = `The model could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
      }
      this.persist();
    };
    this.options.background.later(this.options.startingDelayMs, toRunning, this.options.hold?.({ at: 'running', versionArn: version.arn }));
    return { Status: 'STARTING' };
  }

  /** STOPPING now, STOPPED after the stop delay. */
  stopProjectVersion(request: StopProjectVersionRequest): StopProjectVersionResponse {
    const version = this.versionByArn(request.ProjectVersionArn);
    if (version.status !== 'RUNNING' && version.status !== 'STARTING') throw inUse(`The model is ${version.status}, not running`);
    version.status = 'STOPPING';
    version.statusMessage = 'The model is being stopped.';
    this.persist();
    this.options.background.later(this.options.stoppingDelayMs, () => {
      if (version.status !== 'STOPPING') return;
      version.status = 'STOPPED';
      version.statusMessage = STOPPED;
      this.models.delete(version.arn);
      this.persist();
    });
    return { Status: 'STOPPING' };
  }

  /** Answers DELETING, as the service does; the version and its model are gone at once. */
  deleteProjectVersion(request: DeleteProjectVersionRequest): DeleteProjectVersionResponse {
    const version = this.versionByArn(request.ProjectVersionArn);
    if (version.status === 'RUNNING' || version.status === 'STARTING' || version.status === 'STOPPING' || version.status === 'TRAINING_IN_PROGRESS') {
      throw inUse(`The model is ${version.status}; stop it (or wait for training) before deleting it`);
    }
    this.state.versions = this.state.versions.filter((v) => v !== version);
    this.models.delete(version.arn);
    if (version.modelFile) this.options.store.deleteModel(version.modelFile);
    this.persist();
    return { Status: 'DELETING' };
  }

  /**
   * Every label with its confidence (0–100, highest first): those at or above MinConfidence, or without it those
   * at or above the threshold training assumed for each label; at most MaxResults.
   */
  async detectCustomLabels(request: DetectCustomLabelsRequest): Promise<DetectCustomLabelsResponse> {
    const version = this.versionByArn(request.ProjectVersionArn);
    if (version.status !== 'RUNNING') throw new ApiError('ResourceNotReadyException', `The model ${version.arn} is ${version.status}, not RUNNING`);
    const bytes = await imageBytes(this.options.s3, request.Image);
    await checkImage(bytes);
    const model = this.modelFor(version);
    let confidences: number[];
    try {
      confidences = await this.options.predictor(model, bytes);
    } catch {
      throw new ApiError('InvalidImageFormatException', 'Request has invalid image format (the image could not be decoded)');
    }
    const { MinConfidence: minConfidence, MaxResults: maxResults } = request;
    const labels = model.labels
      .map((name, i) => ({ Name: name, Confidence: confidences[i] ?? 0, threshold: (model.thresholds[i] ?? 0.5) * 100 }))
      .filter((l) => l.Confidence >= (minConfidence ?? l.threshold))
      .sort((a, b) => b.Confidence - a.Confidence)
      .slice(0, maxResults)
      .map(({ Name, Confidence }) => ({ Name, Confidence }));
    return { CustomLabels: labels };
  }

  /** Shutdown: training stops (those versions become TRAINING_FAILED); the state is saved. */
  async close(): Promise<void> {
    await this.trainer.cancelAll();
  }

  persist(): void {
    this.options.store.save(this.state);
  }

  private projectByArn(arn: string): ProjectRecord {
    const project = this.state.projects.find((p) => p.arn === arn);
    if (!project) throw notFound(`Project ${arn}`);
    return project;
  }

  private versionByArn(arn: string): VersionRecord {
    const version = this.state.versions.find((v) => v.arn === arn);
    if (!version) throw notFound(`Model ${arn}`);
    return version;
  }

  private modelFor(version: VersionRecord): LoadedModel {
    let model = this.models.get(version.arn);
    if (!model) {
      if (!version.modelFile) throw internalError('model weights are missing');
      model = loadModel(this.options.store.loadModel(version.modelFile));
      this.models.set(version.arn, model);
    }
    return model;
  }
}
