import { describe, expect, it } from 'vitest';
import {
  loadClassifyConfig,
  loadGaugesConfig,
  loadOutcomeConfig,
  loadRedriveConfig,
  loadRegistryConfig,
  loadServingCheckConfig,
  loadStartConfig,
  loadTrainingConfig,
} from '../../src/lib/config.js';
import { ConfigError } from '../../src/lib/errors.js';
import { loadServingPolicy } from '../../src/lib/serving/config.js';
import { DEFAULT_POLICY } from '../../src/lib/serving/policy.js';

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

  it('names the first wrong variable in the order it reads them', () => {
    expect(() => loadClassifyConfig({ REGISTRY_TABLE: 'registry', REVIEW_THRESHOLD: 'x' })).toThrow(new ConfigError('RESULTS_TABLE', 'is not set'));
    expect(() => loadClassifyConfig({ ...base, REVIEW_THRESHOLD: 'x', REGISTRY_CACHE_SECONDS: 'y' })).toThrow(
      new ConfigError('REVIEW_THRESHOLD', 'must be a number from 0 to 100, got "x"'),
    );
  });
});

const training = { PROJECT_NAME: 'pneumo', DATA_BUCKET: 'data', REGISTRY_TABLE: 'registry' };

describe('loadTrainingConfig', () => {
  it('applies defaults and reads an unset or blank optional variable as absent', () => {
    expect(loadTrainingConfig({ ...training, KMS_KEY_ID: ' ', POSITIVE_LABEL: '' })).toEqual({
      projectName: 'pneumo',
      dataBucket: 'data',
      registryTable: 'registry',
      kmsKeyId: undefined,
      defaults: { minF1: 0.85, minPneumoniaRecall: 0.9, maxF1Drop: 0.02, minInferenceUnits: 1, maxInferenceUnits: 1 },
      positiveLabel: 'PNEUMONIA',
      minImagesPerLabel: 10,
      trainingPollSeconds: 600,
      maxTrainingHours: 24,
      startPollSeconds: 60,
      maxStartMinutes: 60,
    });
  });

  it('trims what it reads and takes the max units default from the min', () => {
    expect(loadTrainingConfig({ ...training, PROJECT_NAME: ' p ', KMS_KEY_ID: ' key ', DEFAULT_MIN_INFERENCE_UNITS: ' 3 ', MAX_TRAINING_HOURS: '0.5' })).toMatchObject({
      projectName: 'p',
      kmsKeyId: 'key',
      defaults: { minInferenceUnits: 3, maxInferenceUnits: 3 },
      maxTrainingHours: 0.5,
    });
  });

  it.each(['PROJECT_NAME', 'DATA_BUCKET', 'REGISTRY_TABLE'])('names a missing %s', (name) => {
    expect(() => loadTrainingConfig({ ...training, [name]: undefined })).toThrow(new ConfigError(name, 'is not set'));
  });

  it.each([
    ['MIN_IMAGES_PER_LABEL', '0', 'must be a number from 1 to 100000, got "0"'],
    ['MIN_IMAGES_PER_LABEL', ' 2.5 ', 'must be a whole number, got " 2.5 "'],
    ['TRAINING_POLL_SECONDS', ' x ', 'must be a number from 1 to 3600, got "x"'],
    ['MAX_TRAINING_HOURS', '73', 'must be a number from 0.1 to 72, got "73"'],
    ['DEFAULT_MIN_F1', '1.5', 'must be a number from 0 to 1, got "1.5"'],
    ['MAX_START_MINUTES', 'Infinity', 'must be a number from 1 to 1440, got "Infinity"'],
  ])('names a malformed %s with its value', (name, value, problem) => {
    expect(() => loadTrainingConfig({ ...training, [name]: value })).toThrow(new ConfigError(name, problem));
  });

  it('refuses a max units default below the min', () => {
    expect(() => loadTrainingConfig({ ...training, DEFAULT_MIN_INFERENCE_UNITS: '3', DEFAULT_MAX_INFERENCE_UNITS: '2' })).toThrow(
      new ConfigError('DEFAULT_MAX_INFERENCE_UNITS', 'must not be below DEFAULT_MIN_INFERENCE_UNITS (3)'),
    );
  });
});

