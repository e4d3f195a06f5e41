import {
  AccessDeniedException,
  DetectCustomLabelsCommand,
  ImageTooLargeException,
  InternalServerError,
  InvalidImageFormatException,
  InvalidParameterException,
  InvalidS3ObjectException,
  ProvisionedThroughputExceededException,
  RekognitionClient,
  ResourceNotFoundException,
  ResourceNotReadyException,
  ThrottlingException,
} from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classifyObject, classifyS3Event } from '../../src/lib/classify.js';
import type { ClassifyDeps } from '../../src/lib/classify.js';
import { RecordsNotProcessedError } from '../../src/lib/errors.js';
import type { ResultRow } from '../../src/lib/tables/results.js';
import { normalizeSequencer } from '../../src/lib/s3-event.js';
import type { InboxObjectEvent } from '../../src/lib/s3-event.js';
import { classifyDeps, REGISTRY_TABLE, RESULTS_TABLE } from '../fixtures/classify-deps.js';
import { fixtureImage } from '../fixtures/images.js';
import type { FixtureImage } from '../fixtures/images.js';
import { activeItem, NEXT_VERSION_ARN, VERSION_ARN } from '../fixtures/models.js';
import { BUCKET, s3Event, s3Record } from '../fixtures/s3-events.js';
import { serveObjects } from '../fixtures/s3-objects.js';

const s3Mock = mockClient(S3Client);
const rekognitionMock = mockClient(RekognitionClient);
const ddbMock = mockClient(DynamoDBDocumentClient);

const KEY = 'inbox/ward 3/patient+7.jpeg';
const SEQUENCER = normalizeSequencer('0062E99A88DC407460');

function inboxEvent(overrides: Partial<InboxObjectEvent> = {}): InboxObjectEvent {
  return { bucket: BUCKET, key: KEY, versionId: 'v1', sequencer: SEQUENCER, eventTime: '2026-11-25T10:00:00.000Z', ...overrides };
}

function serve(name: FixtureImage, key = KEY): void {
  serveObjects(s3Mock, { [key]: { bytes: fixtureImage(name), versionId: 'v1' } });
}

function labels(normal: number, pneumonia: number): { CustomLabels: { Name: string; Confidence: number }[] } {
  return { CustomLabels: [{ Name: 'NORMAL', Confidence: normal }, { Name: 'PNEUMONIA', Confidence: pneumonia }] };
}

function savedRows(): ResultRow[] {
  return ddbMock.commandCalls(PutCommand).map((call) => call.args[0].input.Item as ResultRow);
}

let deps: ClassifyDeps;

beforeEach(() => {
  deps = classifyDeps();
  ddbMock.on(GetCommand, { TableName: REGISTRY_TABLE }).resolves({ Item: activeItem() });
  ddbMock.on(GetCommand, { TableName: RESULTS_TABLE }).resolves({});
  ddbMock.on(PutCommand).resolves({});
});

afterEach(() => {
  s3Mock.reset();
  rekognitionMock.reset();
  ddbMock.reset();
  vi.restoreAllMocks();
});

