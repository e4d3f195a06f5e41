import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fixtureImage } from '../../fixtures/images.js';
import { decodeToPixels, extractFeatures, FEATURE_LENGTH, SIDE } from '../../../src/local/rekognition/features.js';
import { parseManifest, stratifiedSplit } from '../../../src/local/rekognition/manifest.js';
import { calibrateShift, deserialiseModel, logitsOf, rocAuc, serialiseModel, trainModel } from '../../../src/local/rekognition/model.js';
import { constantPredictor, loadModel, trainedModelPredictor } from '../../../src/local/rekognition/predictor.js';
import type { LoadedModel } from '../../../src/local/rekognition/predictor.js';
import { evaluate, runTraining } from '../../../src/local/rekognition/training-core.js';
import { evaluationSummary } from '../../../src/local/rekognition/training.js';
import { syntheticImage } from './harness.js';

/*
 * The classifier's parts, without servers. The full quality figures on real X-rays come from bench/model.ts; here
 * only a small real check on the repo's demo sample, with wide margins (training is deterministic).
 */

describe('features', () => {
  it('decodes JPEG and PNG to SIDE×SIDE greyscale and gives a fixed-length, finite vector', async () => {
    for (const name of ['normal-1.jpeg', 'pneumonia-1.jpeg', 'normal-fullres.jpeg'] as const) {
      const pixels = await decodeToPixels(fixtureImage(name));
      expect(pixels.side).toBe(SIDE);
      expect(pixels.data).toHaveLength(SIDE * SIDE);
      const features = extractFeatures(pixels);
      expect(features).toHaveLength(FEATURE_LENGTH);
      expect(features.every((v) => Number.isFinite(v))).toBe(true);
    }
  });

  it('refuses what cannot be decoded', async () => {
    await expect(decodeToPixels(fixtureImage('truncated-body.jpeg'))).rejects.toThrow();
    await expect(decodeToPixels(fixtureImage('text-named.jpg'))).rejects.toThrow();
  });
});

describe('metrics', () => {
  it('computes ROC AUC with ties', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [false, false, true, true])).toBe(0);
    expect(rocAuc([0.5, 0.5], [false, true])).toBe(0.5);
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
  });

  it('calibrates the decision shift for balanced accuracy on the margins it is given', () => {
    // Every margin is positive, but only the top three are positives: the shift must move the boundary to 5–5.5.
    const margins = [4, 4.5, 5, 5.5, 6, 6.5];
    const positive = [false, false, false, true, true, true];
    const shift = calibrateShift(margins, positive);
    expect(margins.map((m) => m + shift > 0)).toEqual(positive);
    expect(calibrateShift([-1, 1], [false, true])).toBe(0); // already right: no shift
  });

  it('summarises a confusion matrix into per-label and aggregate metrics', () => {
    const result = evaluate(['A', 'B'], [0, 0, 1, 1], [[90, 10], [40, 60], [30, 70], [20, 80]], [0.5, 0.5]);
    expect(result.confusion).toEqual([[1, 1], [0, 2]]);
    expect(result.accuracy).toBe(0.75);
    const [a, b] = result.perLabel;
    expect(a).toMatchObject({ label: 'A', precision: 1, recall: 0.5, testImages: 2 });
    expect(b).toMatchObject({ label: 'B', precision: 2 / 3, recall: 1, testImages: 2 });
    expect(result.auc).toBe(1);
  });

  it('writes the evaluation summary in the service layout', () => {
    const evaluation = evaluate(['A', 'B'], [0, 1], [[80, 20], [10, 90]], [0.5, 0.5]);
    const summary = evaluationSummary({ projectVersionArn: 'arn:x', labels: ['A', 'B'], evaluation, trainingImages: 8, testingImages: 2, endedAt: new Date('2026-01-02T03:04:05.678Z') });
    expect(summary).toEqual({
      Version: 1,
      AggregatedEvaluationResults: {
        ConfusionMatrix: [
          { GroundTruthLabel: 'A', PredictedLabel: 'A', Value: 1 },
          { GroundTruthLabel: 'A', PredictedLabel: 'B', Value: 0 },
          { GroundTruthLabel: 'B', PredictedLabel: 'A', Value: 0 },
          { GroundTruthLabel: 'B', PredictedLabel: 'B', Value: 1 },
        ],
        F1Score: 1,
        Precision: 1,
        Recall: 1,
      },
      EvaluationDetails: { EvaluationEndTimestamp: '2026-01-02T03:04:05.678', Labels: ['A', 'B'], NumberOfTestingImages: 2, NumberOfTrainingImages: 8, ProjectVersionArn: 'arn:x' },
      LabelEvaluationResults: [
        { Label: 'A', Metrics: { F1Score: 1, Precision: 1, Recall: 1, Threshold: 0.5 }, NumberOfTestingImages: 1 },
        { Label: 'B', Metrics: { F1Score: 1, Precision: 1, Recall: 1, Threshold: 0.5 }, NumberOfTestingImages: 1 },
      ],
    });
  });
});

