import { describe, expect, it } from 'vitest';
import { EvaluationError } from '../../../src/lib/errors.js';
import { gate, parseEvaluationSummary, parseEvaluateRequest } from '../../../src/lib/training/evaluate.js';

const SETTINGS = { minF1: 0.85, minPneumoniaRecall: 0.9, maxF1Drop: 0.02, positiveLabel: 'PNEUMONIA' };

describe('parseEvaluationSummary', () => {
  it('reads the documented example layout (metrics directly on the objects)', () => {
    const summary = {
      Version: 1,
      AggregatedEvaluationResults: { F1Score: 0.97, Precision: 0.97, Recall: 0.97 },
      LabelEvaluationResults: [{ Label: 'PNEUMONIA', NumberOfTestingImages: 390, Metrics: { F1Score: 0.98, Precision: 0.97, Recall: 0.99, Threshold: 0.41 } }],
    };
    expect(parseEvaluationSummary(summary)).toEqual({
      f1: 0.97,
      labels: [{ label: 'PNEUMONIA', f1: 0.98, precision: 0.97, recall: 0.99, threshold: 0.41, testImages: 390 }],
    });
  });

  it('reads the reference layout (aggregate under Metrics) and falls back to the version F1', () => {
    expect(parseEvaluationSummary({ AggregatedEvaluationResults: { Metrics: { F1Score: 0.9 } }, LabelEvaluationResults: [] }).f1).toBe(0.9);
    expect(parseEvaluationSummary({ AggregatedEvaluationResults: {}, LabelEvaluationResults: [] }, 0.8).f1).toBe(0.8);
  });

  it.each([
    [[], 'not a JSON object'],
    [{ AggregatedEvaluationResults: {}, LabelEvaluationResults: [] }, 'no aggregate F1Score'],
    [{ AggregatedEvaluationResults: { F1Score: 1 } }, 'no LabelEvaluationResults list'],
    [{ AggregatedEvaluationResults: { F1Score: 1 }, LabelEvaluationResults: [{ Metrics: {} }] }, 'has no Label'],
  ])('refuses %j', (summary, message) => {
    expect(() => parseEvaluationSummary(summary)).toThrow(EvaluationError);
    expect(() => parseEvaluationSummary(summary)).toThrow(message);
  });
});

describe('gate', () => {
  const label = (recall: number): { label: string; f1: number; precision: number; recall: number; threshold: number; testImages: number } => ({
    label: 'PNEUMONIA',
    f1: 0.9,
    precision: 0.9,
    recall,
    threshold: 0.5,
    testImages: 10,
  });

  it('accepts a model on every rule, including exactly at the thresholds', () => {
    expect(gate({ f1: 0.85, labels: [label(0.9)] }, SETTINGS, 0.87).decision).toBe('ACCEPTED');
  });

  it('reports every failing rule, not only the first', () => {
    const verdict = gate({ f1: 0.8, labels: [label(0.5)] }, SETTINGS, 0.95);
    expect(verdict.decision).toBe('REJECTED');
    expect(verdict.reasons).toEqual(['F1_BELOW_MINIMUM', 'PNEUMONIA_RECALL_BELOW_MINIMUM', 'WORSE_THAN_LIVE']);
    expect(verdict.sentences).toHaveLength(3);
  });

  it('skips the comparison when there is no live F1', () => {
    expect(gate({ f1: 0.86, labels: [label(0.95)] }, SETTINGS, undefined).reasons).toEqual([]);
  });
});

describe('parseEvaluateRequest', () => {
  it('needs every gate setting', () => {
    expect(() => parseEvaluateRequest({ versionName: 'v', executionArn: 'a', gate: { minF1: 0.8 }, version: {} })).toThrow('gate.minF1, gate.minPneumoniaRecall');
    expect(() => parseEvaluateRequest('x')).toThrow('object payload');
  });
});