describe('classifyObject: a valid image and a running model', () => {
  it('stores the top label, every label and the facts of the object', async () => {
    serve('pneumonia-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(3.5, 96.5));

    const outcome = await classifyObject(deps, inboxEvent());

    expect(outcome.kind).toBe('written');
    expect(savedRows()).toEqual([
      {
        imageKey: KEY,
        bucket: BUCKET,
        status: 'CLASSIFIED',
        label: 'PNEUMONIA',
        confidence: 96.5,
        labels: [
          { name: 'PNEUMONIA', confidence: 96.5 },
          { name: 'NORMAL', confidence: 3.5 },
        ],
        modelVersionArn: VERSION_ARN,
        objectVersionId: 'v1',
        eTag: 'etag-1',
        size: 5891,
        imageFormat: 'jpeg',
        width: 224,
        height: 224,
        sequencer: SEQUENCER,
        eventTime: '2026-11-25T10:00:00.000Z',
        processedAt: '2026-11-25T10:00:01.014Z',
        latencyMs: 7,
      },
    ]);
  });

  it('asks for every label of the exact object version', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(99, 1));
    await classifyObject(deps, inboxEvent());
    expect(rekognitionMock).toHaveReceivedCommandWith(DetectCustomLabelsCommand, {
      ProjectVersionArn: VERSION_ARN,
      Image: { S3Object: { Bucket: BUCKET, Name: KEY, Version: 'v1' } },
      MinConfidence: 0,
    });
  });

  it('writes with the ordering condition', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(99, 1));
    await classifyObject(deps, inboxEvent());
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: RESULTS_TABLE,
      ConditionExpression: expect.stringContaining('sequencer < :sequencer') as unknown as string,
      ExpressionAttributeValues: { ':sequencer': SEQUENCER, ':pending': 'PENDING', ':failed': 'FAILED' },
    });
  });

  it('keeps the label but asks for review below the threshold', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(79.9, 20.1));
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'NEEDS_REVIEW', label: 'NORMAL', confidence: 79.9 });
  });

  it('counts the threshold itself as confident', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(80, 20));
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'CLASSIFIED', label: 'NORMAL' });
  });

  it('asks for review when the model returns no label at all', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [] });
    await classifyObject(deps, inboxEvent());
    const [row] = savedRows();
    expect(row).toMatchObject({ status: 'NEEDS_REVIEW', labels: [], detail: 'model returned no labels' });
    expect(row?.label).toBeUndefined();
  });

  it('classifies a file whose dimensions sit behind large metadata', async () => {
    serve('metadata-heavy.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(90, 10));
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'CLASSIFIED', width: 224 });
  });
});

describe('classifyObject: objects that need no row', () => {
  it.each([
    ['training/NORMAL/a.jpeg', 'outside-inbox'],
    ['inbox-other/a.jpeg', 'outside-inbox'],
    ['inbox/folder/', 'folder-marker'],
  ])('skips %s as %s without reading anything', async (key, why) => {
    const outcome = await classifyObject(deps, inboxEvent({ key }));
    expect(outcome).toEqual({ kind: 'skipped', key, why });
    expect(s3Mock.calls()).toHaveLength(0);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('skips an object deleted before it was read', async () => {
    serveObjects(s3Mock, {});
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'skipped', why: 'deleted' });
    expect(savedRows()).toEqual([]);
    expect(rekognitionMock.calls()).toHaveLength(0);
  });

  it('skips an event whose object version was replaced', async () => {
    serveObjects(s3Mock, { [KEY]: { bytes: fixtureImage('normal-1.jpeg'), versionId: 'v2' } });
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'skipped', why: 'superseded' });
    expect(savedRows()).toEqual([]);
  });

  it('does not pay twice for a duplicate delivery of an answered event', async () => {
    ddbMock.on(GetCommand, { TableName: RESULTS_TABLE }).resolves({ Item: { sequencer: SEQUENCER, status: 'CLASSIFIED' } });
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'skipped', why: 'already-settled' });
    expect(s3Mock.calls()).toHaveLength(0);
    expect(rekognitionMock.calls()).toHaveLength(0);
  });

  it('does not pay for a late event when a newer upload is answered', async () => {
    ddbMock.on(GetCommand, { TableName: RESULTS_TABLE }).resolves({
      Item: { sequencer: normalizeSequencer('0062E99A88DC407470'), status: 'PENDING' },
    });
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'skipped', why: 'already-settled' });
    expect(rekognitionMock.calls()).toHaveLength(0);
  });

  it('re-classifies the same event when its row is PENDING (re-drive)', async () => {
    ddbMock.on(GetCommand, { TableName: RESULTS_TABLE }).resolves({ Item: { sequencer: SEQUENCER, status: 'PENDING' } });
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(95, 5));
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'written', row: { status: 'CLASSIFIED' } });
  });

  it('reports a row kept by the ordering condition (a newer event won the race)', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(95, 5));
    ddbMock.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'kept-newer', row: { status: 'CLASSIFIED' } });
  });
});

describe('classifyObject: files refused before inference', () => {
  it.each([
    ['text-named.jpg', 'unsupported-format'],
    ['truncated-header.jpeg', 'corrupt-image'],
    ['one-pixel.png', 'dimensions-too-small'],
    ['huge-5000px.png', 'dimensions-too-large'],
  ] as const)('%s → REJECTED %s, no inference call', async (name, reason) => {
    serve(name);
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'REJECTED', reason, imageKey: KEY, size: fixtureImage(name).length });
    expect(rekognitionMock.calls()).toHaveLength(0);
  });

  it('keeps the dimensions it read on a dimension rejection', async () => {
    serve('huge-5000px.png');
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ imageFormat: 'png', width: 5000, height: 5000 });
  });

  it('rejects an empty object', async () => {
    serveObjects(s3Mock, { [KEY]: { bytes: new Uint8Array(), versionId: 'v1' } });
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'REJECTED', reason: 'empty-object', size: 0 });
  });
});

