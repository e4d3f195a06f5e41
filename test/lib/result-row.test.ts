import { describe, expect, it } from 'vitest';
import { readResultRow } from '../../src/lib/result-row.js';

describe('readResultRow', () => {
  it('reads every attribute of its stored type, and only the result attributes', () => {
    const labels = [
      { name: 'PNEUMONIA', confidence: 97.5 },
      { name: 'NORMAL', confidence: 2.5 },
    ];
    const result = { imageKey: 'inbox/a.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 97.5, labels, width: 224 };
    const row = { ...result, labels: labels.map((label) => ({ ...label, extra: 'dropped' })), reviewer: 'not read here' };
    expect(readResultRow(row)).toEqual(result);
  });

  it('reads an attribute of another type as absent and keeps only well-formed labels', () => {
    const row = readResultRow({ imageKey: 7, status: null, confidence: '97', size: Number.NaN, labels: [null, 'PNEUMONIA', { name: 'NORMAL' }, { name: 'NORMAL', confidence: 3 }] });
    expect(row).toMatchObject({ imageKey: undefined, status: undefined, confidence: undefined, size: undefined, labels: [{ name: 'NORMAL', confidence: 3 }] });
    expect(readResultRow({ labels: { name: 'NORMAL' } }).labels).toEqual([]);
  });
});
