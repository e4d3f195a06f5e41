import { LOCAL_CREDENTIALS } from './credentials.js';
import { startS3Server } from './s3/server.js';
import type { S3Server } from './s3/server.js';
import type { VersioningStatus } from './s3/catalog.js';
import type { ObjectCreated } from './s3/objects.js';

export { LOCAL_CREDENTIALS } from './credentials.js';
export type { ObjectCreated } from './s3/objects.js';
export type { VersioningStatus } from './s3/catalog.js';

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
