import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseManifest, stratifiedSplit } from './manifest.js';
import type { ManifestEntry } from './manifest.js';
import { readObject } from './s3.js';
import { EPOCH_PROGRESS, runTraining } from './training-core.js';
import type { Evaluation, LabelledImage, TrainingJob, TrainingOutcome } from './training-core.js';
import type { TrainOptions } from './model.js';

/* Turns a CreateProjectVersion request into a training job: manifests and images from S3, splits, the worker. */

export interface S3Location {
  readonly Bucket: string;
  readonly Name: string;
}

export interface DatasetSpec {
  readonly manifest?: S3Location;
  readonly autoCreate?: boolean;
}

export interface TrainingSettings {
  /** Share of the training images carved out to calibrate thresholds (default 0.15). */
  readonly validationFraction?: number;
  /** Share held out for testing when TestingData.AutoCreate is true (default 0.2, as the service does). */
  readonly testFraction?: number;
  /** Train in a worker thread (default) or on the calling thread (debugging only: blocks the server). */
  readonly inWorker?: boolean;
  readonly model?: Partial<Omit<TrainOptions, 'onEpoch'>>;
}

export class TrainingFailure extends Error {
  override readonly name = 'TrainingFailure';
}

async function readManifest(s3: S3Client, location: S3Location): Promise<ManifestEntry[]> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readObject(s3, location.Bucket, location.Name));
  } catch (error) {
    throw new TrainingFailure(`The manifest file s3://${location.Bucket}/${location.Name} could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const { entries, rejected } = parseManifest(text);
  if (entries.length === 0) {
    const why = rejected[0] ? `; line ${rejected[0].line}: ${rejected[0].why}` : '';
    throw new TrainingFailure(`The manifest file s3://${location.Bucket}/${location.Name} contains no valid image-classification entries${why}`);
  }
  return entries;
}

export async function buildJob(
  s3: S3Client,
  training: DatasetSpec,
  testing: DatasetSpec,
  settings: TrainingSettings,
  progress: (message: string) => void,
): Promise<TrainingJob> {
  if (!training.manifest) throw new TrainingFailure('TrainingData needs a GroundTruthManifest');
  progress('Reading the training manifest');
  const trainingEntries = await readManifest(s3, training.manifest);
  let trainEntries: ManifestEntry[];
  let testEntries: ManifestEntry[];
  if (testing.autoCreate) {
    [trainEntries, testEntries] = stratifiedSplit(trainingEntries, settings.testFraction ?? 0.2, 'testing');
  } else if (testing.manifest) {
    progress('Reading the testing manifest');
    trainEntries = trainingEntries;
    testEntries = await readManifest(s3, testing.manifest);
  } else {
    throw new TrainingFailure('TestingData needs AutoCreate or a GroundTruthManifest');
  }
  const [fitEntries, validationEntries] = stratifiedSplit(trainEntries, settings.validationFraction ?? 0.15, 'validation');
  const labels = [...new Set(trainingEntries.map((e) => e.label))].sort();
  if (labels.length < 2) throw new TrainingFailure(`The training dataset needs at least 2 labels, found ${labels.length}`);
  const unknown = testEntries.find((e) => !labels.includes(e.label));
  if (unknown) throw new TrainingFailure(`The testing dataset has label ${unknown.label}, which the training dataset does not`);

  const all = [...fitEntries, ...validationEntries, ...testEntries];
  const bytes = new Array<Uint8Array | undefined>(all.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < all.length) {
        const i = next++;
        const entry = all[i];
        if (!entry) continue;
        try {
          bytes[i] = await readObject(s3, entry.bucket, entry.key, { maxBytes: 15 * 1024 * 1024 });
        } catch {
          bytes[i] = undefined; // like the service: an unreadable image is left out, not fatal
        }
        done++;
        if (done % 250 === 0 || done === all.length) progress(`Reading images: ${done}/${all.length}`);
      }
    }),
  );
  let at = 0;
  const take = (entries: readonly ManifestEntry[]): LabelledImage[] =>
    entries.flatMap((entry) => {
      const image = bytes[at++];
      return image ? [{ bytes: image, label: labels.indexOf(entry.label) }] : [];
    });
  const train = take(fitEntries);
  const validation = take(validationEntries);
  const test = take(testEntries);
  if (train.length === 0) throw new TrainingFailure('None of the training images could be read from S3');
  if (test.length === 0) throw new TrainingFailure('None of the testing images could be read from S3');
  return { labels, train, validation, test, ...(settings.model ? { options: settings.model } : {}) };
}