describe('the other functions’ config', () => {
  it('reads the start config, with classify’s concurrency only when set', () => {
    expect(loadStartConfig({ REGISTRY_TABLE: 'registry', DEFAULT_MAX_INFERENCE_UNITS: '4' })).toEqual({
      registryTable: 'registry',
      defaults: { minInferenceUnits: 1, maxInferenceUnits: 4 },
      classifyConcurrency: undefined,
      startPollSeconds: 60,
      maxStartMinutes: 60,
    });
    expect(loadStartConfig({ REGISTRY_TABLE: 'registry', CLASSIFY_CONCURRENCY: '8' }).classifyConcurrency).toBe(8);
    expect(() => loadStartConfig({ REGISTRY_TABLE: 'registry', CLASSIFY_CONCURRENCY: '0' })).toThrow(
      new ConfigError('CLASSIFY_CONCURRENCY', 'must be a number from 1 to 1000, got "0"'),
    );
  });

  it('reads the outcome, redrive, registry, gauges and serving-check config', () => {
    expect(loadOutcomeConfig({ REGISTRY_TABLE: 'r', EVENT_BUS_NAME: 'bus', RETRAIN_EVENT_SOURCE: 'pneumo.retrain' })).toEqual({
      registryTable: 'r',
      eventBusName: 'bus',
      retrainEventSource: 'pneumo.retrain',
    });
    expect(() => loadOutcomeConfig({ REGISTRY_TABLE: 'r', EVENT_BUS_NAME: 'bus' })).toThrow(new ConfigError('RETRAIN_EVENT_SOURCE', 'is not set'));
    expect(loadRedriveConfig({ ...base, REDRIVE_PAGE_SIZE: '50' })).toMatchObject({ resultsTable: 'results', reviewThreshold: 80, pageSize: 50 });
    expect(() => loadRedriveConfig({ ...base, REDRIVE_PAGE_SIZE: '501' })).toThrow(new ConfigError('REDRIVE_PAGE_SIZE', 'must be a number from 1 to 500, got "501"'));
    expect(loadRegistryConfig({ REGISTRY_TABLE: 'r' })).toEqual({ registryTable: 'r' });
    expect(loadGaugesConfig({ RESULTS_TABLE: 'results', PROJECT_NAME: 'p' })).toEqual({ resultsTable: 'results', projectName: 'p' });
    expect(() => loadGaugesConfig({ RESULTS_TABLE: 'results' })).toThrow(new ConfigError('PROJECT_NAME', 'is not set'));
    expect(loadServingCheckConfig({ RESULTS_TABLE: 'results' })).toEqual({ resultsTable: 'results' });
  });
});

describe('loadServingPolicy', () => {
  it('applies the defaults', () => {
    expect(loadServingPolicy({})).toEqual({ ...DEFAULT_POLICY, requestTimeoutMs: 70 * 60_000 });
  });

  it('reads every setting', () => {
    expect(
      loadServingPolicy({
        ON_DEMAND_START: ' FALSE ',
        IDLE_STOP_MINUTES: '0.5',
        USAGE_MARK_SECONDS: '10',
        MAX_START_MINUTES: '20',
        START_RETRY_MINUTES: '0',
        QUIET_HOURS: '20:00-07:00',
        DAILY_CAP_HOURS: '8',
        SERVING_TIME_ZONE: ' Europe/Berlin ',
      }),
    ).toEqual({
      onDemandStart: false,
      idleStopMs: 30_000,
      usageMarkMs: 10_000,
      requestTimeoutMs: 30 * 60_000,
      startRetryMs: 0,
      quietHours: { fromMinute: 20 * 60, toMinute: 7 * 60 },
      dailyCapMs: 8 * 3_600_000,
      timeZone: 'Europe/Berlin',
    });
  });

  it.each([
    ['ON_DEMAND_START', ' yes ', 'must be true or false, got " yes "'],
    ['DAILY_CAP_HOURS', '25', 'must be a number from 0 to 24, got "25"'],
    ['USAGE_MARK_SECONDS', '0', 'must be a number from 1 to 3600, got "0"'],
    ['QUIET_HOURS', '8-9', 'quiet hours "8-9" are not HH:MM-HH:MM (or "off")'],
    ['SERVING_TIME_ZONE', 'Mars/Olympus', 'time zone "Mars/Olympus" is not an IANA zone'],
  ])('names a malformed %s with its value', (name, value, problem) => {
    expect(() => loadServingPolicy({ [name]: value })).toThrow(new ConfigError(name, problem));
  });
});
