/*
 * Child process for the kill-and-restart case (run with `npx tsx`): starts the local stack on an existing data
 * folder and fixed ports, says READY, then uploads images and prints `UPLOADED <key>` after each PUT succeeds,
 * until the parent SIGKILLs it mid-batch. The notifications of `heldInChild` keys are journaled as usual but never
 * handed to classify, as if queued behind a busy function when the process died.
 *
 *   tsx kill-child.ts <dataDir> <template.json> <ports JSON> <count>
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS } from '../../../src/local/s3.js';
import { startLocalStack } from '../../../src/local/stack.js';
import { readTemplate } from '../../../src/local/template.js';
import { batchBodies, batchKey, heldInChild } from './kill-batch.js';
import { eventKey, inPool, PROJECT_DIR, REGION } from './stack.js';

interface Ports {
  readonly s3: number;
  readonly dynamodb: number;
  readonly sfn: number;
  readonly events: number;
  readonly rekognition: number;
}

const [dataDir = '', templatePath = '', portsJson = '{}', countText = '0'] = process.argv.slice(2);
const ports = JSON.parse(portsJson) as Ports;

const stack = await startLocalStack({
  projectDir: PROJECT_DIR,
  dataDir,
  region: REGION,
  ports: { s3: ports.s3, dynamodb: ports.dynamodb, sfn: ports.sfn, events: ports.events },
  rekognition: { port: ports.rekognition, startingDelayMs: 50, stoppingDelayMs: 50 },
  retryDelayMs: 0,
  environmentOverrides: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  template: await readTemplate(templatePath),
});
const classify = stack.invokers.ClassifyLambdaFunction;
if (!classify) throw new Error('the stack has no classify invoker');
const submit = classify.submit.bind(classify);
classify.submit = (event: unknown): Promise<boolean> => (heldInChild(eventKey(event)) ? new Promise<boolean>(() => undefined) : submit(event));
process.stdout.write('READY\n');

const s3 = new S3Client({ region: REGION, credentials: LOCAL_CREDENTIALS, endpoint: stack.endpoints.s3, forcePathStyle: true });
const bodies = await batchBodies();
const keys = Array.from({ length: Number(countText) }, (_, i) => batchKey(i));
await inPool(keys, 16, async (key, i) => {
  await s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: key, Body: bodies[i % bodies.length] }));
  process.stdout.write(`UPLOADED ${key}\n`);
});
process.stdout.write('ALL-UPLOADED\n');
await stack.idle();
process.stdout.write('IDLE\n');
await stack.stop();