/**
 * Starts this folder's worker. Compiled JavaScript runs directly; from TypeScript source (tsx, vitest) the worker
 * boots through tsx's `tsImport`, because `execArgv: ['--import', 'tsx']` does not reach a worker's entry module
 * on Node 20 ("Unknown file extension .ts").
 */
function spawnWorker(input: WorkerInput): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./train-worker.js', import.meta.url), { workerData: input });
  const entry = new URL('./train-worker.ts', import.meta.url).href;
  // The package's ESM build sits next to the CommonJS one that require.resolve finds.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}));`;
  return new Worker(boot, { eval: true, workerData: input });
}

/** What train-worker.ts receives. */
export interface WorkerInput {
  readonly job: TrainingJob;
  /** Set when a test holds the job: the worker waits after its first epoch report until index 0 is non-zero. */
  readonly holdSignal?: Int32Array;
}

export interface RunningTraining {
  readonly result: Promise<TrainingOutcome>;
  cancel(): Promise<void>;
}

/**
 * Trains `job`, in a worker thread unless `settings.inWorker` is false. `hold` (tests only; the worker path only)
 * is asked once, when the worker reports its first epoch: the worker waits there until the promise it returns
 * settles, so a test can act while a job is known to be mid-training.
 */
export function startTraining(
  job: TrainingJob,
  settings: TrainingSettings,
  progress: (message: string) => void,
  hold?: () => Promise<unknown> | undefined,
): RunningTraining {
  if (settings.inWorker === false) {
    return { result: runTraining(job, progress), cancel: () => Promise.resolve() };
  }
  const holdSignal = hold ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
  const releaseHold = (): void => {
    if (!holdSignal) return;
    Atomics.store(holdSignal, 0, 1);
    Atomics.notify(holdSignal, 0);
  };
  let askedHold = false;
  // Copied, not transferred: the SDK's byte arrays may be views on shared pooled buffers.
  const worker = spawnWorker({ job, ...(holdSignal ? { holdSignal } : {}) });
  let cancelled = false;
  const result = new Promise<TrainingOutcome>((resolve, reject) => {
    worker.on('message', (message: { kind: 'progress'; message: string } | { kind: 'done'; outcome: TrainingOutcome } | { kind: 'failed'; message: string }) => {
      if (message.kind === 'progress') {
        if (hold && !askedHold && message.message.startsWith(EPOCH_PROGRESS)) {
          askedHold = true;
          const wait = hold();
          if (wait) void wait.then(releaseHold, releaseHold);
          else releaseHold();
        }
        try {
          progress(message.message);
        } catch (error) {
          reject(error instanceof Error ? error : new TrainingFailure(String(error)));
          void worker.terminate();
        }
      } else if (message.kind === 'done') resolve(message.outcome);
      else reject(new TrainingFailure(message.message));
    });
    worker.on('error', (error) => {
      reject(new TrainingFailure(`training worker crashed: ${error.message}`));
    });
    worker.on('exit', (code) => {
      reject(new TrainingFailure(cancelled ? 'training was cancelled' : `training worker exited with code ${code}`));
    });
  }).finally(() => void worker.terminate());
  return {
    result,
    cancel: async () => {
      cancelled = true;
      await worker.terminate();
    },
  };
}

/** The evaluation summary file, in the layout Custom Labels writes (see the folder README). */
export function evaluationSummary(args: {
  projectVersionArn: string;
  labels: readonly string[];
  evaluation: Evaluation;
  trainingImages: number;
  testingImages: number;
  endedAt: Date;
}): Record<string, unknown> {
  const { evaluation, labels } = args;
  const confusion = evaluation.confusion.flatMap((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ GroundTruthLabel: labels[t], PredictedLabel: labels[p], Value: support === 0 ? 0 : count / support }));
  });
  return {
    Version: 1,
    AggregatedEvaluationResults: {
      ConfusionMatrix: confusion,
      F1Score: evaluation.f1,
      Precision: evaluation.precision,
      Recall: evaluation.recall,
    },
    EvaluationDetails: {
      EvaluationEndTimestamp: args.endedAt.toISOString().replace('Z', ''),
      Labels: [...labels],
      NumberOfTestingImages: args.testingImages,
      NumberOfTrainingImages: args.trainingImages,
      ProjectVersionArn: args.projectVersionArn,
    },
    LabelEvaluationResults: [...evaluation.perLabel]
      .sort((a, b) => b.f1 - a.f1)
      .map((m) => ({ Label: m.label, Metrics: { F1Score: m.f1, Precision: m.precision, Recall: m.recall, Threshold: m.threshold }, NumberOfTestingImages: m.testImages })),
  };
}
