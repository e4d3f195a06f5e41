import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOCAL_CREDENTIALS, startLocalS3 } from '../../../src/local/s3.js';
import type { LocalS3 } from '../../../src/local/s3.js';
import { bodyFor, DURABILITY_BUCKET } from './support/bodies.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pneumo-s3-durable-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(directory, { recursive: true, force: true });
});

async function withS3<T>(use: (s3: S3Client, server: LocalS3) => Promise<T>): Promise<T> {
  const server = await startLocalS3({ port: 0, directory, buckets: [DURABILITY_BUCKET], onObjectCreated: () => undefined });
  const s3 = new S3Client({ endpoint: server.endpoint, region: 'eu-west-1', credentials: LOCAL_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
  try {
    return await use(s3, server);
  } finally {
    s3.destroy();
    await server.stop();
  }
}

async function read(s3: S3Client, key: string): Promise<Buffer | string> {
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: DURABILITY_BUCKET, Key: key }));
    return Buffer.from((await Body?.transformToByteArray()) ?? []);
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

describe('crash safety of the local S3', () => {
  it('after a SIGKILL mid-upload every acknowledged PUT reads back whole and nothing reads torn', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'support/upload-child.ts'), directory], { stdio: ['ignore', 'pipe', 'ignore'] });
    const acknowledged: string[] = [];
    let buffered = '';
    await new Promise<void>((done, fail) => {
      child.on('exit', () => {
        done();
      });
      child.on('error', fail);
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('ack ')) acknowledged.push(line.slice(4));
        // Killed while eight uploads are in flight, some of them part-way through their bytes or their log line.
        if (acknowledged.length >= 40 && !child.killed) child.kill('SIGKILL');
      });
    });
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((warning) => {
      warnings.push(String(warning));
    });
    await withS3(async (s3) => {
      for (const key of acknowledged) expect(await read(s3, key), key).toEqual(bodyFor(key));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: DURABILITY_BUCKET, Prefix: 'kill/' }));
      const keys = (listed.Contents ?? []).map((object) => object.Key ?? '');
      expect(keys).toEqual(expect.arrayContaining(acknowledged));
      // What is stored beyond the acknowledged (committed, answer lost to the kill) is whole too.
      for (const key of keys) expect(await read(s3, key), key).toEqual(bodyFor(key));
      // Each cut-short upload is named, and is not listed.
      for (const warning of warnings.filter((text) => text.startsWith('removed s3://'))) {
        expect(warning).toMatch(/^removed s3:\/\/durable\/kill\/\d{6}\.bin, an upload cut short by a stopped process; it was never acknowledged$/);
        expect(keys).not.toContain(/durable\/(\S+),/.exec(warning)?.[1]);
      }
    });
  }, 120_000);

  it('a restart drops a half-written log line, stray incoming bytes and unreferenced blobs, and serves on', async () => {
    await withS3(async (s3) => {
      await s3.send(new PutObjectCommand({ Bucket: DURABILITY_BUCKET, Key: 'inbox/kept.jpeg', Body: 'kept' }));
    });
    // What a kill leaves: an upload begun and never committed, its bytes in incoming/, an orphan blob, and a
    // log line cut in the middle.
    const log = join(directory, 'objects.jsonl');
    appendFileSync(log, `${JSON.stringify({ op: 'begin', bucket: DURABILITY_BUCKET, key: 'inbox/cut.jpeg', blob: 'ab'.repeat(16) })}\n`);
    appendFileSync(log, '{"op":"put","bucket":"durable","key":"inbox/half');
    writeFileSync(join(directory, 'incoming', 'ab'.repeat(16)), 'partial bytes');
    mkdirSync(join(directory, 'blobs', 'cd'), { recursive: true });
    writeFileSync(join(directory, 'blobs', 'cd', 'cd'.repeat(16)), 'orphan');
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((warning) => {
      warnings.push(String(warning));
    });
    await withS3(async (s3) => {
      expect(await read(s3, 'inbox/kept.jpeg')).toEqual(Buffer.from('kept'));
      expect(await read(s3, 'inbox/cut.jpeg')).toBe('NoSuchKey');
      expect((await s3.send(new ListObjectsV2Command({ Bucket: DURABILITY_BUCKET }))).Contents?.map((object) => object.Key)).toEqual(['inbox/kept.jpeg']);
      await s3.send(new PutObjectCommand({ Bucket: DURABILITY_BUCKET, Key: 'inbox/after.jpeg', Body: 'after' }));
    });
    expect(warnings).toContain('removed s3://durable/inbox/cut.jpeg, an upload cut short by a stopped process; it was never acknowledged');
    expect(warnings.some((warning) => warning.includes('dropped an incomplete last line'))).toBe(true);
    expect(existsSync(join(directory, 'incoming', 'ab'.repeat(16)))).toBe(false);
    expect(existsSync(join(directory, 'blobs', 'cd', 'cd'.repeat(16)))).toBe(false);
    // The compacted log carries no trace of the cut upload into the next start.
    warnings.length = 0;
    await withS3(async (s3) => {
      expect(await read(s3, 'inbox/after.jpeg')).toEqual(Buffer.from('after'));
    });
    expect(warnings.filter((warning) => warning.startsWith('removed'))).toEqual([]);
  });

  it('a damaged log (a complete line that is not JSON) stops the start with the file and line named', async () => {
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, 'objects.jsonl'), '{"op":"bucket","bucket":"durable","createdAt":1,"versioning":"Enabled"}\nnot json\n');
    await expect(startLocalS3({ port: 0, directory, buckets: [DURABILITY_BUCKET], onObjectCreated: () => undefined })).rejects.toThrow(/objects\.jsonl:2 is not JSON/);
  });
});
