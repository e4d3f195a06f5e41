import { extractFeatures, decodeToPixels } from './features.js';
import { calibrateShift, DEFAULT_TRAIN_OPTIONS, logitsOf, rocAuc, serialiseModel, softmax, trainModel } from './model.js';
import type { ModelWeights, SerialisedModel, TrainOptions } from './model.js';

/*
 * Training and evaluation on image bytes, with no I/O of its own: runs in the worker thread (train-worker.ts),
 * or inline. Labels are indices into `labels`.
 */

/** How each epoch report starts (a held worker pauses after the first one: see training.ts). */
export const EPOCH_PROGRESS = 'Training: epoch';

/** Per class; with fewer validation images the class-weighted model's own boundary is kept. */
const MIN_CALIBRATION_IMAGES = 5;

export interface LabelledImage {
  readonly bytes: Uint8Array;
  readonly label: number;
}

export interface TrainingJob {
  readonly labels: readonly string[];
  readonly train: readonly LabelledImage[];
  /** Carved from the training images; calibrates the decision threshold. Never the test images. */
  readonly validation: readonly LabelledImage[];
  readonly test: readonly LabelledImage[];
  readonly options?: Partial<Omit<TrainOptions, 'onEpoch'>>;
}

export interface LabelMetrics {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Assumed threshold, 0–1 on the confidence scale DetectCustomLabels returns. */
  readonly threshold: number;
  readonly testImages: number;
}

export interface Evaluation {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly accuracy: number;
  /** Binary models only: AUC of the second label's confidence. */
  readonly auc?: number;
  /** [groundTruth][predicted] counts. */
  readonly confusion: number[][];
  readonly perLabel: LabelMetrics[];
}

export interface TrainedModel {
  readonly labels: readonly string[];
  readonly weights: SerialisedModel;
  /** Added to the logits before the softmax: the calibrated decision shift (binary) or zeros. */
  readonly bias: readonly number[];
  /** Per-label assumed thresholds, 0–1. */
  readonly thresholds: readonly number[];
}

export interface TrainingOutcome {
  readonly model: TrainedModel;
  readonly evaluation: Evaluation;
  readonly counts: { readonly train: number; readonly validation: number; readonly test: number; readonly undecodable: number };
  readonly seconds: number;
}

/** Confidences 0–100 per label (summing to 100) for one feature row. */
export function confidencesOf(weights: ModelWeights, bias: readonly number[], row: Float32Array): number[] {
  const logits = logitsOf(weights, row);
  return softmax(Array.from(logits, (l, i) => l + (bias[i] ?? 0))).map((p) => p * 100);
}

async function featurise(images: readonly LabelledImage[], onEach: () => void): Promise<{ rows: Float32Array[]; labels: number[]; failed: number }> {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  let failed = 0;
  // sharp decodes on libuv's pool; a few in flight keep both cores busy without holding every bitmap at once.
  let next = 0;
  const results = new Array<Float32Array | undefined>(images.length);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < images.length) {
        const i = next++;
        const image = images[i];
        if (!image) continue;
        try {
          results[i] = extractFeatures(await decodeToPixels(image.bytes));
        } catch {
          results[i] = undefined;
        }
        onEach();
      }
    }),
  );
  results.forEach((row, i) => {
    if (row) {
      rows.push(row);
      labels.push(images[i]?.label ?? 0);
    } else failed++;
  });
  return { rows, labels, failed };
}

