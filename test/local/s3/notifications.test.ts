import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, startLocalS3 } from '../../../src/local/s3.js';
import type { LocalS3, ObjectCreated } from '../../../src/local/s3.js';
import { notificationRecord } from '../../../src/local/s3-notifications.js';

const BUCKET = 'events';
let directory: string;
let server: LocalS3;
let s3: S3Client;
const events: ObjectCreated[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pneumo-s3-events-'));
  server = await startLocalS3({ port: 0, directory, buckets: [BUCKET], onObjectCreated: (event) => events.push(event) });
  s3 = new S3Client({ endpoint: server.endpoint, region: 'eu-west-1', credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
});
afterAll(async () => {
  s3.destroy();
  await server.stop();
  await rm(directory, { recursive: true, force: true });
});

describe('what the local S3 tells the stack about new objects', () => {
  it('a PUT and a COPY each notify once, before they are answered, with the decoded key, size, ETag and version', async () => {
    const key = 'inbox/ward 3+4/é.jpeg';
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'twelve bytes' }));
    // The PUT's answer has arrived: its notification was already made (the journal relies on that order).
    expect(events).toEqual([{ bucket: BUCKET, key, eventName: 'ObjectCreated:Put', size: 12, eTag: put.ETag?.replace(/"/g, ''), versionId: put.VersionId }]);
    const copy = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'inbox/copy.jpeg', CopySource: `${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}` }));
    expect(events[1]).toEqual({ bucket: BUCKET, key: 'inbox/copy.jpeg', eventName: 'ObjectCreated:Copy', size: 12, eTag: put.ETag?.replace(/"/g, ''), versionId: copy.VersionId });
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(events).toHaveLength(2);
  });

  it('the record sent to a function has S3’s shape: URL-encoded key, version id, sequencer', () => {
    const [first] = events;
    if (!first) throw new Error('no event');
    const record = notificationRecord(first, '0000000000000000AB', 'eu-west-1', 'classify');
    expect(record.s3.object).toEqual({ key: 'inbox/ward+3%2B4/%C3%A9.jpeg', size: 12, eTag: first.eTag, versionId: first.versionId, sequencer: '0000000000000000AB' });
  });

  it('a refused PUT notifies nothing', async () => {
    await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/bad.jpeg', Body: 'x', ChecksumCRC32: 'AAAAAA==' }))).rejects.toMatchObject({ name: 'BadDigest' });
    expect(events.map((event) => event.key)).not.toContain('inbox/bad.jpeg');
  });
});
