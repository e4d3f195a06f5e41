import { describe, expect, it } from 'vitest';
import { ACTION_KEYS, keyFor, labelKeys } from '../../src/review/page/keys.js';

describe('review page keys', () => {
  it('NORMAL/PNEUMONIA keep N/P and 1/2', () => {
    expect(Object.fromEntries(labelKeys(['NORMAL', 'PNEUMONIA']))).toEqual({ 1: 'NORMAL', n: 'NORMAL', 2: 'PNEUMONIA', p: 'PNEUMONIA' });
    expect(['NORMAL', 'PNEUMONIA'].map((label) => keyFor(['NORMAL', 'PNEUMONIA'], label))).toEqual(['N', 'P']);
  });

  it('a label that shares an earlier letter, or starts with an action key, gets its number only', () => {
    const labels = ['BACTERIAL', 'BLASTOMYCOSIS', 'NORMAL', 'TUBERCULOSIS', 'VIRAL'];
    const keys = labelKeys(labels);
    expect(labels.map((label) => keyFor(labels, label))).toEqual(['B', '2', 'N', '4', 'V']);
    expect(keys.get('t')).toBeUndefined();
    for (const action of ACTION_KEYS) expect(keys.has(action)).toBe(false);
  });

  it('past nine labels only letters are left; a label with neither has no key (its button still decides)', () => {
    const labels = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9', 'A10', 'ZETA'];
    expect(keyFor(labels, 'A9')).toBe('9');
    expect(keyFor(labels, 'A10')).toBeNull();
    expect(keyFor(labels, 'ZETA')).toBe('Z');
    expect(labelKeys(labels).has('10')).toBe(false);
  });
});
