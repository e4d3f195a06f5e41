import { DetectCustomLabelsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/lib/errors.js';
import { fixtureImage } from '../fixtures/images.js';
import { activeItem } from '../fixtures/models.js';
import { s3Event } from '../fixtures/s3-events.js';
import { serveObjects } from '../fixtures/s3-objects.js';

const s3Mock = mockClient(S3Client);
const rekognitionMock = mockClient(RekognitionClient);
const ddbMock = mockClient(DynamoDBDocumentClient);

const context = { functionName: 'pneumo-test-classify', awsRequestId: 'req-1' } as Context;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

async function loadHandler(env: Record<string, string | undefined>): Promise<Handler> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const module = (await import('../../src/handlers/classify.js')) as { handler: Handler };
  return module.handler;
}

const ENV = { RESULTS_TABLE: 'results-table', REGISTRY_TABLE: 'registry-table', REVIEW_THRESHOLD: '90', START_MODEL_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:start' };

beforeEach(() => {
  ddbMock.on(GetCommand, { TableName: 'registry-table' }).resolves({ Item: activeItem() });
  ddbMock.on(GetCommand, { TableName: 'results-table' }).resolves({});
  ddbMock.on(PutCommand).resolves({});
});

afterEach(() => {
  s3Mock.reset();
  rekognitionMock.reset();
  ddbMock.reset();
  vi.unstubAllEnvs();
});

describe('classify handler', () => {
  it('refuses to start without its tables, naming the variable', async () => {
    await expect(loadHandler({ ...ENV, RESULTS_TABLE: undefined })).rejects.toThrow(new ConfigError('RESULTS_TABLE', 'is not set'));
  });

  it('classifies an S3 notification with the configured tables and threshold', async () => {
    const handler = await loadHandler(ENV);
    serveObjects(s3Mock, { 'inbox/a.jpeg': { bytes: fixtureImage('normal-1.jpeg'), versionId: 'v1' } });
    rekognitionMock.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [{ Name: 'NORMAL', Confidence: 85 }] });

    await handler(s3Event({ key: 'inbox/a.jpeg', versionId: 'v1' }), context);

    // 85 is below the configured threshold of 90.
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'results-table',
      Item: expect.objectContaining({ imageKey: 'inbox/a.jpeg', status: 'NEEDS_REVIEW', label: 'NORMAL' }) as unknown as Record<string, unknown>,
    });
  });

  it('fails the invocation when a record must be retried, so Lambda retries and the DLQ keeps it', async () => {
    const handler = await loadHandler(ENV);
    serveObjects(s3Mock, { 'inbox/a.jpeg': { bytes: fixtureImage('normal-1.jpeg'), versionId: 'v1' } });
    rekognitionMock.on(DetectCustomLabelsCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(handler(s3Event({ key: 'inbox/a.jpeg', versionId: 'v1' }), context)).rejects.toThrow(/inbox\/a\.jpeg/);
  });

  it('logs no Powertools warning for an invocation that only rejects images, and still emits the Rejected metric', async () => {
    const handler = await loadHandler({ ...ENV, POWERTOOLS_METRICS_DISABLED: 'false' });
    serveObjects(s3Mock, { 'inbox/notes.jpg': { bytes: fixtureImage('text-named.jpg'), versionId: 'v1' } });
    const written: string[] = [];
    const capture = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      await handler(s3Event({ key: 'inbox/notes.jpg', versionId: 'v1' }), context);
      await handler(s3Event({ key: 'inbox/notes.jpg', versionId: 'v1', sequencer: '0A' }), context);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const text = written.join('');
    expect(text).not.toMatch(/No application metrics to publish/);
    const blobs = text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(blobs.filter((blob) => blob.Rejected === 1 && blob.reason === 'unsupported-format')).toHaveLength(2);
  });

  it('fails on an event that is not from S3', async () => {
    const handler = await loadHandler(ENV);
    await expect(handler({ hello: 'world' }, context)).rejects.toThrow(/no Records array/);
  });
});
