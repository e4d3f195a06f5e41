import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../../src/lib/errors.js';
import { parseOutcomeRequest, readableCause } from '../../../src/lib/training/outcome.js';
import { eventFromRow, parseRedriveRequest } from '../../../src/lib/redrive.js';

describe('readableCause', () => {
  it('takes the message out of a Lambda error, a version description and a nested execution', () => {
    expect(readableCause(JSON.stringify({ errorType: 'DatasetError', errorMessage: 'too few images' }))).toBe('too few images');
    expect(readableCause(JSON.stringify({ Status: 'TRAINING_FAILED', StatusMessage: 'bad manifest' }))).toBe('TRAINING_FAILED: bad manifest');
    expect(readableCause(JSON.stringify({ Status: 'FAILED' }))).toBe('version status FAILED without a status message');
    const nested = JSON.stringify({ Status: 'FAILED', Error: 'ModelStartFailed', Cause: JSON.stringify({ Status: 'FAILED', StatusMessage: 'no capacity' }) });
    expect(readableCause(nested)).toBe('ModelStartFailed: FAILED: no capacity');
  });

  it('keeps plain text and shortens what Step Functions could not keep', () => {
    expect(readableCause('Rate exceeded')).toBe('Rate exceeded');
    expect(readableCause('x'.repeat(5000))).toHaveLength(4001);
  });
});

describe('parseOutcomeRequest', () => {
  it('accepts the outcomes the state machines send', () => {
    expect(parseOutcomeRequest({ outcome: 'FAILED', executionArn: 'arn', error: { Error: 'X', Cause: 'y' } })).toEqual({
      outcome: 'FAILED',
      executionArn: 'arn',
      versionName: undefined,
      error: { Error: 'X', Cause: 'y' },
      stopped: [],
      stopReason: 'user',
    });
  });

  it("reads a stop run's reason from its execution input, user when it has none, and refuses one it does not know", () => {
    const reason = (input: unknown): unknown => parseOutcomeRequest({ outcome: 'STOPPED', executionArn: 'arn', input }).stopReason;
    expect(reason({ reason: 'idle' })).toBe('idle');
    expect(reason({})).toBe('user');
    expect(() => reason({ reason: 'bored' })).toThrow('must be one of idle, cap, schedule, user');
  });

  describe('stopped', () => {
    const a = { projectVersionArn: 'arn:a', versionName: 'a', status: 'STOPPED', action: 'stopped' };
    const b = { projectVersionArn: 'arn:b', versionName: 'b', status: 'TRAINING_COMPLETED', action: 'none' };
    const c = { projectVersionArn: 'arn:c', versionName: 'c', status: 'STOPPED' };
    const stopped = (value: unknown): unknown => parseOutcomeRequest({ outcome: 'STOPPED', executionArn: 'arn', stopped: value }).stopped;

    it('accepts a flat list of versions', () => {
      expect(stopped([a, b, c])).toEqual([a, b, c]);
    });

    it('flattens the list of pages the stop machine sends, empty pages included, in order', () => {
      expect(stopped([[], [a, b], [c]])).toEqual([a, b, c]);
      expect(stopped([[], []])).toEqual([]);
      expect(stopped([[a], c])).toEqual([a, c]);
    });

    it('flattens one level only, and leaves out what is not a version', () => {
      expect(stopped([[[a]], [b]])).toEqual([b]);
      expect(stopped([['arn:a', 42, null], [{ versionName: 'no-arn' }], c])).toEqual([c]);
      expect(stopped({ pages: [[a]] })).toEqual([]);
    });

    it('fills what a version lacks, and keeps no action it was not given', () => {
      expect(stopped([[{ projectVersionArn: 'arn:x' }]])).toEqual([{ projectVersionArn: 'arn:x', versionName: '', status: 'UNKNOWN' }]);
      expect(stopped([c])).toStrictEqual([c]);
    });
  });

  it('refuses an unknown outcome or a missing execution', () => {
    expect(() => parseOutcomeRequest({ outcome: 'DONE', executionArn: 'arn' })).toThrow(InvalidEventError);
    expect(() => parseOutcomeRequest({ outcome: 'FAILED' })).toThrow('needs executionArn');
  });
});

describe('redrive input', () => {
  it('starts from nothing and checks what the loop passes back', () => {
    expect(parseRedriveRequest(undefined)).toEqual({ cutoff: null, cursor: null, totals: null });
    expect(parseRedriveRequest({ cutoff: null, cursor: null, totals: null })).toEqual({ cutoff: null, cursor: null, totals: null });
    expect(() => parseRedriveRequest({ cutoff: 'soon' })).toThrow('cutoff must be a timestamp');
    expect(() => parseRedriveRequest({ totals: { examined: 1 } })).toThrow('totals are malformed');
  });

  it('rebuilds the S3 event from a row, or says it cannot', () => {
    const row = { imageKey: 'inbox/a.jpeg', bucket: 'b', sequencer: 'S', eventTime: 'T', objectVersionId: 'v1', status: 'PENDING' };
    expect(eventFromRow(row)).toEqual({ bucket: 'b', key: 'inbox/a.jpeg', sequencer: 'S', eventTime: 'T', versionId: 'v1' });
    expect(eventFromRow({ ...row, objectVersionId: undefined })?.versionId).toBeUndefined();
    expect(eventFromRow({ imageKey: 'inbox/a.jpeg', status: 'PENDING' })).toBeUndefined();
  });
});
