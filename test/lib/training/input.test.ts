import { describe, expect, it } from 'vitest';
import { InvalidTrainingInputError } from '../../../src/lib/errors.js';
import { parseTrainingInput, versionNameFromTime } from '../../../src/lib/training/input.js';

const DEFAULTS = { minF1: 0.85, minPneumoniaRecall: 0.9, maxF1Drop: 0.02, minInferenceUnits: 1, maxInferenceUnits: 2 };
const START = '2026-11-25T17:30:05.123Z';

describe('parseTrainingInput', () => {
  it('fills every absent field from the stage defaults', () => {
    expect(parseTrainingInput({}, DEFAULTS, START)).toEqual({
      versionName: 'v20261125-173005',
      trainingPrefix: 'training/',
      testingPrefix: undefined,
      minF1: 0.85,
      minPneumoniaRecall: 0.9,
      minInferenceUnits: 1,
      maxInferenceUnits: 2,
      autoStart: true,
    });
    expect(parseTrainingInput(null, DEFAULTS, START).versionName).toBe('v20261125-173005');
  });

  it('keeps given values, and raises the default maximum to a larger given minimum', () => {
    const input = parseTrainingInput(
      { versionName: 'v2', trainingPrefix: 'training/set-b/', testingPrefix: 'testing/', minF1: 0.7, minPneumoniaRecall: 0.95, minInferenceUnits: 3, autoStart: false },
      DEFAULTS,
      START,
    );
    expect(input).toMatchObject({ versionName: 'v2', trainingPrefix: 'training/set-b/', testingPrefix: 'testing/', minF1: 0.7, minPneumoniaRecall: 0.95, minInferenceUnits: 3, maxInferenceUnits: 3, autoStart: false });
  });

  it('ignores the field Step Functions adds to nested executions', () => {
    expect(() => parseTrainingInput({ AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: 'arn' }, DEFAULTS, START)).not.toThrow();
  });

  it.each([
    [[1, 2], 'input must be a JSON object'],
    [{ minf1: 0.9 }, 'unknown input field(s) minf1'],
    [{ versionName: 'has space' }, 'versionName must be'],
    [{ versionName: 'x'.repeat(64) }, 'versionName must be'],
    [{ minF1: 1.2 }, 'minF1 must be a number from 0 to 1'],
    [{ minPneumoniaRecall: '0.9' }, 'minPneumoniaRecall must be a number from 0 to 1'],
    [{ minInferenceUnits: 0 }, 'minInferenceUnits must be a whole number from 1 to 100'],
    [{ minInferenceUnits: 2, maxInferenceUnits: 1 }, 'maxInferenceUnits (1) must not be below minInferenceUnits (2)'],
    [{ autoStart: 'yes' }, 'autoStart must be true or false'],
    [{ trainingPrefix: 'inbox/' }, 'trainingPrefix must be a folder ending in "/" under training/ or testing/'],
    [{ trainingPrefix: 'training' }, 'trainingPrefix must be a folder'],
    [{ testingPrefix: 'training/../inbox/' }, 'testingPrefix must be a folder'],
    [{ testingPrefix: 'training/test/' }, 'must not contain one another'],
  ])('refuses %j with a message naming the field', (raw, message) => {
    expect(() => parseTrainingInput(raw, DEFAULTS, START)).toThrow(InvalidTrainingInputError);
    expect(() => parseTrainingInput(raw, DEFAULTS, START)).toThrow(message);
  });

  it('derives version names that sort by time', () => {
    expect(versionNameFromTime('2026-01-02T03:04:05Z')).toBe('v20260102-030405');
    expect(() => versionNameFromTime('yesterday')).toThrow(InvalidTrainingInputError);
  });
});
