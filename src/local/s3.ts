import { startS3Server } from './s3/server.js';
import type { S3Server } from './s3/server.js';
import type { VersioningStatus } from './s3/catalog.js';
import type { ObjectCreated } from './s3/objects.js';

export type { ObjectCreated } from './s3/objects.js';
export type { VersioningStatus } from './s3/catalog.js';

/**
 * The local stack's credentials (S3RVER/S3RVER, what the stack has always used, so existing shells and scripts
 * keep working). The local S3 refuses any other access key; DynamoDB and the emulator accept any.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export type LocalS3 = S3Server;

export interface LocalS3Options {
  readonly port: number;
  readonly directory: string;
  /** Bucket names (versioned, as the deployed bucket is) or names with their versioning status. */
  readonly buckets: readonly (string | { readonly name: string; readonly versioning: VersioningStatus })[];
  readonly region?: string;
  readonly onObjectCreated: (object: ObjectCreated) => void;
}

/** Our S3 stand-in (src/local/s3/) on loopback, its object log and bytes under `directory`. */
export function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  return startS3Server({
    port: options.port,
    directory: options.directory,
    buckets: options.buckets.map((bucket) => (typeof bucket === 'string' ? { name: bucket, versioning: 'Enabled' } : bucket)),
    credentials: [LOCAL_CREDENTIALS],
    region: options.region ?? 'us-east-1',
    onObjectCreated: options.onObjectCreated,
  });
}
