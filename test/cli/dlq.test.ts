import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter, RedriveResult } from '../../src/cli/commands/dlq.js';
import { parseDeadLetter } from '../../src/cli/commands/dlq.js';
import { runCli } from '../../src/cli/program.js';
import type { Target } from '../../src/cli/target.js';
import { BUCKET, captureIo, startLocalServers } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';

/** What Lambda's on-failure destination records for a failed S3 event (the key URL-encoded, as S3 sends it). */
function deadLetter(keys: string[], requestId: string): string {
  return JSON.stringify({
    version: '1.0',
    timestamp: '2026-11-25T10:00:00.000Z',
    requestContext: { requestId, functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:classify:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: { Records: keys.map((key) => ({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') } } })) },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'RecordsNotProcessedError', errorMessage: '1 record(s) failed with a retryable error' },
  });
}

describe('pneumo dlq', () => {
  let servers: LocalServers;
  let file: string;

  beforeAll(async () => {
    servers = await startLocalServers();
    file = join(servers.dir, 'dead-letters.jsonl');
    const target = servers.target();
    await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/ward 3/a.jpeg', Body: 'a', ContentType: 'image/jpeg', Metadata: { source: 'pacs' } }));
    target.close();
  });

  afterAll(async () => {
    await servers.stop();
  });

  const cli = async (argv: string[], make: () => Target = () => servers.target()): Promise<{ code: number; stdout: string[]; stderr: string[]; json: () => unknown }> => {
    const io = captureIo();
    const code = await runCli(argv, { io, resolveTarget: () => Promise.resolve(make()) });
    return { code, stdout: io.stdout, stderr: io.stderr, json: () => JSON.parse(io.text()) as unknown };
  };

  it('parses a destination record, decoding keys as S3 encodes them', () => {
    expect(parseDeadLetter('1', deadLetter(['inbox/ward 3/a+b.jpeg'], 'r1'))).toEqual({
      id: '1',
      timestamp: '2026-11-25T10:00:00.000Z',
      requestId: 'r1',
      condition: 'RetriesExhausted',
      attempts: 3,
      errorType: 'RecordsNotProcessedError',
      errorMessage: '1 record(s) failed with a retryable error',
      objects: [{ bucket: BUCKET, key: 'inbox/ward 3/a+b.jpeg' }],
    });
    expect(parseDeadLetter('2', 'not json')).toMatchObject({ errorType: 'UnreadableDeadLetter', objects: [] });
  });

  it('lists an empty or missing file as empty', async () => {
    const run = await cli(['dlq', 'list', '-f', 'json']);
    expect(run.code).toBe(0);
    expect(run.json()).toEqual([]);
  });

  it('re-drives the local file: copies each image onto itself, drops deleted ones, keeps what it cannot handle', async () => {
    await writeFile(file, [deadLetter(['inbox/ward 3/a.jpeg'], 'r1'), deadLetter(['inbox/deleted.jpeg'], 'r2'), 'garbage', ''].join('\n'));
    const listed = await cli(['dlq', 'list', '-f', 'json']);
    expect((listed.json() as DeadLetter[]).map((l) => [l.id, l.requestId, l.objects.map((o) => o.key)])).toEqual([
      ['1', 'r1', ['inbox/ward 3/a.jpeg']],
      ['2', 'r2', ['inbox/deleted.jpeg']],
      ['3', null, []],
    ]);

    const dry = await cli(['dlq', 'redrive', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr.at(-1)).toMatch(/would re-drive 2 image\(s\).* would remove 2 of 3/);
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);

    const run = await cli(['dlq', 'redrive', '-f', 'json']);
    expect(run.code).toBe(0);
    expect((run.json() as RedriveResult[]).map((r) => [r.key, r.outcome])).toEqual([
      ['inbox/ward 3/a.jpeg', 'redriven'],
      ['inbox/deleted.jpeg', 'gone'],
    ]);
    expect(run.stderr).toContain('kept dead letter 3: it names no S3 object to re-drive (UnreadableDeadLetter)');
    expect(run.stderr.at(-1)).toMatch(/re-drove 1 image\(s\); 1 no longer exist; 0 failed; removed 2 of 3 dead letter\(s\)/);
    expect(await readFile(file, 'utf8')).toBe('garbage\n');

    const target = servers.target();
    const head = await target.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'inbox/ward 3/a.jpeg' }));
    expect(head.ContentType).toBe('image/jpeg');
    expect(head.Metadata).toMatchObject({ source: 'pacs', 'pneumo-redriven-at': expect.stringMatching(/^2026|^20\d\d-/) as string });
    target.close();
    await appendFile(file, `${deadLetter(['inbox/ward 3/a.jpeg'], 'r4')}\n`);
    expect((await cli(['dlq', 'redrive'])).stdout[0]).toMatch(/^redriven\s+s3:\/\/pneumo-test-inbox\/inbox\/ward 3\/a\.jpeg/);
    expect(await readFile(file, 'utf8')).toBe('garbage\n');
  });

  it('on SQS, receives every message, re-drives and deletes only the handled ones', async () => {
    const make = (): Target => {
      const target = servers.target({ deadLetters: { kind: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/000000000000/dlq' } });
      const sqs = mockClient(target.clients.sqs);
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'h1', Body: deadLetter(['inbox/ward 3/a.jpeg'], 'r1') }, { MessageId: 'm2', ReceiptHandle: 'h2', Body: 'garbage' }] })
        .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'h1-again', Body: deadLetter(['inbox/ward 3/a.jpeg'], 'r1') }] })
        .resolves({ Messages: [] });
      sqs.on(DeleteMessageCommand).resolves({});
      calls.push(sqs);
      return target;
    };
    const calls: ReturnType<typeof mockClient>[] = [];
    const run = await cli(['dlq', 'redrive'], make);
    expect(run.code).toBe(0);
    const sqs = calls[0];
    expect(sqs?.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/000000000000/dlq', ReceiptHandle: 'h1' }]);
    expect(sqs?.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toMatchObject({ MaxNumberOfMessages: 10, VisibilityTimeout: 300 });
  });

  it('says so when the target has no dead-letter queue (exit 3)', async () => {
    const run = await cli(['dlq', 'list'], () => ({ ...servers.target(), deadLetters: undefined }));
    expect(run.code).toBe(3);
  });
});
