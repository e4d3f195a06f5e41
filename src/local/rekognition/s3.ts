import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

export class S3ReadError extends Error {
  constructor(
    message: string,
    /** The object (or bucket) does not exist, as opposed to a transport or service fault. */
    readonly missing: boolean,
  ) {
    super(message);
    this.name = 'S3ReadError';
  }
}

const MISSING = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchVersion', 'InvalidArgument']);

/** Reads a whole object; refuses (without reading the body) objects larger than `maxBytes`. */
export async function readObject(s3: S3Client, bucket: string, key: string, options: { versionId?: string; maxBytes?: number } = {}): Promise<Uint8Array> {
  let response;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: options.versionId }));
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    throw new S3ReadError(`s3://${bucket}/${key}: ${name}`, MISSING.has(name) || status === 404);
  }
  const body = response.Body;
  if (!body) throw new S3ReadError(`s3://${bucket}/${key}: empty body`, true);
  if (options.maxBytes !== undefined && (response.ContentLength ?? 0) > options.maxBytes) {
    (body as { destroy?: () => void }).destroy?.();
    throw new TooLargeError(response.ContentLength ?? 0);
  }
  return body.transformToByteArray();
}

export class TooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`object is ${bytes} bytes`);
    this.name = 'TooLargeError';
  }
}

export async function writeJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value, null, 2), ContentType: 'application/json' }));
}
