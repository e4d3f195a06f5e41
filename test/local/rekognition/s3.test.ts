import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { readObject, S3ReadError, TooLargeError } from '../../../src/local/rekognition/s3.js';

/* How S3 failures are classified: the emulator answers InvalidS3ObjectException for missing/denied, 500 otherwise. */

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });

afterEach(() => {
  s3.reset();
});

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
}

function body(bytes: Uint8Array, length = bytes.length): GetObjectCommandOutput {
  let destroyed = false;
  return {
    $metadata: {},
    ContentLength: length,
    Body: {
      transformToByteArray: () => Promise.resolve(bytes),
      destroy: () => {
        destroyed = true;
      },
      get destroyed() {
        return destroyed;
      },
    } as unknown as GetObjectCommandOutput['Body'],
  };
}

describe('readObject', () => {
  it('returns the bytes and passes the version id through', async () => {
    s3.on(GetObjectCommand, { Bucket: 'b', Key: 'k', VersionId: 'v1' }).resolves(body(Uint8Array.from([1, 2, 3])));
    await expect(readObject(client, 'b', 'k', { versionId: 'v1' })).resolves.toEqual(Uint8Array.from([1, 2, 3]));
  });

  it.each([
    ['NoSuchKey', 404, 'missing'],
    ['NoSuchBucket', 404, 'missing'],
    ['NotFound', 404, 'missing'],
    ['AccessDenied', 403, 'denied'],
    ['InternalError', 500, 'fault'],
    ['SlowDown', 503, 'fault'],
  ] as const)('classifies %s (%d) as %s', async (name, status, kind) => {
    s3.on(GetObjectCommand).rejects(s3Error(name, status));
    const error = await readObject(client, 'b', 'k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3ReadError);
    expect((error as S3ReadError).kind).toBe(kind);
  });

  it('refuses objects over the limit without reading them', async () => {
    s3.on(GetObjectCommand).resolves(body(new Uint8Array(1), 16 * 1024 * 1024));
    await expect(readObject(client, 'b', 'k', { maxBytes: 15 * 1024 * 1024 })).rejects.toBeInstanceOf(TooLargeError);
  });
});