describe('classifyObject: no model to ask', () => {
  it('waits as PENDING no-model when nothing was ever promoted', async () => {
    ddbMock.on(GetCommand, { TableName: REGISTRY_TABLE }).resolves({});
    serve('normal-1.jpeg');
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'PENDING', reason: 'no-model', width: 224 });
    expect(rekognitionMock.calls()).toHaveLength(0);
  });

  it('waits as PENDING model-not-running, without a call, when the registry says stopped', async () => {
    ddbMock.on(GetCommand, { TableName: REGISTRY_TABLE }).resolves({ Item: activeItem({ state: 'STOPPED' }) });
    serve('normal-1.jpeg');
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'PENDING', reason: 'model-not-running', modelVersionArn: VERSION_ARN });
    expect(rekognitionMock.calls()).toHaveLength(0);
  });

  it('tells the serving logic after the row is stored: a PENDING row asks for a start, an answer records use, a kept row nothing', async () => {
    const seen: { status: string; stored: boolean }[] = [];
    const serving = {
      afterStore: (row: ResultRow): Promise<void> => {
        // The row is in the table before the start is asked for, so the start's re-drive finds it.
        seen.push({ status: row.status, stored: savedRows().some((saved) => saved.imageKey === row.imageKey && saved.status === row.status) });
        return Promise.resolve();
      },
    };
    ddbMock.on(GetCommand, { TableName: REGISTRY_TABLE }).resolves({ Item: activeItem({ state: 'STOPPED' }) });
    serve('normal-1.jpeg');
    await classifyObject({ ...deps, serving }, inboxEvent());
    ddbMock.on(GetCommand, { TableName: REGISTRY_TABLE }).resolves({ Item: activeItem() });
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(97, 3));
    serveObjects(s3Mock, { 'inbox/other.jpeg': { bytes: fixtureImage('normal-1.jpeg'), versionId: 'v1' }, 'inbox/third.jpeg': { bytes: fixtureImage('normal-1.jpeg'), versionId: 'v1' } });
    await classifyObject({ ...deps, serving }, inboxEvent({ key: 'inbox/other.jpeg' }));
    ddbMock.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'newer', $metadata: {} }));
    await classifyObject({ ...deps, serving }, inboxEvent({ key: 'inbox/third.jpeg' }));
    expect(seen).toEqual([
      { status: 'PENDING', stored: true },
      { status: 'CLASSIFIED', stored: true },
    ]);
  });

  it('waits as PENDING model-not-running when the service says the model is not ready', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).rejects(new ResourceNotReadyException({ message: 'not running', $metadata: {} }));
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'PENDING', reason: 'model-not-running' });
    // The cached registry entry was dropped and read again before giving up.
    expect(ddbMock.commandCalls(GetCommand, { TableName: REGISTRY_TABLE })).toHaveLength(2);
  });

  it('follows a promotion that stopped the cached version', async () => {
    serve('normal-1.jpeg');
    ddbMock
      .on(GetCommand, { TableName: REGISTRY_TABLE })
      .resolvesOnce({ Item: activeItem() })
      .resolves({ Item: activeItem({ projectVersionArn: NEXT_VERSION_ARN }) });
    rekognitionMock
      .on(DetectCustomLabelsCommand, { ProjectVersionArn: VERSION_ARN })
      .rejects(new ResourceNotReadyException({ message: 'stopped', $metadata: {} }))
      .on(DetectCustomLabelsCommand, { ProjectVersionArn: NEXT_VERSION_ARN })
      .resolves(labels(10, 90));
    await classifyObject(deps, inboxEvent());
    expect(savedRows()[0]).toMatchObject({ status: 'CLASSIFIED', label: 'PNEUMONIA', modelVersionArn: NEXT_VERSION_ARN });
  });

  it('records a malformed registry as FAILED registry-invalid', async () => {
    ddbMock.on(GetCommand, { TableName: REGISTRY_TABLE }).resolves({ Item: { id: 'active', projectVersionArn: 'nope' } });
    serve('normal-1.jpeg');
    const outcome = await classifyObject(deps, inboxEvent());
    expect(outcome).toMatchObject({ kind: 'written', row: { status: 'FAILED', reason: 'registry-invalid' } });
  });
});

