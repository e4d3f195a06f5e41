import { describe, expect, it } from 'vitest';
import { loadClassifyConfig } from '../../src/lib/config.js';
import { ConfigError } from '../../src/lib/errors.js';

const base = { RESULTS_TABLE: 'results', REGISTRY_TABLE: 'registry' };

describe('loadClassifyConfig', () => {
  it('applies defaults', () => {
    expect(loadClassifyConfig(base)).toEqual({
      resultsTable: 'results',
      registryTable: 'registry',
      reviewThreshold: 80,
      registryCacheMs: 30_000,
    });
  });

  it('reads the threshold and cache time', () => {
    expect(loadClassifyConfig({ ...base, REVIEW_THRESHOLD: '65.5', REGISTRY_CACHE_SECONDS: '5' })).toMatchObject({
      reviewThreshold: 65.5,
      registryCacheMs: 5000,
    });
  });

  it.each(['RESULTS_TABLE', 'REGISTRY_TABLE'])('names a missing %s', (name) => {
    const env: Record<string, string | undefined> = { ...base, [name]: '  ' };
    expect(() => loadClassifyConfig(env)).toThrow(new ConfigError(name, 'is not set'));
  });

  it.each([
    ['REVIEW_THRESHOLD', 'eighty'],
    ['REVIEW_THRESHOLD', '101'],
    ['REGISTRY_CACHE_SECONDS', '-1'],
  ])('names a malformed %s', (name, value) => {
    expect(() => loadClassifyConfig({ ...base, [name]: value })).toThrow(`${name} must be a number`);
  });
});
