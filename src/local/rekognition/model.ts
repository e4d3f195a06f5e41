/*
 * A small classifier in plain TypeScript: standardised features → optional ReLU hidden layer → softmax.
 * Trained with Adam on class-weighted cross-entropy (each class weighs as much as the others in total, so
 * 3:1 imbalance does not tilt the decision) plus L2. Deterministic for a given seed.
 */

export interface TrainOptions {
  readonly hidden: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly seed: number;
  /** Small datasets get more epochs so that at least this many optimiser steps happen. */
  readonly minSteps: number;
  readonly onEpoch?: (epoch: number, epochs: number, loss: number) => void;
}

/** Linear softmax on the features (hidden 0): see the folder README for the measurements behind the choice. */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { hidden: 0, epochs: 30, batchSize: 64, learningRate: 1e-3, l2: 1e-2, seed: 42, minSteps: 300 };

export interface ModelWeights {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly mean: Float32Array;
  readonly scale: Float32Array;
  /** hidden > 0: inputs×hidden then hidden×classes; hidden = 0: inputs×classes. */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

/** Mulberry32: small seeded PRNG so training and splits repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function standardiser(rows: readonly Float32Array[], inputs: number): { mean: Float32Array; scale: Float32Array } {
  const mean = new Float32Array(inputs);
  const scale = new Float32Array(inputs);
  for (const row of rows) for (let j = 0; j < inputs; j++) mean[j] = (mean[j] ?? 0) + (row[j] ?? 0) / rows.length;
  for (const row of rows) {
    for (let j = 0; j < inputs; j++) {
      const d = (row[j] ?? 0) - (mean[j] ?? 0);
      scale[j] = (scale[j] ?? 0) + (d * d) / rows.length;
    }
  }
  for (let j = 0; j < inputs; j++) scale[j] = 1 / Math.sqrt((scale[j] ?? 0) + 1e-6);
  return { mean, scale };
}

function standardise(model: Pick<ModelWeights, 'mean' | 'scale' | 'inputs'>, row: Float32Array): Float32Array {
  const x = new Float32Array(model.inputs);
  for (let j = 0; j < model.inputs; j++) x[j] = ((row[j] ?? 0) - (model.mean[j] ?? 0)) * (model.scale[j] ?? 0);
  return x;
}

/** Forward pass on an already standardised row; returns the hidden activations and the logits. */
function forward(model: ModelWeights, x: Float32Array): { h: Float32Array; logits: Float64Array } {
  const { inputs, hidden, classes, w1, b1, w2, b2 } = model;
  const logits = new Float64Array(classes);
  if (hidden === 0) {
    for (let c = 0; c < classes; c++) logits[c] = b1[c] ?? 0;
    for (let j = 0; j < inputs; j++) {
      const v = x[j] ?? 0;
      if (v === 0) continue;
      const base = j * classes;
      for (let c = 0; c < classes; c++) logits[c] = (logits[c] ?? 0) + v * (w1[base + c] ?? 0);
    }
    return { h: x, logits };
  }
  const h = new Float32Array(hidden);
  h.set(b1);
  for (let j = 0; j < inputs; j++) {
    const v = x[j] ?? 0;
    if (v === 0) continue;
    const base = j * hidden;
    for (let k = 0; k < hidden; k++) h[k] = (h[k] ?? 0) + v * (w1[base + k] ?? 0);
  }
  for (let k = 0; k < hidden; k++) if ((h[k] ?? 0) < 0) h[k] = 0;
  for (let c = 0; c < classes; c++) logits[c] = b2[c] ?? 0;
  for (let k = 0; k < hidden; k++) {
    const v = h[k] ?? 0;
    if (v === 0) continue;
    for (let c = 0; c < classes; c++) logits[c] = (logits[c] ?? 0) + v * (w2[k * classes + c] ?? 0);
  }
  return { h, logits };
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] ?? 0);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp((logits[i] ?? 0) - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Raw logits for a raw (unstandardised) feature row. */
export function logitsOf(model: ModelWeights, row: Float32Array): Float64Array {
  return forward(model, standardise(model, row)).logits;
}

class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  constructor(private readonly params: Float32Array, private readonly rate: number) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }
  step(grad: Float32Array, l2: number): void {
    this.t++;
    const c1 = 1 - 0.9 ** this.t;
    const c2 = 1 - 0.999 ** this.t;
    const { params, m, v } = this;
    for (let i = 0; i < params.length; i++) {
      const g = (grad[i] ?? 0) + l2 * (params[i] ?? 0);
      m[i] = 0.9 * (m[i] ?? 0) + 0.1 * g;
      v[i] = 0.999 * (v[i] ?? 0) + 0.001 * g * g;
      params[i] = (params[i] ?? 0) - (this.rate * ((m[i] ?? 0) / c1)) / (Math.sqrt((v[i] ?? 0) / c2) + 1e-8);
    }
  }
}