describe('classifyObject: service errors', () => {
  it.each([
    [new InvalidImageFormatException({ message: 'bad pixels', $metadata: {} }), 'invalid-image-format'],
    [new ImageTooLargeException({ message: 'too big', $metadata: {} }), 'image-too-large'],
    [new InvalidS3ObjectException({ message: 'unreadable', $metadata: {} }), 'invalid-s3-object'],
    [new InvalidParameterException({ message: 'bad parameter', $metadata: {} }), 'invalid-parameter'],
  ])('%s → REJECTED %s with the service message', async (error, reason) => {
    serve('truncated-body.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).rejects(error);
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'written' });
    expect(savedRows()[0]).toMatchObject({ status: 'REJECTED', reason, detail: error.message });
  });

  it.each([
    [new ResourceNotFoundException({ message: 'no such version', $metadata: {} }), 'model-not-found'],
    [new AccessDeniedException({ message: 'denied', $metadata: {} }), 'access-denied'],
  ])('%s → FAILED %s, not retried', async (error, reason) => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).rejects(error);
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'written', row: { status: 'FAILED', reason } });
  });

  it.each([
    new ThrottlingException({ message: 'slow down', $metadata: {} }),
    new ProvisionedThroughputExceededException({ message: 'over capacity', $metadata: {} }),
    new InternalServerError({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
  ])('%s (after the SDK retries) → retryable, with a FAILED row meanwhile', async (error) => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).rejects(error);
    const outcome = await classifyObject(deps, inboxEvent());
    expect(outcome).toEqual({ kind: 'retryable', key: KEY, error });
    expect(savedRows()[0]).toMatchObject({ status: 'FAILED', reason: 'retryable-error', detail: expect.stringContaining(error.name) as unknown });
  });

  it('is retryable when the results table cannot be written', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(95, 5));
    const unavailable = new DynamoDBServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'down', $metadata: { httpStatusCode: 503 } });
    ddbMock.on(PutCommand).rejects(unavailable);
    expect(await classifyObject(deps, inboxEvent())).toEqual({ kind: 'retryable', key: KEY, error: unavailable });
  });

  it('is retryable when S3 fails with a server error', async () => {
    s3Mock.onAnyCommand().rejects(new InternalServerError({ message: 's3 down', $metadata: { httpStatusCode: 500 } }));
    expect(await classifyObject(deps, inboxEvent())).toMatchObject({ kind: 'retryable', key: KEY });
  });
});

