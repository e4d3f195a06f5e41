import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainedModel } from './training-core.js';
import type { TestingData, TrainingData } from './schemas.js';
import type { S3Location } from './training.js';

/*
 * Everything the emulator knows, kept under one data folder:
 *   state.json             projects and versions (written atomically: temp file + rename)
 *   models/<id>.json       one trained model per version (weights as base64 float32)
 */

export type VersionStatus =
  | 'TRAINING_IN_PROGRESS'
  | 'TRAINING_COMPLETED'
  | 'TRAINING_FAILED'
  | 'STARTING'
  | 'RUNNING'
  | 'FAILED'
  | 'STOPPING'
  | 'STOPPED'
  | 'DELETING';

export interface ProjectRecord {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
}

export interface VersionRecord {
  readonly projectArn: string;
  readonly projectName: string;
  readonly versionName: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly description?: string;
  status: VersionStatus;
  statusMessage: string;
  readonly outputConfig: { readonly S3Bucket: string; readonly S3KeyPrefix?: string };
  /** The request's datasets, as DescribeProjectVersions echoes them. */
  readonly trainingData: TrainingData;
  readonly testingData: TestingData;
  readonly trainingManifest?: S3Location;
  minInferenceUnits?: number;
  maxInferenceUnits?: number;
  trainingEndedAt?: number;
  billableTrainingSeconds?: number;
  f1Score?: number;
  summary?: S3Location;
  /** File name under models/ once training has completed. */
  modelFile?: string;
}

export interface State {
  projects: ProjectRecord[];
  versions: VersionRecord[];
}

export class Store {
  private readonly stateFile: string;
  private readonly modelDir: string;

  constructor(readonly dataDir: string) {
    this.stateFile = join(dataDir, 'state.json');
    this.modelDir = join(dataDir, 'models');
    mkdirSync(this.modelDir, { recursive: true });
  }

  load(): State {
    if (!existsSync(this.stateFile)) return { projects: [], versions: [] };
    return JSON.parse(readFileSync(this.stateFile, 'utf8')) as State;
  }

  save(state: State): void {
    const temp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(state, null, 2));
    renameSync(temp, this.stateFile);
  }

  saveModel(file: string, model: TrainedModel): void {
    const path = join(this.modelDir, file);
    writeFileSync(`${path}.tmp`, JSON.stringify(model));
    renameSync(`${path}.tmp`, path);
  }

  loadModel(file: string): TrainedModel {
    return JSON.parse(readFileSync(join(this.modelDir, file), 'utf8')) as TrainedModel;
  }

  deleteModel(file: string): void {
    rmSync(join(this.modelDir, file), { force: true });
  }
}
