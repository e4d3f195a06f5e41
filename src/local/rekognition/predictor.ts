import { decodeToPixels, extractFeatures } from './features.js';
import { deserialiseModel } from './model.js';
import type { ModelWeights } from './model.js';
import { confidencesOf } from './training-core.js';
import type { TrainedModel } from './training-core.js';

export interface LoadedModel {
  readonly labels: readonly string[];
  readonly thresholds: readonly number[];
  readonly bias: readonly number[];
  readonly weights: ModelWeights;
}

/**
 * Turns image bytes (already checked to be a JPEG/PNG of allowed size) into one confidence 0–100 per label, in
 * `model.labels` order. The emulator's default runs the trained model; a benchmark may swap in a stand-in.
 */
export type Predictor = (model: LoadedModel, bytes: Uint8Array) => Promise<number[]>;

export function loadModel(trained: TrainedModel): LoadedModel {
  return { labels: trained.labels, thresholds: trained.thresholds, bias: trained.bias, weights: deserialiseModel(trained.weights) };
}

/** The real thing: decode, features, model. */
export const trainedModelPredictor: Predictor = async (model, bytes) => confidencesOf(model.weights, model.bias, extractFeatures(await decodeToPixels(bytes)));

export interface ConstantPredictorOptions {
  /** Confidence of the first label; the rest is split evenly. */
  readonly first?: number;
  /** Time one inference unit spends per image (0: answer at once). */
  readonly serviceMs?: number;
  /** Images served at the same time; more wait their turn, as calls queue on a model's inference units. */
  readonly units?: number;
}

/**
 * BENCHMARK ONLY (never the default): answers without decoding or running the model, so a benchmark measures
 * the pipeline around the model. With `serviceMs` it stands in for a model whose inference units each take that
 * long per image: throughput is bounded by the units, not by this machine's CPU, as on the real service.
 */
export function constantPredictor(options: ConstantPredictorOptions = {}): Predictor {
  const { first = 90, serviceMs = 0, units = 1 } = options;
  if (!Number.isInteger(units) || units < 1) throw new RangeError(`units must be a positive integer, got ${units}`);
  if (!(serviceMs >= 0)) throw new RangeError(`serviceMs must be 0 or more, got ${serviceMs}`);
  let busy = 0;
  const waiting: (() => void)[] = [];
  const serve = async (): Promise<void> => {
    if (busy >= units) await new Promise<void>((resolve) => waiting.push(resolve));
    else busy++;
    await new Promise<void>((resolve) => setTimeout(resolve, serviceMs));
    // The unit passes straight to the next waiter, so `busy` counts units in use.
    const next = waiting.shift();
    if (next) next();
    else busy--;
  };
  return async (model) => {
    if (serviceMs > 0) await serve();
    const rest = model.labels.length > 1 ? (100 - first) / (model.labels.length - 1) : 0;
    return model.labels.map((_, i) => (i === 0 ? (model.labels.length > 1 ? first : 100) : rest));
  };
}
