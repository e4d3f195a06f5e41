/*
 * Child process of the handler part (started with --expose-gc, stdout to /dev/null so the handler's JSON logs and
 * EMF lines cost what they cost without flooding the terminal). Runs classify the way the handler does — one
 * S3 record per invocation, then publishStoredMetrics — over stubbed clients, and reports over IPC.
 *   BENCH_MODE=stub  hand stubs of `send` returning fixed answers: the domain logic, logging and metrics only
 *   BENCH_MODE=sdk   the real SDK clients over a request handler that answers with canned HTTP responses:
 *                    adds command serialisation, middleware, SigV4 signing and response parsing, no network
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DetectCustomLabelsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { classifyS3Event } from '../src/lib/classify.js';
import type { ClassifyDeps } from '../src/lib/classify.js';
import { ModelRegistry } from '../src/lib/model-registry.js';
import { deployedRuntime } from '../src/lib/composition.js';
import { ResultsTable } from '../src/lib/tables/results.js';
import { distribution, PROJECT_DIR } from './common.js';

const { logger, metrics } = deployedRuntime();

const MODE = process.env.BENCH_MODE === 'sdk' ? 'sdk' : 'stub';
/** Emulates a proposed change to src/lib/observability.ts: one single-metric emitter reused, not one per outcome. */
const REUSE_SINGLE_METRIC = process.env.BENCH_REUSE_SINGLE_METRIC === '1';
const RECORDS = Number(process.env.BENCH_RECORDS ?? '100000');
const WARM_UP = Math.min(5000, Math.max(2000, Math.floor(RECORDS / 20)));
const SAMPLES = 10;
const MODEL_ARN = 'arn:aws:rekognition:eu-west-1:000000000000:project/pneumo-bench/version/bench/1700000000000';
const IMAGE = readFileSync(join(PROJECT_DIR, 'test/fixtures/images/normal-1.jpeg'));
const LABELS = [
  { Name: 'PNEUMONIA', Confidence: 91.5 },
  { Name: 'NORMAL', Confidence: 8.5 },
];
const region = 'eu-west-1';
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' };

function stubDeps(): ClassifyDeps {
  const s3 = {
    send: (command: unknown) => {
      if (command instanceof HeadObjectCommand) return Promise.resolve({ ContentLength: IMAGE.length, ETag: '"0123456789abcdef"', VersionId: undefined });
      if (command instanceof GetObjectCommand) return Promise.resolve({ Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(IMAGE)) } });
      return Promise.reject(new Error('unexpected S3 command'));
    },
  };
  const documents = {
    send: (command: unknown) => {
      if (command instanceof GetCommand) {
        return Promise.resolve(command.input.TableName === 'registry' ? { Item: { id: 'active', projectVersionArn: MODEL_ARN, versionName: 'bench', state: 'RUNNING' } } : {});
      }
      if (command instanceof PutCommand) return Promise.resolve({});
      return Promise.reject(new Error('unexpected DynamoDB command'));
    },
  };
  const rekognition = {
    send: (command: unknown) =>
      command instanceof DetectCustomLabelsCommand ? Promise.resolve({ CustomLabels: LABELS }) : Promise.reject(new Error('unexpected Rekognition command')),
  };
  return {
    s3: s3 as unknown as S3Client,
    rekognition: rekognition as unknown as RekognitionClient,
    results: new ResultsTable(documents as unknown as DynamoDBDocumentClient, 'results'),
    registry: new ModelRegistry(documents as unknown as DynamoDBDocumentClient, 'registry', 30_000),
    reviewThreshold: 80,
    logger,
    metrics,
  };
}

interface CannedRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/** A request handler that never opens a socket: one fixed HTTP answer per operation. */
interface CannedResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string;
}

function cannedHandler(answer: (request: CannedRequest) => CannedResponse) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    handle: (request: CannedRequest) => {
      const { statusCode, headers, body } = answer(request);
      const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
      return Promise.resolve({ response: { statusCode, reason: '', headers: { 'content-length': String(bytes.length), ...headers }, body: Readable.from([bytes]) } });
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
}