describe('manifests and splits', () => {
  const line = (key: string, label: string, attribute = 'pneumonia-class'): string =>
    JSON.stringify({ 'source-ref': `s3://b/${key}`, [attribute]: 0, [`${attribute}-metadata`]: { 'class-name': label, type: 'groundtruth/image-classification' } });

  it('reads Ground Truth image-classification lines whatever the attribute is called, and says why others are skipped', () => {
    const text = [line('a.jpeg', 'NORMAL'), line('b.jpeg', 'PNEUMONIA', 'my-job'), '{not json', JSON.stringify({ 'source-ref': 's3://b/c.jpeg' }), '', JSON.stringify({ 'source-ref': 'http://x' })].join('\n');
    const { entries, rejected } = parseManifest(text);
    expect(entries).toEqual([
      { bucket: 'b', key: 'a.jpeg', label: 'NORMAL' },
      { bucket: 'b', key: 'b.jpeg', label: 'PNEUMONIA' },
    ]);
    expect(rejected.map((r) => r.line)).toEqual([3, 4, 6]);
  });

  it('splits per label, deterministically, at the asked fraction', () => {
    const entries = [
      ...Array.from({ length: 30 }, (_, i) => ({ bucket: 'b', key: `n${i}`, label: 'NORMAL' })),
      ...Array.from({ length: 70 }, (_, i) => ({ bucket: 'b', key: `p${i}`, label: 'PNEUMONIA' })),
    ];
    const [keep, held] = stratifiedSplit(entries, 0.2, 'testing');
    expect(held.filter((e) => e.label === 'NORMAL')).toHaveLength(6);
    expect(held.filter((e) => e.label === 'PNEUMONIA')).toHaveLength(14);
    expect(keep).toHaveLength(80);
    expect(new Set([...keep, ...held].map((e) => e.key)).size).toBe(100);
    expect(stratifiedSplit([...entries].reverse(), 0.2, 'testing')[1].map((e) => e.key).sort()).toEqual(held.map((e) => e.key).sort());
    expect(stratifiedSplit(entries, 0.2, 'validation')[1].map((e) => e.key).sort()).not.toEqual(held.map((e) => e.key).sort());
  });
});

