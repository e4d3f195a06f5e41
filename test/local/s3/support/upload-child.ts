/* A local S3 in its own process that uploads until it is killed, printing each key once its PUT is answered. */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, startLocalS3 } from '../../../../src/local/s3.js';
import { bodyFor, DURABILITY_BUCKET } from './bodies.js';

const directory = process.argv[2];
if (!directory) throw new Error('usage: upload-child.ts <directory>');
const server = await startLocalS3({ port: 0, directory, buckets: [DURABILITY_BUCKET], onObjectCreated: () => undefined });
const s3 = new S3Client({ endpoint: server.endpoint, region: 'eu-west-1', credentials: LOCAL_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (;;) {
      const key = `kill/${String(next++).padStart(6, '0')}.bin`;
      await s3.send(new PutObjectCommand({ Bucket: DURABILITY_BUCKET, Key: key, Body: bodyFor(key) }));
      process.stdout.write(`ack ${key}\n`);
    }
  }),
);