function sdkDeps(): ClassifyDeps {
  const head = IMAGE.subarray(0, 64 * 1024);
  const s3 = new S3Client({
    region,
    credentials,
    maxAttempts: 5,
    requestHandler: cannedHandler((request): CannedResponse =>
      request.method === 'HEAD'
        ? { statusCode: 200, headers: { 'content-type': 'image/jpeg', etag: '"0123456789abcdef"', 'last-modified': 'Wed, 25 Nov 2026 10:00:00 GMT', 'content-length': String(IMAGE.length) }, body: '' }
        : { statusCode: 206, headers: { 'content-type': 'image/jpeg', 'content-range': `bytes 0-${head.length - 1}/${IMAGE.length}`, etag: '"0123456789abcdef"' }, body: head },
    ),
  });
  const registryItem = JSON.stringify({ Item: { id: { S: 'active' }, projectVersionArn: { S: MODEL_ARN }, versionName: { S: 'bench' }, state: { S: 'RUNNING' } } });
  const dynamo = new DynamoDBClient({
    region,
    credentials,
    maxAttempts: 5,
    requestHandler: cannedHandler((request) => {
      const target = request.headers['x-amz-target'] ?? '';
      const body = typeof request.body === 'string' ? request.body : request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : '';
      const json = target.endsWith('GetItem') && body.includes('"registry"') ? registryItem : '{}';
      return { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: json };
    }),
  });
  const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const rekognition = new RekognitionClient({
    region,
    credentials,
    maxAttempts: 5,
    requestHandler: cannedHandler(() => ({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ CustomLabels: LABELS }) })),
  });
  return {
    s3,
    rekognition,
    results: new ResultsTable(documents, 'results'),
    registry: new ModelRegistry(documents, 'registry', 30_000),
    reviewThreshold: 80,
    logger,
    metrics,
  };
}

function event(i: number): unknown {
  const sequencer = (0x1000000000000n + BigInt(i)).toString(16).toUpperCase();
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: '2026-11-25T10:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'pneumo-bench' }, object: { key: `inbox/ward+3/image-${i}.jpeg`, size: IMAGE.length, eTag: '0123456789abcdef', sequencer } },
      },
    ],
  };
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  if (REUSE_SINGLE_METRIC) {
    // A single-metric instance publishes on every addMetric and then clears its dimensions, so one can be reused.
    const single = metrics.singleMetric();
    metrics.singleMetric = () => single;
  }
  const deps = MODE === 'sdk' ? sdkDeps() : stubDeps();
  const invoke = async (i: number): Promise<void> => {
    try {
      const outcomes = await classifyS3Event(deps, event(i));
      if (outcomes[0]?.kind !== 'written' || outcomes[0].row.status !== 'CLASSIFIED') throw new Error(`record ${i}: unexpected outcome ${JSON.stringify(outcomes[0])}`);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
  // Lambda runs each invocation in its own turn of the event loop; without this yield, stub-only microtasks would
  // never let Node run its deferred clean-ups (a Console per single metric then looks like a 7 KB/record leak).
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < WARM_UP; i++) {
    await invoke(i);
    await nextTurn();
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const heapAfterWarmUp = heapAfterGc();
  const micros = new Float64Array(RECORDS);
  const heapSamples: { records: number; heapUsed: number }[] = [];
  const every = Math.floor(RECORDS / SAMPLES);
  const started = performance.now();
  let gcMs = 0;
  for (let i = 0; i < RECORDS; i++) {
    const at = performance.now();
    await invoke(WARM_UP + i);
    micros[i] = (performance.now() - at) * 1000;
    await nextTurn();
    if ((i + 1) % every === 0) {
      const g = performance.now();
      heapSamples.push({ records: i + 1, heapUsed: heapAfterGc() });
      gcMs += performance.now() - g;
    }
  }
  const totalMs = performance.now() - started - gcMs;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const heapAfterAll = heapAfterGc();
  process.send?.({
    mode: MODE,
    reuseSingleMetric: REUSE_SINGLE_METRIC,
    records: RECORDS,
    warmUpRecords: WARM_UP,
    perRecordMicros: distribution(Array.from(micros)),
    recordsPerSecond: Math.round((RECORDS / totalMs) * 1000),
    heap: {
      afterWarmUpBytes: heapAfterWarmUp,
      afterAllBytes: heapAfterAll,
      growthBytes: heapAfterAll - heapAfterWarmUp,
      growthBytesPerRecord: Math.round(((heapAfterAll - heapAfterWarmUp) / RECORDS) * 1000) / 1000,
      samples: heapSamples,
    },
    rssBytes: process.memoryUsage().rss,
  });
}

await main();
