import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Background } from './background.js';
import { writeJson } from './s3.js';
import type { Store, VersionRecord } from './store.js';
import { buildJob, evaluationSummary, startTraining, TrainingFailure } from './training.js';
import type { DatasetSpec, RunningTraining, TrainingSettings } from './training.js';

/*
 * Runs CreateProjectVersion's training in the background: waits for a free slot, trains (in a worker), saves the
 * model, writes the evaluation summary, and moves the version to TRAINING_COMPLETED or TRAINING_FAILED with the
 * reason. Progress goes to the version's StatusMessage as the service shows it.
 */

export const INTERRUPTED = 'Training was interrupted by an emulator shutdown; create a new version to train again';

const SHUTTING_DOWN = 'the emulator is shutting down';

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

export interface TrainerOptions {
  readonly s3: S3Client;
  readonly store: Store;
  readonly background: Background;
  readonly settings: TrainingSettings;
  /** Training jobs that run at once; later ones wait, TRAINING_IN_PROGRESS. */
  readonly maxConcurrent: number;
  /** Saves the state after a version changed. */
  readonly persist: () => void;
  readonly log: (line: string) => void;
  /** TESTS ONLY: asked when the worker of `versionArn` reports its first epoch (see HoldPoint `training`). */
  readonly hold?: (versionArn: string) => Promise<unknown> | undefined;
}

export class Trainer {
  private readonly slots: Slots;
  private readonly running = new Map<string, RunningTraining>();

  constructor(private readonly options: TrainerOptions) {
    this.slots = new Slots(options.maxConcurrent);
  }

  /** Trains `version` (TRAINING_IN_PROGRESS) in the background; `Background.idle()` waits for it. */
  train(version: VersionRecord, training: DatasetSpec, testing: DatasetSpec): void {
    void this.options.background.track(this.run(version, training, testing));
  }

  /** Shutdown: queued jobs and running workers end; their versions become TRAINING_FAILED (INTERRUPTED). */
  async cancelAll(): Promise<void> {
    this.slots.abort(new TrainingFailure(SHUTTING_DOWN));
    await Promise.allSettled([...this.running.values()].map((t) => t.cancel()));
  }

  private async run(version: VersionRecord, training: DatasetSpec, testing: DatasetSpec): Promise<void> {
    const { s3, store, background, settings, persist, log } = this.options;
    const progress = (message: string): void => {
      if (background.closed) throw new TrainingFailure(SHUTTING_DOWN);
      if (version.status !== 'TRAINING_IN_PROGRESS') return;
      version.statusMessage = message;
      persist();
    };
    try {
      await this.slots.acquire((ahead) => {
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
      const job = await buildJob(s3, training, testing, settings, progress);
      if (background.closed) throw new TrainingFailure(SHUTTING_DOWN);
      progress(`Training on ${job.train.length} images (${job.validation.length} for calibration, ${job.test.length} for testing)`);
      // Only a test's hook makes the worker wait for the parent at all.
      const { hold } = this.options;
      const running = startTraining(job, settings, progress, hold ? () => hold(version.arn) : undefined);
      this.running.set(version.arn, running);
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
        await writeJson(s3, version.outputConfig.S3Bucket, summaryKey, summary);
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
      version.statusMessage = background.closed
        ? INTERRUPTED
        : error instanceof TrainingFailure
          ? error.message
          : `Internal error: ${error instanceof Error ? error.message : String(error)}`;
      version.trainingEndedAt = Date.now();
      log(`rekognition: ${version.arn} training failed: ${version.statusMessage}`);
    } finally {
      this.running.delete(version.arn);
      this.slots.release();
      persist();
    }
  }
}
