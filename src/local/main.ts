import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, paginateGetExecutionHistory, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_POSITIVE_LABEL } from '../lib/config.js';
import type { ImageOutcome } from '../lib/image-outcome.js';
import { ACTIVE_MODEL_ID, RegistryTable } from '../lib/tables/registry.js';
import { ResultsTable } from '../lib/tables/results.js';
import { summarize, uploadLabelledFolder } from './demo.js';
import { writeEndpointsFile } from './endpoints-file.js';
import { nextSteps } from './next-steps.js';
import type { ResultForSummary } from './demo.js';
import { LOCAL_CREDENTIALS } from './s3.js';
import { startLocalStack } from './stack.js';
import type { LocalStack } from './stack.js';

const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SAMPLE_DIR = join(PROJECT_DIR, 'src/local/sample');
const REGION = 'eu-west-1';
const TRAIN_AND_DEPLOY = 'TrainAndDeployStateMachine';

const USAGE = `npm start [-- --once] [--data-dir DIR] [--s3-port N] [--dynamodb-port N] [--rekognition-port N] [--sfn-port N] [--events-port N] [--retrain] [--model-start-seconds N]

Runs pneumo on this machine: S3 (our local S3), DynamoDB (dynalite), a Rekognition Custom Labels emulator, the
production Lambda handlers and state machines. Trains on the bundled sample (once; later runs reuse the model),
classifies the bundled inbox sample, prints a summary, then keeps running for your uploads until Ctrl-C.

  --once               exit after the summary (exit code 1 if training failed or an image got no result)
  --verbose            show the handlers' JSON logs and EMF metrics
  --retrain            train a new model version even if one is active
  --data-dir DIR       where objects, tables and models are kept (default .pneumo-local)
  --model-start-seconds N  how long the emulator takes to start a model (default 1.5; Rekognition takes minutes)
  --*-port N           fixed ports (default 4569 S3, 4570 DynamoDB, 4571 Rekognition, 4572 Step Functions, 4573 EventBridge;
                       0 = any free port)`;

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new Error(`--${name} must be a port number, got "${value}"`);
  return parsed;
}

