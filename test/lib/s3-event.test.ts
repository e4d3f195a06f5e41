import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../src/lib/errors.js';
import { decodeS3Key, normalizeSequencer, parseS3Event } from '../../src/lib/s3-event.js';
import { s3Event, s3Record } from '../fixtures/s3-events.js';

describe('decodeS3Key', () => {
  it.each([
    ['inbox/plain.jpeg', 'inbox/plain.jpeg'],
    ['inbox/with+space.jpeg', 'inbox/with space.jpeg'],
    ['inbox/a%2Bplus.jpeg', 'inbox/a+plus.jpeg'],
    ['inbox/100%25.png', 'inbox/100%.png'],
    ['inbox/r%C3%B6ntgen+%E8%83%B8%E9%83%A8.jpg', 'inbox/röntgen 胸部.jpg'],
  ])('decodes %s', (encoded, decoded) => {
    expect(decodeS3Key(encoded)).toBe(decoded);
  });

  it('names the key when the encoding is broken', () => {
    expect(() => decodeS3Key('inbox/%E0%A4%A')).toThrow(/s3\.object\.key "inbox\/%E0%A4%A"/);
  });
});

describe('normalizeSequencer', () => {
  it('right-pads so that string order is event order, as S3 prescribes', () => {
    const earlier = normalizeSequencer('0062E99A88DC407460');
    const later = normalizeSequencer('0062E99A88DC407461');
    const longerLater = normalizeSequencer('0062E99A88DC4074600A');
    expect(earlier < later).toBe(true);
    expect(earlier < longerLater).toBe(true);
    expect(earlier).toHaveLength(64);
  });

  it('treats case alike', () => {
    expect(normalizeSequencer('00ab')).toBe(normalizeSequencer('00AB'));
  });

  it.each(['', 'xyz', 'A'.repeat(65)])('refuses %j', (bad) => {
    expect(() => normalizeSequencer(bad)).toThrow(InvalidEventError);
  });
});

describe('parseS3Event', () => {
  it('decodes the key and keeps version, sequencer and event time', () => {
    const [parsed] = parseS3Event(s3Event({ key: 'inbox/patient 7/a+b.jpg', versionId: 'v42', sequencer: '00AA' }));
    expect(parsed).toEqual({
      ok: true,
      object: {
        bucket: 'pneumo-test-123456789012-eu-west-1',
        key: 'inbox/patient 7/a+b.jpg',
        versionId: 'v42',
        sequencer: normalizeSequencer('00AA'),
        eventTime: '2026-11-25T10:00:00.000Z',
      },
    });
  });

  it('reads an absent or "null" version id as no version', () => {
    const event = s3Event({ key: 'inbox/a.jpg', versionId: null });
    const nullVersion = s3Record({ key: 'inbox/b.jpg' });
    (nullVersion.s3.object as { versionId?: string }).versionId = 'null';
    event.Records.push(nullVersion);
    const parsed = parseS3Event(event);
    expect(parsed.map((p) => p.ok && p.object.versionId)).toEqual([undefined, undefined]);
  });

  it('reports each malformed record on its own and keeps the good ones', () => {
    const noSequencer = s3Record({ key: 'inbox/b.jpg' });
    delete (noSequencer.s3.object as { sequencer?: string }).sequencer;
    const removed = s3Record({ key: 'inbox/c.jpg', eventName: 'ObjectRemoved:Delete' });
    const event = { Records: [s3Record({ key: 'inbox/a.jpg' }), noSequencer, removed, 'junk'] };

    const parsed = parseS3Event(event);

    expect(parsed[0]?.ok).toBe(true);
    expect(parsed.slice(1).map((p) => (p.ok ? 'ok' : p.error.message))).toEqual([
      's3.object.sequencer is missing or not a string',
      'eventName "ObjectRemoved:Delete" is not an ObjectCreated event',
      'record is not an object',
    ]);
  });

  it('refuses an event from another source by name', () => {
    const record = { ...s3Record({ key: 'inbox/a.jpg' }), eventSource: 'aws:sqs' };
    const [parsed] = parseS3Event({ Records: [record] });
    expect(parsed?.ok === false && parsed.error.message).toBe('eventSource is "aws:sqs", expected "aws:s3"');
  });

  it.each([undefined, null, {}, { Records: 'x' }, []])('throws for an envelope that is not an S3 notification: %j', (event) => {
    expect(() => parseS3Event(event)).toThrow(/no Records array/);
  });
});