/** Trains on feature rows with integer labels 0…classes-1. */
export function trainModel(rows: readonly Float32Array[], labels: readonly number[], classes: number, options: TrainOptions = DEFAULT_TRAIN_OPTIONS): ModelWeights {
  const first = rows[0];
  if (!first) throw new Error('no training rows');
  const inputs = first.length;
  const hidden = options.hidden;
  const random = seededRandom(options.seed);
  const { mean, scale } = standardiser(rows, inputs);
  const fanOut = hidden > 0 ? hidden : classes;
  const w1 = Float32Array.from({ length: inputs * fanOut }, () => gaussian(random) * Math.sqrt(2 / inputs) * (hidden > 0 ? 1 : 0.01));
  const model: ModelWeights = {
    inputs,
    hidden,
    classes,
    mean,
    scale,
    w1,
    b1: new Float32Array(fanOut),
    w2: Float32Array.from({ length: hidden * classes }, () => gaussian(random) * Math.sqrt(1 / Math.max(hidden, 1))),
    b2: new Float32Array(hidden > 0 ? classes : 0),
  };
  const counts = new Array<number>(classes).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  const classWeight = counts.map((count) => (count === 0 ? 0 : rows.length / (classes * count)));
  const xs = rows.map((row) => standardise(model, row));
  const optimisers = [new Adam(model.w1, options.learningRate), new Adam(model.b1, options.learningRate), new Adam(model.w2, options.learningRate), new Adam(model.b2, options.learningRate)];
  const grads = [new Float32Array(model.w1.length), new Float32Array(model.b1.length), new Float32Array(model.w2.length), new Float32Array(model.b2.length)] as const;
  const order = rows.map((_, i) => i);
  const dh = new Float32Array(hidden);
  const epochs = Math.max(options.epochs, Math.ceil(options.minSteps / Math.ceil(rows.length / options.batchSize)));
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
    }
    let lossSum = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.slice(start, start + options.batchSize);
      for (const g of grads) g.fill(0);
      const [gw1, gb1, gw2, gb2] = grads;
      for (const index of batch) {
        const x = xs[index] ?? first;
        const label = labels[index] ?? 0;
        const weight = (classWeight[label] ?? 1) / batch.length;
        const { h, logits } = forward(model, x);
        const p = softmax(logits);
        lossSum -= (classWeight[label] ?? 1) * Math.log(Math.max(p[label] ?? 0, 1e-12));
        const dz = p.map((pc, c) => (pc - (c === label ? 1 : 0)) * weight);
        if (hidden === 0) {
          for (let j = 0; j < inputs; j++) {
            const v = x[j] ?? 0;
            if (v === 0) continue;
            for (let c = 0; c < classes; c++) gw1[j * classes + c] = (gw1[j * classes + c] ?? 0) + v * (dz[c] ?? 0);
          }
          for (let c = 0; c < classes; c++) gb1[c] = (gb1[c] ?? 0) + (dz[c] ?? 0);
          continue;
        }
        dh.fill(0);
        for (let k = 0; k < hidden; k++) {
          const hk = h[k] ?? 0;
          if (hk === 0) continue;
          let s = 0;
          for (let c = 0; c < classes; c++) {
            gw2[k * classes + c] = (gw2[k * classes + c] ?? 0) + hk * (dz[c] ?? 0);
            s += (model.w2[k * classes + c] ?? 0) * (dz[c] ?? 0);
          }
          dh[k] = s;
        }
        for (let c = 0; c < classes; c++) gb2[c] = (gb2[c] ?? 0) + (dz[c] ?? 0);
        for (let k = 0; k < hidden; k++) gb1[k] = (gb1[k] ?? 0) + (dh[k] ?? 0);
        for (let j = 0; j < inputs; j++) {
          const v = x[j] ?? 0;
          if (v === 0) continue;
          const base = j * hidden;
          for (let k = 0; k < hidden; k++) gw1[base + k] = (gw1[base + k] ?? 0) + v * (dh[k] ?? 0);
        }
      }
      optimisers[0]?.step(gw1, options.l2);
      optimisers[1]?.step(gb1, 0);
      optimisers[2]?.step(gw2, options.l2);
      optimisers[3]?.step(gb2, 0);
    }
    options.onEpoch?.(epoch + 1, epochs, lossSum / order.length);
  }
  return model;
}

