import { describe, expect, it } from 'vitest';
import { readResultRow } from '../../src/lib/result-row.js';

describe('readResultRow', () => {
  it('reads every attribute of its stored type', () => {
    const row = {
      imageKey: 'inbox/a.jpeg',
      status: 'CLASSIFIED',
      label: 'PNEUMONIA',
      confidence: 97.5,
      labels: [
        { name: 'PNEUMONIA', confidence: 97.5 },
        { name: 'NORMAL', confidence: 2.5, extra: 'dropped' },
      ],
      width: 224,
      reviewer: 'not read here',
    };
    expect(readResultRow(row)).toEqual({
      imageKey: 'inbox/a.jpeg',
      status: 'CLASSIFIED',
      label: 'PNEUMONIA',
      confidence: 97.5,
      labels: [
        { name: 'PNEUMONIA', confidence: 97.5 },
        { name: 'NORMAL', confidence: 2.5 },
      ],
      width: 224,
    });
  });

  it('reads an attribute of another type as absent and keeps only well-formed labels', () => {
    const row = readResultRow({ imageKey: 7, status: null, confidence: '97', size: Number.NaN, labels: [null, 'PNEUMONIA', { name: 'NORMAL' }, { name: 'NORMAL', confidence: 3 }] });
    expect(row).toMatchObject({ imageKey: undefined, status: undefined, confidence: undefined, size: undefined, labels: [{ name: 'NORMAL', confidence: 3 }] });
    expect(readResultRow({ labels: { name: 'NORMAL' } }).labels).toEqual([]);
  });
});
