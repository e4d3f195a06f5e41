import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/local/demo.js';

describe('summarize', () => {
  it('counts statuses and labels and scores labelled images against the truth', () => {
    const summary = summarize(
      [
        { key: 'a', truth: 'PNEUMONIA', status: 'CLASSIFIED', label: 'PNEUMONIA' },
        { key: 'b', truth: 'PNEUMONIA', status: 'NEEDS_REVIEW', label: 'NORMAL' },
        { key: 'c', truth: 'NORMAL', status: 'CLASSIFIED', label: 'NORMAL' },
        { key: 'd', truth: 'NORMAL', status: 'CLASSIFIED', label: 'PNEUMONIA' },
        { key: 'e', truth: 'NORMAL', status: 'CLASSIFIED', label: 'NORMAL' },
        { key: 'f', truth: 'NORMAL', status: 'REJECTED', label: undefined },
        { key: 'g', truth: 'NORMAL', status: undefined, label: undefined },
      ],
      'PNEUMONIA',
    );
    expect(summary).toEqual({
      total: 7,
      byStatus: { CLASSIFIED: 4, NEEDS_REVIEW: 1, REJECTED: 1, MISSING: 1 },
      byLabel: { PNEUMONIA: 2, NORMAL: 3 },
      labelled: 5,
      accuracy: 3 / 5,
      sensitivity: 1 / 2,
      specificity: 2 / 3,
      f1: 0.5,
    });
  });

  it('scores nothing as 0 rather than NaN', () => {
    expect(summarize([], 'PNEUMONIA')).toMatchObject({ accuracy: 0, f1: 0, sensitivity: 0, specificity: 0 });
  });
});