describe('model', () => {
  it('learns separable synthetic images from pixels, far better than chance, and round-trips through JSON', async () => {
    const images = await Promise.all(Array.from({ length: 32 }, (_, i) => syntheticImage(i % 2 === 0 ? 'SMOOTH' : 'STRIPED', 500 + i)));
    const labelled = images.map((bytes, i) => ({ bytes: new Uint8Array(bytes), label: i % 2 }));
    const outcome = await runTraining({ labels: ['SMOOTH', 'STRIPED'], train: labelled.slice(0, 16), validation: labelled.slice(16, 22), test: labelled.slice(22) }, () => undefined);
    expect(outcome.counts).toEqual({ train: 16, validation: 6, test: 10, undecodable: 0 });
    expect(outcome.evaluation.accuracy).toBeGreaterThanOrEqual(0.8);
    expect(outcome.evaluation.auc).toBeGreaterThanOrEqual(0.9);

    const model = loadModel(JSON.parse(JSON.stringify(outcome.model)) as typeof outcome.model);
    const fresh = await syntheticImage('STRIPED', 9999);
    const confidences = await trainedModelPredictor(model, new Uint8Array(fresh));
    expect(confidences).toHaveLength(2);
    expect(confidences.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
    expect(confidences[1]).toBeGreaterThan(50);
  });

  it('does not depend on how rows are labelled by position: swapping classes swaps predictions', () => {
    const rows = Array.from({ length: 20 }, (_, i) => Float32Array.from({ length: 5 }, (_, j) => (j === 0 ? (i % 2 === 0 ? -1 : 1) : Math.sin(i * j))));
    const labels = rows.map((_, i) => i % 2);
    const model = trainModel(rows, labels, 2);
    const swapped = trainModel(rows, labels.map((label) => 1 - label), 2);
    const copy = deserialiseModel(serialiseModel(model));
    const argmax = (logits: ArrayLike<number>): number => ((logits[1] ?? 0) > (logits[0] ?? 0) ? 1 : 0);
    const probes = [...rows, Float32Array.from([1, 0, 0, 0, 0]), Float32Array.from([-1, 0, 0, 0, 0])];
    // Each row is predicted as its own label, and as the other one by the model trained on swapped labels.
    expect(probes.slice(0, rows.length).map((row) => argmax(logitsOf(model, row)))).toEqual(labels);
    expect(probes.map((row) => argmax(logitsOf(swapped, row)))).toEqual(probes.map((row) => 1 - argmax(logitsOf(model, row))));
    const probe = Float32Array.from([1, 0, 0, 0, 0]);
    expect(Array.from(logitsOf(model, probe))).toEqual(Array.from(logitsOf(copy, probe)));
  });

  const threeLabels = (): LoadedModel => ({
    labels: ['A', 'B', 'C'],
    thresholds: [0.5, 0.5, 0.5],
    bias: [0, 0, 0],
    weights: deserialiseModel(serialiseModel(trainModel([Float32Array.from([0]), Float32Array.from([1])], [0, 1], 3))),
  });

  it('offers a constant-time stand-in for benchmarks', async () => {
    expect(await constantPredictor({ first: 80 })(threeLabels(), new Uint8Array())).toEqual([80, 10, 10]);
  });

  describe('stand-in with a service time', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('serves as many images at once as it has units; the others wait their turn', async () => {
      const predictor = constantPredictor({ serviceMs: 100, units: 2 });
      const done: number[] = [];
      const calls = [0, 1, 2, 3, 4].map((i) => predictor(threeLabels(), new Uint8Array()).then(() => done.push(i)));
      await vi.advanceTimersByTimeAsync(99);
      expect(done).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(done).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(100);
      expect(done).toEqual([0, 1, 2, 3]);
      await vi.advanceTimersByTimeAsync(100);
      expect(done).toEqual([0, 1, 2, 3, 4]);
      await Promise.all(calls);
      // Idle again: the next call is served at once, not after a queue.
      const late = predictor(threeLabels(), new Uint8Array());
      await vi.advanceTimersByTimeAsync(100);
      await expect(late).resolves.toEqual([90, 5, 5]);
    });

    it('refuses settings that cannot serve', () => {
      expect(() => constantPredictor({ units: 0 })).toThrow(/units must be a positive integer, got 0/);
      expect(() => constantPredictor({ serviceMs: -1 })).toThrow(/serviceMs must be 0 or more, got -1/);
    });
  });
});

const SAMPLE = fileURLToPath(new URL('../../../src/local/sample/', import.meta.url));

describe.skipIf(!existsSync(`${SAMPLE}training`))('on the bundled demo sample (real X-rays)', () => {
  it('trains on the 300 training images and tells the 40 patient-disjoint inbox images apart', async () => {
    const load = (part: string) =>
      ['NORMAL', 'PNEUMONIA'].flatMap((label, index) =>
        readdirSync(`${SAMPLE}${part}/${label}`)
          .sort()
          .map((file) => ({ bucket: 'sample', key: `${part}/${label}/${file}`, label, index })),
      );
    const image = (entry: { key: string; index: number }) => ({ bytes: new Uint8Array(readFileSync(SAMPLE + entry.key)), label: entry.index });
    const [fit, validation] = stratifiedSplit(load('training'), 0.15, 'validation');
    const outcome = await runTraining({ labels: ['NORMAL', 'PNEUMONIA'], train: fit.map(image), validation: validation.map(image), test: load('inbox').map(image) }, () => undefined);
    // Measured: AUC 1.0, accuracy 0.975 (39/40).
    expect(outcome.counts.test).toBe(40);
    expect(outcome.evaluation.auc).toBeGreaterThanOrEqual(0.9);
    expect(outcome.evaluation.accuracy).toBeGreaterThanOrEqual(0.85);
  });
});
