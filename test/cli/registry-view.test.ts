import { describe, expect, it } from 'vitest';
import { gateOf, labelMetrics, num, str } from '../../src/cli/registry-view.js';

describe('registry views', () => {
  it('reads a field of its stored type, anything else as absent', () => {
    const item = { id: 'version#v1', versionName: 'v1', f1: 0.91, state: 7, missing: null };
    expect([str(item, 'versionName'), str(item, 'state'), str(item, 'missing'), str(undefined, 'versionName')]).toEqual(['v1', undefined, undefined, undefined]);
    expect([num(item, 'f1'), num(item, 'versionName'), num({ f1: Number.POSITIVE_INFINITY }, 'f1')]).toEqual([0.91, undefined, undefined]);
  });

  it('shows each labelled metric, null for a missing figure, and leaves out entries without a label', () => {
    const item = { id: 'version#v1', labelMetrics: [{ label: 'PNEUMONIA', f1: 0.9, recall: '0.95', testImages: 40 }, { f1: 0.5 }, 'NORMAL', null] };
    expect(labelMetrics(item)).toEqual([{ label: 'PNEUMONIA', f1: 0.9, precision: null, recall: null, threshold: null, testImages: 40 }]);
    expect(labelMetrics({ id: 'version#v1', labelMetrics: 'none' })).toEqual([]);
  });

  it('shows the gate decision with its text reasons, or none when there is no gate', () => {
    const item = { id: 'version#v1', gate: { decision: 'REJECTED', reasons: ['f1 0.80 < 0.85', 3], minF1: 0.85, liveF1: 'n/a' } };
    expect(gateOf(item)).toEqual({ decision: 'REJECTED', reasons: ['f1 0.80 < 0.85'], minF1: 0.85, minPneumoniaRecall: null, liveF1: null });
    expect(gateOf({ id: 'version#v1', gate: {} })).toEqual({ decision: 'UNKNOWN', reasons: [], minF1: null, minPneumoniaRecall: null, liveF1: null });
    expect(gateOf({ id: 'version#v1', gate: 'ACCEPTED' })).toBeNull();
    expect(gateOf(undefined)).toBeNull();
  });
});