function f1Of(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** Threshold on a label's confidence (0–1) that maximises its one-vs-rest F1 on the validation set. */
function bestF1Threshold(scores: readonly number[], positive: readonly boolean[]): number {
  let best = { f1: -1, threshold: 0.5 };
  const total = positive.filter(Boolean).length;
  for (const candidate of [...new Set(scores)].sort((a, b) => a - b)) {
    let tp = 0;
    let fp = 0;
    scores.forEach((s, i) => {
      if (s >= candidate) {
        if (positive[i]) tp++;
        else fp++;
      }
    });
    const f1 = f1Of(tp + fp === 0 ? 0 : tp / (tp + fp), total === 0 ? 0 : tp / total);
    if (f1 > best.f1) best = { f1, threshold: candidate };
  }
  return best.threshold;
}

export function evaluate(labels: readonly string[], truth: readonly number[], confidences: readonly number[][], thresholds: readonly number[]): Evaluation {
  const n = labels.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const predicted = confidences.map((c) => c.indexOf(Math.max(...c)));
  truth.forEach((t, i) => {
    const row = confusion[t];
    const p = predicted[i] ?? 0;
    if (row) row[p] = (row[p] ?? 0) + 1;
  });
  const perLabel = labels.map((label, c) => {
    const tp = confusion[c]?.[c] ?? 0;
    const support = confusion[c]?.reduce((a, b) => a + b, 0) ?? 0;
    const predictedCount = confusion.reduce((a, row) => a + (row[c] ?? 0), 0);
    const precision = predictedCount === 0 ? 0 : tp / predictedCount;
    const recall = support === 0 ? 0 : tp / support;
    return { label, precision, recall, f1: f1Of(precision, recall), threshold: thresholds[c] ?? 0.5, testImages: support };
  });
  const total = truth.length;
  const weighted = (pick: (m: LabelMetrics) => number): number => (total === 0 ? 0 : perLabel.reduce((a, m) => a + pick(m) * m.testImages, 0) / total);
  const correct = truth.filter((t, i) => predicted[i] === t).length;
  const auc = n === 2 ? rocAuc(confidences.map((c) => c[1] ?? 0), truth.map((t) => t === 1)) : undefined;
  return {
    precision: weighted((m) => m.precision),
    recall: weighted((m) => m.recall),
    f1: weighted((m) => m.f1),
    accuracy: total === 0 ? 0 : correct / total,
    ...(auc === undefined || Number.isNaN(auc) ? {} : { auc }),
    confusion,
    perLabel,
  };
}

export async function runTraining(job: TrainingJob, progress: (message: string) => void): Promise<TrainingOutcome> {
  const started = performance.now();
  const options: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...job.options };
  const all = job.train.length + job.validation.length + job.test.length;
  let done = 0;
  const tick = (): void => {
    done++;
    if (done % 250 === 0 || done === all) progress(`Extracting image features: ${done}/${all}`);
  };
  const train = await featurise(job.train, tick);
  const validation = await featurise(job.validation, tick);
  const test = await featurise(job.test, tick);
  const undecodable = train.failed + validation.failed + test.failed;
  const classes = job.labels.length;
  const present = new Set(train.labels);
  if (present.size < classes) {
    const missing = job.labels.filter((_, i) => !present.has(i));
    throw new Error(`The training dataset has no usable images for label(s): ${missing.join(', ')}`);
  }
  if (test.rows.length === 0) throw new Error('The testing dataset has no usable images');

  const weights = trainModel(train.rows, train.labels, classes, {
    ...options,
    onEpoch: (epoch, epochs, loss) => {
      if (epoch % 5 === 0 || epoch === epochs) progress(`${EPOCH_PROGRESS} ${epoch}/${epochs}, loss ${loss.toFixed(4)}`);
    },
  });

  // Calibrate on validation images only: for two labels, shift the decision so balanced accuracy is best and the
  // decision point lands at 50 % confidence; then per-label assumed thresholds.
  let bias = new Array<number>(classes).fill(0);
  if (classes === 2 && validation.rows.length > 0) {
    const margins = validation.rows.map((row) => {
      const l = logitsOf(weights, row);
      return (l[1] ?? 0) - (l[0] ?? 0);
    });
    bias = [0, calibrateShift(margins, validation.labels.map((l) => l === 1), MIN_CALIBRATION_IMAGES)];
  }
  const validationConfidences = validation.rows.map((row) => confidencesOf(weights, bias, row));
  const thresholds = job.labels.map((_, c) => {
    if (classes === 2 || validation.rows.length === 0) return 0.5;
    return bestF1Threshold(validationConfidences.map((v) => (v[c] ?? 0) / 100), validation.labels.map((l) => l === c));
  });

  progress('Evaluating on the testing dataset');
  const testConfidences = test.rows.map((row) => confidencesOf(weights, bias, row));
  const evaluation = evaluate(job.labels, test.labels, testConfidences, thresholds);
  return {
    model: { labels: job.labels, weights: serialiseModel(weights), bias, thresholds },
    evaluation,
    counts: { train: train.rows.length, validation: validation.rows.length, test: test.rows.length, undecodable },
    seconds: (performance.now() - started) / 1000,
  };
}
