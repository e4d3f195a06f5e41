import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

export class S3ReadError extends Error {
  constructor(
    message: string,
    /**
     * missing: the object, version or bucket does not exist; denied: S3 refused access (the service reports both
     * as InvalidS3ObjectException); fault: anything else (network, 5xx), worth a retry.
     */
    readonly kind: 'missing' | 'denied' | 'fault',
  ) {
    super(message);
    this.name = 'S3ReadError';
  }
}

const MISSING = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchVersion', 'InvalidArgument']);
const DENIED = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);

function kindOf(error: unknown): S3ReadError['kind'] {
  const name = error instanceof Error ? error.name : '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (MISSING.has(name) || status === 404) return 'missing';
  if (DENIED.has(name) || status === 403) return 'denied';
  return 'fault';
}

/** Reads a whole object; refuses (without reading the body) objects larger than `maxBytes`. */
export async function readObject(s3: S3Client, bucket: string, key: string, options: { versionId?: string; maxBytes?: number } = {}): Promise<Uint8Array> {
  let response;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: options.versionId }));
  } catch (error) {
    throw new S3ReadError(`s3://${bucket}/${key}: ${error instanceof Error ? error.name : String(error)}`, kindOf(error));
  }
  const body = response.Body;
  if (!body) throw new S3ReadError(`s3://${bucket}/${key}: empty body`, 'missing');
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
