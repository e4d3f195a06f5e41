import { existsSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { removeTornObjects } from '../../src/local/s3-repair.js';
import { LOCAL_CREDENTIALS, startLocalS3 } from '../../src/local/s3.js';
import type { LocalS3 } from '../../src/local/s3.js';

const BUCKET = 'repair-test';
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pneumo-s3-repair-'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(directory, { recursive: true, force: true });
});

async function withS3<T>(use: (client: S3Client) => Promise<T>): Promise<T> {
  const server: LocalS3 = await startLocalS3({ port: 0, directory, buckets: [BUCKET], onObjectCreated: () => undefined });
  const client = new S3Client({ region: 'eu-west-1', credentials: LOCAL_CREDENTIALS, endpoint: server.endpoint, forcePathStyle: true, maxAttempts: 1 });
  try {
    return await use(client);
  } finally {
    client.destroy();
    await server.stop();
  }
}

const file = (key: string, part: 'object' | 'object.md5' | 'metadata.json'): string => join(directory, BUCKET, `${key}._S3rver_${part}`);

describe('removing objects a killed s3rver left half-written', () => {
  it('removes exactly the cut writes, keeps whole and copied objects, and lets listing work again', async () => {
    const body = Buffer.alloc(4096, 7);
    await withS3(async (s3) => {
      for (const key of ['inbox/whole.jpeg', 'inbox/empty-metadata.jpeg', 'inbox/no-metadata.jpeg', 'inbox/short-data.jpeg']) {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      }
      await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'inbox/copied.jpeg', CopySource: `${BUCKET}/inbox/whole.jpeg`, MetadataDirective: 'REPLACE', ContentType: 'image/jpeg' }));
    });
    // s3rver writes a copy's checksum lazily, on its first read: without one an object is still whole.
    await rm(file('inbox/copied.jpeg', 'object.md5'));
    // What a SIGKILL between s3rver's three writes leaves behind.
    await writeFile(file('inbox/empty-metadata.jpeg', 'metadata.json'), '');
    await rm(file('inbox/no-metadata.jpeg', 'metadata.json'));
    await truncate(file('inbox/short-data.jpeg', 'object'), 1000);

    const torn = await removeTornObjects(directory, [BUCKET, 'a-bucket-never-written']);
    expect(torn.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { bucket: BUCKET, key: 'inbox/empty-metadata.jpeg', why: 'metadata file is not JSON' },
      { bucket: BUCKET, key: 'inbox/no-metadata.jpeg', why: 'no metadata file' },
      { bucket: BUCKET, key: 'inbox/short-data.jpeg', why: 'data does not match its checksum' },
    ]);
    expect(existsSync(file('inbox/short-data.jpeg', 'object.md5'))).toBe(false);

    await withS3(async (s3) => {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'inbox/' }));
      expect(listed.Contents?.map((object) => object.Key).sort()).toEqual(['inbox/copied.jpeg', 'inbox/whole.jpeg']);
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inbox/copied.jpeg' }));
      expect(Buffer.from((await Body?.transformToByteArray()) ?? [])).toEqual(body);
    });
  });

  it('runs when the local S3 starts, warning with the key and why', async () => {
    await withS3(async (s3) => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/cut.jpeg', Body: Buffer.alloc(10, 1) }));
    });
    await writeFile(file('inbox/cut.jpeg', 'metadata.json'), '{"content-ty');
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    await withS3(async (s3) => {
      expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount).toBe(0);
    });
    expect(warning).toHaveBeenCalledWith(expect.stringContaining(`removed s3://${BUCKET}/inbox/cut.jpeg, an upload cut short by a stopped process (metadata file is not JSON)`));
  });
});
