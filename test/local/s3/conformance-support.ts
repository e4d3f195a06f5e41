import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, startLocalS3 } from '../../../src/local/s3.js';

/**
 * Where the conformance suite runs: our local S3 (default, started here), or any S3 at
 * S3_CONFORMANCE_ENDPOINT (`.ci/run` points it at moto). S3_CONFORMANCE_TARGET names that implementation, so
 * its known deviations from documented S3 can be expected; S3_CONFORMANCE_ANSWERS is a file the normalised
 * answers are written to, for comparing two implementations answer for answer.
 */
export const TARGET = process.env.S3_CONFORMANCE_ENDPOINT ? (process.env.S3_CONFORMANCE_TARGET ?? 'other') : 'local';
export const REGION = 'eu-west-1';

export interface Subject {
  readonly client: S3Client;
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  stop(): Promise<void>;
}

/** A fresh versioned bucket on the implementation under test. */
export async function openSubject(): Promise<Subject> {
  const bucket = `conformance-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const credentials = LOCAL_CREDENTIALS;
  let endpoint = process.env.S3_CONFORMANCE_ENDPOINT;
  let stopServer = (): Promise<void> => Promise.resolve();
  if (endpoint === undefined) {
    const directory = await mkdtemp(join(tmpdir(), 'pneumo-s3-conformance-'));
    const server = await startLocalS3({ port: 0, directory, buckets: [], region: REGION, onObjectCreated: () => undefined });
    endpoint = server.endpoint;
    stopServer = async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    };
  }
  const client = new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true, maxAttempts: 1 });
  await client.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return {
    client,
    endpoint,
    bucket,
    credentials,
    stop: async () => {
      client.destroy();
      await stopServer();
    },
  };
}

/** How a call ended, reduced to what S3 documents: HTTP status and error code (or OK). */
export interface Outcome<T> {
  readonly status: number;
  readonly code: string;
  readonly value?: T;
  readonly error?: S3ServiceException;
}

export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    const value = await call;
    return { status: (value as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 200, code: 'OK', value };
  } catch (error) {
    if (!(error instanceof S3ServiceException)) throw error;
    return { status: error.$metadata.httpStatusCode ?? 0, code: error.name, error };
  }
}

const answers: Record<string, unknown> = {};

/** Notes a normalised answer under `probe` (no ids or times: what two implementations must agree on). */
export function record(probe: string, answer: unknown): void {
  answers[probe] = answer;
}

export async function writeAnswers(): Promise<void> {
  const file = process.env.S3_CONFORMANCE_ANSWERS;
  if (file) await writeFile(file, `${JSON.stringify({ target: TARGET, answers }, null, 2)}\n`);
}

/** Runs `work` over `items`, `limit` at a time. */
export async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