interface Options {
  readonly once: boolean;
  readonly retrain: boolean;
  readonly verbose: boolean;
  readonly dataDir: string;
  readonly modelStartMs: number;
  readonly ports: { readonly s3: number; readonly dynamodb: number; readonly rekognition: number; readonly sfn: number; readonly events: number };
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      once: { type: 'boolean', default: false },
      retrain: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      's3-port': { type: 'string' },
      'dynamodb-port': { type: 'string' },
      'rekognition-port': { type: 'string' },
      'sfn-port': { type: 'string' },
      'events-port': { type: 'string' },
      'model-start-seconds': { type: 'string', default: '1.5' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const startSeconds = Number(values['model-start-seconds']);
  if (!Number.isFinite(startSeconds) || startSeconds < 0 || startSeconds > 3600) throw new Error(`--model-start-seconds must be a number from 0 to 3600, got "${values['model-start-seconds']}"`);
  return {
    modelStartMs: startSeconds * 1000,
    once: values.once,
    retrain: values.retrain,
    verbose: values.verbose,
    dataDir: resolve(values['data-dir'] ?? join(PROJECT_DIR, '.pneumo-local')),
    ports: {
      s3: port(values['s3-port'], 's3-port', 4569),
      dynamodb: port(values['dynamodb-port'], 'dynamodb-port', 4570),
      rekognition: port(values['rekognition-port'], 'rekognition-port', 4571),
      sfn: port(values['sfn-port'], 'sfn-port', 4572),
      events: port(values['events-port'], 'events-port', 4573),
    },
  };
}

function formatOutcome(outcome: ImageOutcome): string | undefined {
  if (outcome.kind !== 'written' && outcome.kind !== 'kept-newer') return undefined;
  const { row } = outcome;
  const verdict = row.label ? `${row.label} ${row.confidence?.toFixed(1) ?? '?'}%` : (row.reason ?? '');
  return `  ${row.status.padEnd(12)} ${verdict.padEnd(24)} ${row.imageKey}`;
}

async function activeModel(documents: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown> | undefined> {
  return new RegistryTable(documents, table).get(ACTIVE_MODEL_ID);
}

/** Starts the retrain the way a user would on AWS (StartExecution) and shows each state as it is entered. */
async function train(stack: LocalStack, s3: S3Client): Promise<boolean> {
  const uploaded = await uploadLabelledFolder(s3, stack.names.bucket, join(SAMPLE_DIR, 'training'), 'training/', true);
  console.log(`Uploaded ${uploaded.length} training images to s3://${stack.names.bucket}/training/<LABEL>/`);
  const stateMachineArn = stack.names.stateMachines[TRAIN_AND_DEPLOY];
  if (!stateMachineArn) throw new Error(`the template has no ${TRAIN_AND_DEPLOY}`);
  const versionName = `local-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..+$/, '').replace('T', '-')}`;
  const sfn = new SFNClient({ endpoint: stack.endpoints.sfn, region: REGION, credentials: LOCAL_CREDENTIALS });
  const started = Date.now();
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: `train-${versionName}`, input: JSON.stringify({ versionName }) }));
  console.log(`Training model version ${versionName}: ${String(executionArn)}`);
  // Each execution's last event shown; the executions its Tasks start (start-model) are followed too.
  const followed = new Map<string, { readonly prefix: string; lastId: number }>([[executionArn ?? '', { prefix: '', lastId: 0 }]]);
  let polling = Promise.resolve();
  const poll = async (): Promise<void> => {
    const entered: { readonly at: number; readonly line: string }[] = [];
    for (const [arn, position] of followed) {
      let state = '';
      for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 1000 }, { executionArn: arn })) {
        for (const event of page.events ?? []) {
          state = event.stateEnteredEventDetails?.name ?? state;
          if ((event.id ?? 0) <= position.lastId) continue;
          position.lastId = event.id ?? position.lastId;
          const at = event.timestamp?.getTime() ?? Date.now();
          if (event.stateEnteredEventDetails?.name) entered.push({ at, line: `  ${((at - started) / 1000).toFixed(1).padStart(6)} s  ${position.prefix}${state}` });
          const nested = event.taskSubmittedEventDetails?.resource?.startsWith('startExecution.sync') ? (JSON.parse(event.taskSubmittedEventDetails.output ?? '{}') as { ExecutionArn?: string }).ExecutionArn : undefined;
          if (nested && !followed.has(nested)) followed.set(nested, { prefix: `${position.prefix}${state} › `, lastId: 0 });
        }
      }
    }
    // Parent and nested execution interleaved as they ran.
    for (const { line } of entered.sort((a, b) => a.at - b.at)) console.log(line);
  };
  // One poll at a time, so that no event is shown twice.
  const showProgress = (): Promise<void> => (polling = polling.then(poll));
  const progress = setInterval(() => void showProgress(), 500);
  try {
    await stack.idle();
  } finally {
    clearInterval(progress);
  }
  await showProgress();
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  sfn.destroy();
  if (execution.status !== 'SUCCEEDED') {
    console.error(`Training ${String(execution.status)}: ${String(execution.error)}: ${String(execution.cause)}`);
    return false;
  }
  console.log(`Trained and deployed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  await mkdir(options.dataDir, { recursive: true });
  console.log(`Starting the local stack (data in ${options.dataDir})…`);
  const stack = await startLocalStack({
    projectDir: PROJECT_DIR,
    dataDir: options.dataDir,
    region: REGION,
    ports: { s3: options.ports.s3, dynamodb: options.ports.dynamodb, sfn: options.ports.sfn, events: options.ports.events },
    rekognition: { port: options.ports.rekognition, startingDelayMs: options.modelStartMs },
    retryDelayMs: 1000,
    // The serving check (idle stop after 30 s on the local stage, starts for waiting images), in place of the Scheduler.
    rateSchedules: { intervalMs: 5000 },
    // The daily stop at 19:00 (scheduleTimeZone) and the daily start when a stage turns it on, as deployed.
    cronSchedules: {},
    // The results are printed below; the handlers' JSON logs and EMF lines are for CloudWatch.
    ...(options.verbose ? {} : { environmentOverrides: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' } }),
    onInvocation: (_function, result) => {
      for (const outcome of Array.isArray(result) ? (result as ImageOutcome[]) : []) {
        const line = formatOutcome(outcome);
        if (line) console.log(line);
      }
    },
  });
  await writeEndpointsFile(stack, options.dataDir, REGION);

  const s3 = new S3Client({ endpoint: stack.endpoints.s3, region: REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: REGION, credentials: LOCAL_CREDENTIALS }));
  const registryTable = stack.names.tables.RegistryTable ?? '';
  let exitCode = 0;

  const existing = await activeModel(documents, registryTable);
  if (existing && !options.retrain) {
    console.log(`Reusing model ${JSON.stringify(existing.versionName ?? existing.projectVersionArn)} (use --retrain for a new one)`);
  } else if (!(await train(stack, s3))) {
    exitCode = 1;
  }

  console.log('Uploading the inbox sample; results as they land:');
  const uploaded = await uploadLabelledFolder(s3, stack.names.bucket, join(SAMPLE_DIR, 'inbox'), 'inbox/sample/', false);
  await stack.idle();
  const resultsTable = new ResultsTable(documents, stack.names.tables.ResultsTable ?? '');
  const results: ResultForSummary[] = await Promise.all(
    uploaded.map(async (image) => {
      const Item = await resultsTable.get(image.key);
      return { key: image.key, truth: image.label, status: Item?.status as string | undefined, label: Item?.label as string | undefined };
    }),
  );
  const summary = summarize(results, DEFAULT_POSITIVE_LABEL);
  const model = await activeModel(documents, registryTable);
  console.log(`
Summary of ${summary.total} sample images (not a diagnosis: a screening aid for clinical review)
  by status: ${JSON.stringify(summary.byStatus)}
  by label:  ${JSON.stringify(summary.byLabel)}
  against the known labels (${summary.labelled} labelled): accuracy ${summary.accuracy.toFixed(3)}, F1 ${summary.f1.toFixed(3)}, sensitivity ${summary.sensitivity.toFixed(3)}, specificity ${summary.specificity.toFixed(3)}
  model: ${typeof model?.versionName === 'string' ? model.versionName : 'none'}, evaluation F1 ${typeof model?.f1 === 'number' ? model.f1.toFixed(3) : 'n/a'}`);
  if (summary.labelled < summary.total) exitCode = 1;
  console.log(nextSteps(stack, REGION));

  if (!options.once) {
    console.log('\nRunning; upload to the inbox to classify more. Ctrl-C stops.');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    console.log('Stopping (finishing work in progress)…');
  }
  s3.destroy();
  documents.destroy();
  await stack.stop();
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exitCode = 1;
  },
);
