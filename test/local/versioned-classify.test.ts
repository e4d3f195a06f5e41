import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageOutcome } from '../../src/lib/image-outcome.js';
import { notificationRecord } from '../../src/local/s3-notifications.js';
import { fixtureImage } from '../fixtures/images.js';
import type { FixtureImage } from '../fixtures/images.js';
import { startTestStack } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * Classify against the local S3's versioned bucket, for real: the version id S3 gives a PUT reaches the event
 * and the row, and an event whose version is no longer current (replaced, or deleted) is skipped by what a
 * HEAD on the bucket answers, not by a mock.
 */

let testStack: TestStack;
const outcomes: ImageOutcome[] = [];

beforeAll(async () => {
  testStack = await startTestStack(inject('packageDir'), {
    onInvocation: (_function, result) => {
      if (Array.isArray(result)) outcomes.push(...(result as ImageOutcome[]));
    },
  });
});
afterAll(async () => {
  await testStack.stop();
});

const bucket = (): string => testStack.stack.names.bucket;
const table = (): string => testStack.stack.names.tables.ResultsTable ?? '';

async function upload(key: string, image: FixtureImage): Promise<string> {
  const { VersionId } = await testStack.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: fixtureImage(image) }));
  await testStack.stack.idle();
  if (!VersionId) throw new Error('the local bucket is versioned: every PUT has a VersionId');
  return VersionId;
}

async function row(key: string): Promise<Record<string, unknown> | undefined> {
  return (await testStack.documents.send(new GetCommand({ TableName: table(), Key: { imageKey: key }, ConsistentRead: true }))).Item;
}

/** Delivers the event S3 sent for `versionId` once more, as a late or repeated delivery would. */
async function redeliver(key: string, versionId: string, sequencer: string): Promise<ImageOutcome | undefined> {
  const invoker = testStack.stack.invokers.ClassifyLambdaFunction;
  if (!invoker) throw new Error('classify is wired to the bucket');
  outcomes.length = 0;
  const record = notificationRecord({ bucket: bucket(), key, eventName: 'ObjectCreated:Put', size: 0, eTag: undefined, versionId }, sequencer, 'eu-west-1', 'test');
  await invoker.submit({ Records: [record] });
  await testStack.stack.idle();
  return outcomes.find((outcome) => ('key' in outcome ? outcome.key : 'row' in outcome ? outcome.row.imageKey : undefined) === key);
}

describe('classify on the versioned local bucket', () => {
  it('records the version S3 gave the upload', async () => {
    const versionId = await upload('inbox/versioned/a.jpeg', 'normal-1.jpeg');
    expect(await row('inbox/versioned/a.jpeg')).toMatchObject({ status: 'PENDING', objectVersionId: versionId });
  });

  it('skips as superseded an event for a version a newer upload replaced', async () => {
    const key = 'inbox/versioned/replaced.jpeg';
    const first = await upload(key, 'normal-1.jpeg');
    const firstSequencer = String((await row(key))?.sequencer);
    const second = await upload(key, 'pneumonia-1.jpeg');
    expect(second).not.toBe(first);
    expect(await row(key)).toMatchObject({ objectVersionId: second });
    // The first version's event arriving when no row stands in its way: only the bucket can say it is stale.
    await testStack.documents.send(new DeleteCommand({ TableName: table(), Key: { imageKey: key } }));
    expect(await redeliver(key, first, firstSequencer)).toEqual({ kind: 'skipped', key, why: 'superseded' });
    expect(await row(key)).toBeUndefined();
  });

  it('skips as deleted an event for an object whose latest version is a delete marker', async () => {
    const key = 'inbox/versioned/deleted.jpeg';
    const versionId = await upload(key, 'normal-2.jpeg');
    const sequencer = String((await row(key))?.sequencer);
    const deleted = await testStack.s3.send(new DeleteObjectCommand({ Bucket: bucket(), Key: key }));
    expect(deleted.DeleteMarker).toBe(true);
    await testStack.documents.send(new DeleteCommand({ TableName: table(), Key: { imageKey: key } }));
    expect(await redeliver(key, versionId, sequencer)).toEqual({ kind: 'skipped', key, why: 'deleted' });
    expect(await row(key)).toBeUndefined();
  });

  it('classifies a redelivered event whose version is still current, reading that version', async () => {
    const key = 'inbox/versioned/current.jpeg';
    const versionId = await upload(key, 'normal-1.jpeg');
    const sequencer = String((await row(key))?.sequencer);
    await testStack.documents.send(new DeleteCommand({ TableName: table(), Key: { imageKey: key } }));
    expect(await redeliver(key, versionId, sequencer)).toMatchObject({ kind: 'written', row: { objectVersionId: versionId } });
    expect(await row(key)).toMatchObject({ status: 'PENDING', objectVersionId: versionId });
  });
});