describe('classifyS3Event', () => {
  it('handles every record, then fails the invocation naming what was not processed', async () => {
    serveObjects(s3Mock, {
      'inbox/good.jpeg': { bytes: fixtureImage('normal-1.jpeg'), versionId: 'v1' },
      'inbox/throttled.jpeg': { bytes: fixtureImage('normal-2.jpeg'), versionId: 'v1' },
    });
    rekognitionMock.on(DetectCustomLabelsCommand).callsFake((input: { Image?: { S3Object?: { Name?: string } } }) => {
      if (input.Image?.S3Object?.Name === 'inbox/throttled.jpeg') throw new ThrottlingException({ message: 'slow down', $metadata: {} });
      return labels(95, 5);
    });
    const malformed = s3Record({ key: 'inbox/malformed.jpeg' });
    delete (malformed.s3.object as { sequencer?: string }).sequencer;
    const event = { Records: [s3Record({ key: 'inbox/throttled.jpeg', versionId: 'v1' }), malformed, s3Record({ key: 'inbox/good.jpeg', versionId: 'v1' })] };

    const attempt = classifyS3Event(deps, event);

    await expect(attempt).rejects.toThrow(RecordsNotProcessedError);
    await expect(attempt).rejects.toThrow('1 record(s) failed with a retryable error (inbox/throttled.jpeg) and 1 record(s) were not valid S3 notifications');
    expect(savedRows().map((row) => [row.imageKey, row.status])).toEqual([
      ['inbox/throttled.jpeg', 'FAILED'],
      ['inbox/good.jpeg', 'CLASSIFIED'],
    ]);
  });

  it('returns the outcomes when every record was handled', async () => {
    serve('normal-1.jpeg', 'inbox/a b.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(95, 5));
    const outcomes = await classifyS3Event(deps, s3Event({ key: 'inbox/a b.jpeg', versionId: 'v1' }, { key: 'training/x.jpeg' }));
    expect(outcomes.map((o) => o.kind)).toEqual(['written', 'skipped']);
  });

  it('logs each outcome by key and never the image bytes', async () => {
    serve('normal-1.jpeg');
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(95, 5));
    const info = vi.spyOn(deps.logger, 'info');
    await classifyS3Event(deps, s3Event({ key: KEY, versionId: 'v1' }));
    expect(info).toHaveBeenCalledWith('classify result', {
      key: KEY,
      outcome: 'CLASSIFIED',
      reason: undefined,
      label: 'NORMAL',
      confidence: 95,
      latencyMs: 7,
      stored: true,
    });
  });

  it('logs no image bytes at any level, in any encoding, whatever the outcome', async () => {
    const images = { 'inbox/good.jpeg': fixtureImage('normal-1.jpeg'), 'inbox/tiny.png': fixtureImage('one-pixel.png'), 'inbox/throttled.jpeg': fixtureImage('normal-2.jpeg') };
    serveObjects(s3Mock, Object.fromEntries(Object.entries(images).map(([key, bytes]) => [key, { bytes, versionId: 'v1' }])));
    rekognitionMock.on(DetectCustomLabelsCommand).callsFake((input: { Image?: { S3Object?: { Name?: string } } }) => {
      if (input.Image?.S3Object?.Name === 'inbox/throttled.jpeg') throw new ThrottlingException({ message: 'slow down', $metadata: {} });
      return labels(95, 5);
    });
    const levels = (['debug', 'info', 'warn', 'error', 'critical'] as const).map((level) => vi.spyOn(deps.logger, level));
    await expect(classifyS3Event(deps, s3Event(...Object.keys(images).map((key) => ({ key, versionId: 'v1' }))))).rejects.toThrow(RecordsNotProcessedError);
    const calls = levels.flatMap((spy) => spy.mock.calls);
    // A classified, a rejected and a retryable outcome were each logged.
    expect(calls.length).toBeGreaterThanOrEqual(3);
    const logged = JSON.stringify(calls);
    for (const bytes of Object.values(images)) {
      const buffer = Buffer.from(bytes);
      // Every 18-byte run at every offset, so a copy of any 20 bytes of the image shows, whatever its alignment.
      for (let offset = 0; offset + 18 <= buffer.length; offset += 1) {
        const run = buffer.subarray(offset, offset + 18);
        expect(logged).not.toContain(run.toString('base64'));
        expect(logged).not.toContain(run.toString('hex'));
        expect(logged).not.toContain(Array.from(run.subarray(0, 8)).join(','));
      }
    }
    expect(logged).not.toContain('"type":"Buffer"');
  });

  it('emits per-label and per-reason metrics, and answers per service', async () => {
    serveObjects(s3Mock, {
      'inbox/a.jpeg': { bytes: fixtureImage('pneumonia-1.jpeg'), versionId: 'v1' },
      'inbox/b.jpeg': { bytes: fixtureImage('one-pixel.png'), versionId: 'v1' },
    });
    rekognitionMock.on(DetectCustomLabelsCommand).resolves(labels(5, 95));
    const dimensions = vi.spyOn(Metrics.prototype, 'addDimension');
    const added = vi.spyOn(Metrics.prototype, 'addMetric');
    await classifyS3Event(deps, s3Event({ key: 'inbox/a.jpeg', versionId: 'v1' }, { key: 'inbox/b.jpeg', versionId: 'v1' }));
    expect(dimensions.mock.calls).toEqual([
      ['label', 'PNEUMONIA'],
      ['reason', 'dimensions-too-small'],
    ]);
    // Classified twice: per label, and per service only for the review-share alarm.
    expect(added.mock.calls.map(([name]) => name)).toEqual(['Classified', 'Classified', 'ClassifyLatency', 'Rejected']);
  });

  it('throws for an event that is not an S3 notification', async () => {
    await expect(classifyS3Event(deps, { detail: {} })).rejects.toThrow(/no Records array/);
  });
});
