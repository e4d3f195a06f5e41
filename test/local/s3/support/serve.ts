/* The local S3 alone on a given port with a versioned bucket `cli-check`, until killed (for .ci/s3-conformance.sh). */
import { startLocalS3 } from '../../../../src/local/s3.js';

const [directory, port] = process.argv.slice(2);
if (!directory || !port) throw new Error('usage: serve.ts <directory> <port>');
const server = await startLocalS3({ port: Number(port), directory, buckets: ['cli-check'], region: 'eu-west-1', onObjectCreated: () => undefined });
console.log(`local S3 on ${server.endpoint}`);
