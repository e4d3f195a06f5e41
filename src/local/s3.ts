import S3rver from 's3rver';
import { removeTornObjects } from './s3-repair.js';
import type { ObjectCreated } from './s3-notifications.js';

/** s3rver accepts only these credentials; every local client uses them (DynamoDB and the emulator accept any). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3 {
  readonly endpoint: string;
  readonly stop: () => Promise<void>;
}

export interface LocalS3Options {
  readonly port: number;
  readonly directory: string;
  readonly buckets: readonly string[];
  readonly onObjectCreated: (object: ObjectCreated) => void;
}

/** s3rver on loopback, its files under `directory` so uploads survive a restart. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  for (const { bucket, key, why } of await removeTornObjects(options.directory, options.buckets)) {
    process.emitWarning(`removed s3://${bucket}/${key}, an upload cut short by a stopped process (${why}); it was never acknowledged`);
  }
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  server.on('event', (event) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      options.onObjectCreated({
        bucket: record.s3.bucket.name,
        key: record.s3.object.key,
        eventName: record.eventName,
        size: record.s3.object.size ?? 0,
        eTag: record.s3.object.eTag,
        versionId: undefined,
      });
    }
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () => server.close(),
  };
}
