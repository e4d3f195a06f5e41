import { describe, expect, it } from 'vitest';
import { encodeNotificationKey, notificationRecord, notificationRules, ruleMatches, SequencerClock } from '../../src/local/s3-notifications.js';
import { decodeS3Key, normalizeSequencer, parseS3Event } from '../../src/lib/s3-event.js';
import { miniTemplate } from '../fixtures/template.js';

describe('notificationRules', () => {
  it('reads prefix, suffix and target of each configuration', () => {
    expect(notificationRules(miniTemplate())).toEqual([
      { bucketLogicalId: 'S3BucketInbox', event: 's3:ObjectCreated:*', prefix: 'inbox/', suffix: '.jpg', functionLogicalId: 'ClassifyLambdaFunction' },
      { bucketLogicalId: 'S3BucketInbox', event: 's3:ObjectCreated:*', prefix: 'inbox/', suffix: '.PNG', functionLogicalId: 'ClassifyLambdaFunction' },
    ]);
  });
});

describe('ruleMatches', () => {
  const [jpg] = notificationRules(miniTemplate());
  if (!jpg) throw new Error('fixture has rules');

  it.each([
    ['ObjectCreated:Put', 'inbox/a.jpg', true],
    ['ObjectCreated:Copy', 'inbox/deep/a b.jpg', true],
    ['ObjectCreated:CompleteMultipartUpload', 'inbox/a.jpg', true],
    ['ObjectRemoved:Delete', 'inbox/a.jpg', false],
    ['ObjectCreated:Put', 'inbox/a.JPG', false],
    ['ObjectCreated:Put', 'inbox/a.jpeg', false],
    ['ObjectCreated:Put', 'training/a.jpg', false],
    ['ObjectCreated:Put', 'Inbox/a.jpg', false],
  ])('%s %s → %s', (eventName, key, expected) => {
    expect(ruleMatches(jpg, eventName, key)).toBe(expected);
  });
});

describe('encodeNotificationKey', () => {
  it.each(['inbox/a b+c.jpg', 'inbox/100%/x.png', "inbox/it's (1)*.jpg", 'inbox/röntgen/胸部.jpeg', 'inbox/a?b#c&d=e.jpg'])(
    'encodes %s so that classify decodes it back',
    (key) => {
      const encoded = encodeNotificationKey(key);
      expect(encoded).not.toContain(' ');
      expect(decodeS3Key(encoded)).toBe(key);
    },
  );

  it('writes spaces as + and keeps slashes, as S3 does', () => {
    expect(encodeNotificationKey('inbox/ward 3/a+b.jpg')).toBe('inbox/ward+3/a%2Bb.jpg');
  });
});

describe('SequencerClock', () => {
  it('never repeats or goes back, even within one millisecond', () => {
    const clock = new SequencerClock();
    const values = [clock.next(1000), clock.next(1000), clock.next(999), clock.next(2000)].map(normalizeSequencer);
    expect([...values].sort()).toEqual(values);
    expect(new Set(values).size).toBe(4);
  });
});

describe('notificationRecord', () => {
  it('is a record classify parses back to the same object', () => {
    const record = notificationRecord(
      { bucket: 'b', key: 'inbox/ward 3/a+b.jpg', eventName: 'ObjectCreated:Put', size: 10, eTag: 'e', versionId: undefined },
      '0062E99A88DC407460',
      'eu-west-1',
      'cfg',
    );
    expect(parseS3Event({ Records: [record] })).toEqual([
      {
        ok: true,
        object: { bucket: 'b', key: 'inbox/ward 3/a+b.jpg', versionId: undefined, sequencer: normalizeSequencer('0062E99A88DC407460'), eventTime: record.eventTime },
      },
    ]);
  });
});
