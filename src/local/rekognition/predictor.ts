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

/**
 * BENCHMARK ONLY (never the default): answers without decoding or running the model, so a benchmark measures
 * the pipeline around the model. Gives the first label `first` % and splits the rest evenly.
 */
export function constantPredictor(first = 90): Predictor {
  return (model) => {
    const rest = model.labels.length > 1 ? (100 - first) / (model.labels.length - 1) : 0;
    return Promise.resolve(model.labels.map((_, i) => (i === 0 ? (model.labels.length > 1 ? first : 100) : rest)));
  };
}