// ---- persistence -------------------------------------------------------------------------------------------

export interface SerialisedModel {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  /** base64 of little-endian float32 arrays. */
  readonly arrays: { readonly mean: string; readonly scale: string; readonly w1: string; readonly b1: string; readonly w2: string; readonly b2: string };
}

function toBase64(array: Float32Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function fromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

export function serialiseModel(model: ModelWeights): SerialisedModel {
  const { inputs, hidden, classes, mean, scale, w1, b1, w2, b2 } = model;
  return { inputs, hidden, classes, arrays: { mean: toBase64(mean), scale: toBase64(scale), w1: toBase64(w1), b1: toBase64(b1), w2: toBase64(w2), b2: toBase64(b2) } };
}

export function deserialiseModel(data: SerialisedModel): ModelWeights {
  const { arrays } = data;
  return {
    inputs: data.inputs,
    hidden: data.hidden,
    classes: data.classes,
    mean: fromBase64(arrays.mean),
    scale: fromBase64(arrays.scale),
    w1: fromBase64(arrays.w1),
    b1: fromBase64(arrays.b1),
    w2: fromBase64(arrays.w2),
    b2: fromBase64(arrays.b2),
  };
}

// ---- metrics ------------------------------------------------------------------------------------------------

/** Area under the ROC curve for scores of positives vs negatives (ties count half). */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const pairs = scores.map((score, i) => ({ score, positive: positive[i] === true })).sort((a, b) => a.score - b.score);
  let rankSum = 0;
  let positives = 0;
  let i = 0;
  while (i < pairs.length) {
    let j = i;
    while (j < pairs.length && pairs[j]?.score === pairs[i]?.score) j++;
    const averageRank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) {
      if (pairs[k]?.positive) {
        rankSum += averageRank;
        positives++;
      }
    }
    i = j;
  }
  const negatives = pairs.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The logit-margin shift that maximises balanced accuracy (Youden's J) of "positive if margin + shift > 0" on
 * the given (validation) margins. No shift when none is needed; among equally good shifts, the median one (so
 * the boundary does not hug a single validation image). No shift either with fewer than `minPerClass` images of
 * a class: too little evidence to move the boundary.
 */
export function calibrateShift(margins: readonly number[], positive: readonly boolean[], minPerClass = 1): number {
  const sorted = [...new Set(margins)].sort((a, b) => a - b);
  const pos = positive.filter(Boolean).length;
  const neg = positive.length - pos;
  if (pos < Math.max(minPerClass, 1) || neg < Math.max(minPerClass, 1)) return 0;
  const candidates = [...sorted.map((m, i) => -((m + (sorted[i + 1] ?? m + 1)) / 2)), -((sorted[0] ?? 0) - 1)].sort((a, b) => a - b);
  const youden = (shift: number): number => {
    let tp = 0;
    let tn = 0;
    margins.forEach((m, i) => {
      const predicted = m + shift > 0;
      if (predicted && positive[i]) tp++;
      if (!predicted && !positive[i]) tn++;
    });
    return tp / pos + tn / neg;
  };
  const scores = candidates.map(youden);
  const best = Math.max(...scores);
  if (youden(0) >= best - 1e-12) return 0;
  const winners = candidates.filter((_, i) => (scores[i] ?? 0) >= best - 1e-12);
  return winners[Math.floor((winners.length - 1) / 2)] ?? 0;
}
