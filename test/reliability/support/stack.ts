import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import type { ImageOutcome } from '../../../src/lib/image-outcome.js';
import { decodeS3Key } from '../../../src/lib/s3-event.js';
import type { DeadLetterRecord } from '../../../src/local/invoker.js';
import type { RekognitionEmulatorOptions } from '../../../src/local/rekognition/index.js';
import { startLocalStack } from '../../../src/local/stack.js';
import type { LocalStack } from '../../../src/local/stack.js';
import { readTemplate } from '../../../src/local/template.js';
import type { CfnTemplate } from '../../../src/local/template.js';
import { localClients } from '../../fixtures/local-stack.js';
import { SAMPLE_TRAINING } from './images.js';

export const REGION = 'eu-west-1';
export const PROJECT_DIR = resolve(import.meta.dirname, '../../..');

export type Row = Record<string, unknown> & { imageKey: string; status: string; reason?: string };

/** A running local stack plus the clients a user would hold, and a log of every classify outcome. */
export interface Harness {
  readonly stack: LocalStack;
  readonly dataDir: string;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly documents: DynamoDBDocumentClient;
  readonly bucket: string;
  /** Every record outcome classify returned from a successful notification-driven invocation, in order. */
  readonly outcomes: ImageOutcome[];
  put(key: string, body: Uint8Array): Promise<void>;
  row(key: string): Promise<Row | undefined>;
  rows(): Promise<Row[]>;
  deadLetters(): Promise<DeadLetterRecord[]>;
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface HarnessOptions {
  readonly template: CfnTemplate;
  readonly dataDir?: string;
  readonly rekognition?: Omit<RekognitionEmulatorOptions, 's3' | 'dataDir' | 'region' | 'accountId'>;
  readonly environment?: Readonly<Record<string, string>>;
  readonly retryDelayMs?: number;
  /** Fixed ports (0 = free), e.g. to put a proxy in front of DynamoDB. */
  readonly ports?: { readonly s3?: number; readonly dynamodb?: number; readonly sfn?: number; readonly events?: number };
}

export async function localTemplate(packageDir: string): Promise<CfnTemplate> {
  return readTemplate(join(packageDir, 'cloudformation-template-update-stack.json'));
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pneumo-reliability-')));
  const outcomes: ImageOutcome[] = [];
  const stack = await startLocalStack({
    projectDir: PROJECT_DIR,
    dataDir,
    region: REGION,
    ports: { s3: 0, dynamodb: 0, sfn: 0, ...options.ports },
    rekognition: { port: 0, startingDelayMs: 50, stoppingDelayMs: 50, ...options.rekognition },
    retryDelayMs: options.retryDelayMs ?? 0,
    environmentOverrides: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', ...options.environment },
    onInvocation: (logicalId, result) => {
      if (logicalId === 'ClassifyLambdaFunction' && Array.isArray(result)) outcomes.push(...(result as ImageOutcome[]));
    },
    template: options.template,
  });
  const { s3, sfn, documents } = localClients(stack);
  const bucket = stack.names.bucket;
  const resultsTable = stack.names.tables.ResultsTable ?? '';
  return {
    stack,
    dataDir,
    s3,
    sfn,
    documents,
    bucket,
    outcomes,
    put: async (key, body) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    row: async (key) => {
      const { Item } = await documents.send(new GetCommand({ TableName: resultsTable, Key: { imageKey: key }, ConsistentRead: true }));
      return Item as Row | undefined;
    },
    rows: async () => {
      const all: Row[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: resultsTable, ConsistentRead: true, ExclusiveStartKey: start }));
        all.push(...((page.Items ?? []) as Row[]));
        start = page.LastEvaluatedKey;
      } while (start);
      return all;
    },
    deadLetters: async () => {
      if (!existsSync(stack.deadLetterFile)) return [];
      const text = await readFile(stack.deadLetterFile, 'utf8');
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as DeadLetterRecord);
    },
    close: async ({ keepData = false } = {}) => {
      s3.destroy();
      sfn.destroy();
      documents.destroy();
      await stack.stop();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inPool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

/** Uploads `perLabel` sample X-rays of each label under `prefix<LABEL>/`. */
export async function uploadTrainingSet(harness: Harness, perLabel = 30, prefix = 'training/'): Promise<void> {
  const files: { key: string; path: string }[] = [];
  for (const label of ['NORMAL', 'PNEUMONIA']) {
    for (const file of (await readdir(join(SAMPLE_TRAINING, label))).sort().slice(0, perLabel)) {
      files.push({ key: `${prefix}${label}/${file}`, path: join(SAMPLE_TRAINING, label, file) });
    }
  }
  await inPool(files, 8, async ({ key, path }) => harness.put(key, new Uint8Array(await readFile(path))));
}

export interface ExecutionResult {
  readonly executionArn: string;
  readonly status: string | undefined;
  readonly output: unknown;
  readonly error: string | undefined;
  readonly cause: string | undefined;
}

/** Starts an execution through the Step Functions API; returns its ARN at once. */
export async function startExecution(harness: Harness, logicalId: string, name: string, input: unknown): Promise<string> {
  const { executionArn } = await harness.sfn.send(
    new StartExecutionCommand({ stateMachineArn: harness.stack.names.stateMachines[logicalId], name, input: JSON.stringify(input) }),
  );
  return executionArn ?? '';
}

export async function describeExecution(harness: Harness, executionArn: string): Promise<ExecutionResult> {
  const described = await harness.sfn.send(new DescribeExecutionCommand({ executionArn }));
  return {
    executionArn,
    status: described.status,
    output: described.output ? (JSON.parse(described.output) as unknown) : undefined,
    error: described.error,
    cause: described.cause,
  };
}

/** Starts an execution and waits for the stack to go idle (every execution and notification done). */
export async function execute(harness: Harness, logicalId: string, name: string, input: unknown): Promise<ExecutionResult> {
  const arn = await startExecution(harness, logicalId, name, input);
  await harness.stack.idle();
  return describeExecution(harness, arn);
}

/** Uploads a small training set and trains, gates, starts and promotes `versionName`; the model is RUNNING after. */
export async function deployModel(harness: Harness, versionName = 'v1'): Promise<ExecutionResult> {
  await uploadTrainingSet(harness);
  const result = await execute(harness, 'TrainAndDeployStateMachine', `train-${versionName}`, { versionName, minF1: 0.5, minPneumoniaRecall: 0.5 });
  if (result.status !== 'SUCCEEDED') throw new Error(`training ${versionName} did not deploy: ${result.error ?? ''} ${result.cause ?? ''}`);
  return result;
}

export const ANSWERED = ['CLASSIFIED', 'NEEDS_REVIEW'];

/** The decoded key of a one-record S3 event. */
export function eventKey(event: unknown): string {
  const encoded = (event as S3Event).Records[0]?.s3.object.key ?? '';
  return decodeS3Key(encoded);
}

export interface EventTap {
  /** Every classify event the stack delivered since the tap, by decoded key, in delivery order. */
  readonly seen: Map<string, S3Event[]>;
  /** Events held back (not delivered) because `hold` matched their key. */
  readonly held: S3Event[];
  /** Delivers an event to classify as S3 would (it may be a held one, a copy or a forged one). */
  deliver(event: S3Event): void;
  remove(): void;
}

/**
 * Wraps the classify invoker's `submit`, which the stack's S3 notifications call: records each event and holds
 * back those whose key `hold` matches, so a test can act between the event and its processing.
 */
export function tapClassify(harness: Harness, hold: (key: string) => boolean = () => false): EventTap {
  const invoker = harness.stack.invokers.ClassifyLambdaFunction;
  if (!invoker) throw new Error('the stack has no classify invoker');
  const original = invoker.submit.bind(invoker);
  const seen = new Map<string, S3Event[]>();
  const held: S3Event[] = [];
  // A held event settles (for the stack's notification journal) when the test delivers it.
  const release = new Map<S3Event, (settled: Promise<boolean>) => void>();
  invoker.submit = (event: unknown): Promise<boolean> => {
    const key = eventKey(event);
    seen.set(key, [...(seen.get(key) ?? []), event as S3Event]);
    if (!hold(key)) return original(event);
    held.push(event as S3Event);
    return new Promise<boolean>((resolve) => release.set(event as S3Event, (settled) => void settled.then(resolve)));
  };
  return {
    seen,
    held,
    deliver: (event) => {
      const settled = original(event);
      release.get(event)?.(settled);
      release.delete(event);
    },
    remove: () => {
      invoker.submit = original;
    },
  };
}

/** The decoded keys a dead-letter record's event carried. */
export function deadLetterKeys(letter: DeadLetterRecord): string[] {
  const records = (letter.requestPayload as Partial<S3Event> | undefined)?.Records ?? [];
  return records.map((record) => decodeS3Key(record.s3.object.key));
}
