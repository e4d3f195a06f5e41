import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { parseWith } from '../lib/schema.js';
import { LOCAL_CREDENTIALS } from '../local/credentials.js';
import { ENDPOINTS_FILE } from '../local/endpoints-file.js';
import { describeError, TargetUnavailableError, UsageError } from './errors.js';

export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where `npm start` / `pneumo local up` keep the local stack's data and its endpoints file by default. */
export const DEFAULT_LOCAL_DIR = join(PROJECT_DIR, '.pneumo-local');

export type StateMachineRole = 'trainAndDeploy' | 'startModel' | 'stopModel';

export interface TargetNames {
  readonly bucket: string;
  readonly resultsTable: string;
  readonly registryTable: string;
  readonly projectName: string | undefined;
  readonly stateMachines: Readonly<Partial<Record<StateMachineRole, string>>>;
  /** The stage's schedules and inference units as the stack describes them; checked where it is used. */
  readonly servingSchedule: unknown;
  /** The stage's review threshold (0–100) as the stack describes it; checked where it is used. */
  readonly reviewThreshold?: unknown;
  /** The stage's positive label as the stack describes it; checked where it is used. */
  readonly positiveLabel?: unknown;
  /** Prefix of the stage's CloudWatch alarm names; the local stack has no CloudWatch. */
  readonly alarmPrefix?: string | undefined;
  /** The CloudFormation stack of a deployed stage. */
  readonly stackName?: string | undefined;
  /** The stage's event bus, and (local stack) the file its events are appended to. */
  readonly eventBus?: string | undefined;
  readonly eventsFile?: string | undefined;
}

export type DeadLetters = { readonly kind: 'sqs'; readonly queueUrl: string } | { readonly kind: 'file'; readonly path: string };

export interface TargetClients {
  readonly s3: S3Client;
  readonly documents: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  readonly rekognition: RekognitionClient;
  readonly sqs: SQSClient;
  readonly cloudWatch: CloudWatchClient;
}

/** Everything a command needs to act on one deployment: names, clients, and how patient to be when polling. */
export interface Target {
  readonly kind: 'aws' | 'local';
  /** For messages: "stage dev (stack pneumo-dev, eu-west-1)" or "local stack (pid 123, /path)". */
  readonly description: string;
  readonly region: string;
  readonly names: TargetNames;
  readonly clients: TargetClients;
  readonly deadLetters: DeadLetters | undefined;
  /** Default pause between polls: AWS calls cost and are slow to change, the local stack answers at once. */
  readonly pollMs: number;
  close(): void;
}

export interface TargetOptions {
  readonly stage?: string | undefined;
  readonly region?: string | undefined;
  readonly local?: boolean | undefined;
  readonly dataDir?: string | undefined;
}

const STAGE = /^[A-Za-z0-9-]{1,64}$/;

export function validateStage(stage: string): string {
  if (!STAGE.test(stage)) throw new UsageError(`--stage must be letters, digits or "-", got "${stage}"`);
  return stage;
}

/** Makes the target's clients with the endpoints given (local) or the SDK's defaults (AWS). */
export function makeClients(config: {
  readonly region: string;
  readonly endpoints?: { readonly s3: string; readonly dynamodb: string; readonly sfn?: string | undefined; readonly rekognition?: string | undefined } | undefined;
}): TargetClients {
  const { region, endpoints } = config;
  const local = endpoints ? { credentials: LOCAL_CREDENTIALS } : {};
  return {
    s3: new S3Client({ region, ...local, ...(endpoints ? { endpoint: endpoints.s3, forcePathStyle: true } : {}) }),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region, ...local, ...(endpoints ? { endpoint: endpoints.dynamodb } : {}) }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sfn: new SFNClient({ region, ...local, ...(endpoints?.sfn ? { endpoint: endpoints.sfn } : {}) }),
    rekognition: new RekognitionClient({ region, ...local, ...(endpoints?.rekognition ? { endpoint: endpoints.rekognition } : {}) }),
    // Locally dead letters are a file; this client is never called there.
    sqs: new SQSClient({ region, ...local }),
    // Likewise: the local stack has no CloudWatch; `pneumo health` derives its alarms there.
    cloudWatch: new CloudWatchClient({ region, ...local }),
  };
}

export function closeClients(clients: TargetClients): void {
  clients.s3.destroy();
  clients.documents.destroy();
  clients.sfn.destroy();
  clients.rekognition.destroy();
  clients.sqs.destroy();
  clients.cloudWatch.destroy();
}

/* ------------------------------------------------------------------ local */

/** The file the running local stack writes (src/local/main.ts). */
/** The fields of the local stack's endpoints file the CLI relies on; the rest passes through. */
const EndpointsFileSchema = z.looseObject({
  pid: z.number(),
  region: z.string(),
  endpoints: z.looseObject({ s3: z.string(), dynamodb: z.string(), rekognition: z.optional(z.string()), sfn: z.optional(z.string()) }),
  names: z.looseObject({
    bucket: z.string(),
    tables: z.record(z.string(), z.string()),
    stateMachines: z.optional(z.record(z.string(), z.string())),
    projectName: z.optional(z.string()),
    servingSchedule: z.optional(z.unknown()),
    reviewThreshold: z.optional(z.unknown()),
    positiveLabel: z.optional(z.unknown()),
    eventBus: z.optional(z.string()),
    eventsFile: z.optional(z.string()),
  }),
  deadLetterFile: z.optional(z.string()),
});

export type EndpointsFile = z.output<typeof EndpointsFileSchema>;

/** Checks the fields the CLI relies on, so a half-written or foreign file is reported, not half-used. */
export function parseEndpointsFile(text: string, path: string): EndpointsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TargetUnavailableError(`${path} is not JSON; restart the local stack (pneumo local up)`);
  }
  return parseWith(EndpointsFileSchema, parsed, () => new TargetUnavailableError(`${path} does not describe a local stack (pid, region, endpoints, names); restart it`));
}

/** True when a process with this id exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The endpoints file of a running local stack in `dataDir`, or why there is none. */
export function readLocalStack(dataDir: string): { readonly file: EndpointsFile; readonly path: string } | { readonly problem: string } {
  const path = join(dataDir, ENDPOINTS_FILE);
  if (!existsSync(path)) return { problem: `no local stack has run in ${dataDir} (no endpoints.json)` };
  const file = parseEndpointsFile(readFileSync(path, 'utf8'), path);
  if (!processAlive(file.pid)) return { problem: `the local stack in ${dataDir} is not running (pid ${file.pid} has exited)` };
  return { file, path };
}

const STATE_MACHINE_IDS: Readonly<Record<StateMachineRole, string>> = {
  trainAndDeploy: 'TrainAndDeployStateMachine',
  startModel: 'StartModelStateMachine',
  stopModel: 'StopModelStateMachine',
};

export function localTarget(file: EndpointsFile, dataDir: string): Target {
  const machines = file.names.stateMachines ?? {};
  const stateMachines: Partial<Record<StateMachineRole, string>> = {};
  for (const [role, id] of Object.entries(STATE_MACHINE_IDS) as [StateMachineRole, string][]) {
    const arn = machines[id];
    if (arn) stateMachines[role] = arn;
  }
  const clients = makeClients({
    region: file.region,
    endpoints: { s3: file.endpoints.s3, dynamodb: file.endpoints.dynamodb, sfn: file.endpoints.sfn, rekognition: file.endpoints.rekognition },
  });
  return {
    kind: 'local',
    description: `local stack (pid ${file.pid}, ${dataDir})`,
    region: file.region,
    names: {
      bucket: file.names.bucket,
      resultsTable: file.names.tables.ResultsTable ?? '',
      registryTable: file.names.tables.RegistryTable ?? '',
      projectName: file.names.projectName,
      stateMachines,
      servingSchedule: file.names.servingSchedule,
      reviewThreshold: file.names.reviewThreshold,
      positiveLabel: file.names.positiveLabel,
      eventBus: file.names.eventBus,
      eventsFile: file.names.eventsFile,
    },
    clients,
    deadLetters: { kind: 'file', path: file.deadLetterFile ?? join(dataDir, 'dead-letters.jsonl') },
    pollMs: 500,
    close: () => { closeClients(clients); },
  };
}

/* ------------------------------------------------------------------ AWS */

export type StackOutputs = Readonly<Record<string, string>>;

const REQUIRED_OUTPUTS = ['BucketName', 'ResultsTableName', 'RegistryTableName'] as const;

export function awsTargetFromOutputs(stage: string, region: string, outputs: StackOutputs, clients: TargetClients): Target {
  const missing = REQUIRED_OUTPUTS.filter((name) => !outputs[name]);
  if (missing.length > 0) {
    throw new TargetUnavailableError(`stack pneumo-${stage} in ${region} has no output(s) ${missing.join(', ')}; is it a pneumo stack, fully deployed?`);
  }
  const stateMachines: Partial<Record<StateMachineRole, string>> = {};
  for (const [role, id] of Object.entries(STATE_MACHINE_IDS) as [StateMachineRole, string][]) {
    const arn = outputs[`${id}Arn`];
    if (arn) stateMachines[role] = arn;
  }
  const queueUrl = outputs.DeadLetterQueueUrl;
  return {
    kind: 'aws',
    description: `stage ${stage} (stack pneumo-${stage}, ${region})`,
    region,
    names: {
      bucket: outputs.BucketName ?? '',
      resultsTable: outputs.ResultsTableName ?? '',
      registryTable: outputs.RegistryTableName ?? '',
      projectName: outputs.ProjectName,
      stateMachines,
      servingSchedule: outputs.ServingSchedule,
      reviewThreshold: outputs.ReviewThreshold,
      positiveLabel: outputs.PositiveLabel,
      alarmPrefix: `pneumo-${stage}-`,
      stackName: `pneumo-${stage}`,
      eventBus: outputs.EventBusName,
    },
    clients,
    deadLetters: queueUrl ? { kind: 'sqs', queueUrl } : undefined,
    pollMs: 5000,
    close: () => { closeClients(clients); },
  };
}

/** The stack's outputs by key; a stack that does not exist is "not deployed", not an SDK error. */
export async function describeStackOutputs(cloudFormation: CloudFormationClient, stage: string, region: string): Promise<StackOutputs> {
  const stackName = `pneumo-${stage}`;
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (!stack) throw new TargetUnavailableError(`stack ${stackName} is not deployed in ${region}`);
    return Object.fromEntries((stack.Outputs ?? []).flatMap((output) => (output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue]] : [])));
  } catch (error) {
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message)) {
      throw new TargetUnavailableError(`stack ${stackName} is not deployed in ${region}`);
    }
    throw error;
  }
}

async function awsTarget(stage: string, regionOption: string | undefined): Promise<Target> {
  const cloudFormation = new CloudFormationClient(regionOption ? { region: regionOption } : {});
  try {
    // The SDK resolves the region from the environment or the profile when --region is not given.
    let region: string;
    try {
      region = await cloudFormation.config.region();
    } catch {
      throw new TargetUnavailableError('no AWS region: pass --region or set AWS_REGION (or use --local)');
    }
    const outputs = await describeStackOutputs(cloudFormation, stage, region);
    return awsTargetFromOutputs(stage, region, outputs, makeClients({ region }));
  } finally {
    cloudFormation.destroy();
  }
}

/**
 * Picks the target: `--local`/`--data-dir` → that local stack; `--stage`/`--region` → AWS; neither → the local
 * stack of this folder if one is running, else AWS stage `dev`. An explicit choice never falls back to another.
 */
export async function resolveTarget(options: TargetOptions, defaultLocalDir: string = DEFAULT_LOCAL_DIR): Promise<Target> {
  const wantsLocal = options.local === true || options.dataDir !== undefined;
  if (wantsLocal && (options.stage !== undefined || options.region !== undefined)) {
    throw new UsageError('--local/--data-dir and --stage/--region choose different targets; give one or the other');
  }
  const localDir = resolve(options.dataDir ?? defaultLocalDir);
  if (wantsLocal) {
    const found = readLocalStack(localDir);
    if ('problem' in found) throw new TargetUnavailableError(`${found.problem}; start it with \`pneumo local up\` (or npm start)`);
    return localTarget(found.file, localDir);
  }
  let staleLocal: string | undefined;
  if (options.stage === undefined && options.region === undefined) {
    const found = readLocalStack(localDir);
    if ('file' in found) return localTarget(found.file, localDir);
    if (existsSync(join(localDir, ENDPOINTS_FILE))) staleLocal = found.problem;
  }
  try {
    return await awsTarget(validateStage(options.stage ?? 'dev'), options.region);
  } catch (error) {
    // Someone who ran the local stack before most likely meant it, not AWS: say why it was not used.
    if (staleLocal !== undefined && (error instanceof TargetUnavailableError || (error instanceof Error && error.name === 'CredentialsProviderError'))) {
      throw new TargetUnavailableError(`${describeError(error).message} (trying AWS stage dev because ${staleLocal}: start it with \`pneumo local up\`)`, { cause: error });
    }
    throw error;
  }
}

/** The ARN of one of the stack's state machines, or a clear "this target has none". */
export function stateMachineArn(target: Target, role: StateMachineRole): string {
  const arn = target.names.stateMachines[role];
  if (!arn) {
    throw new TargetUnavailableError(
      target.kind === 'local'
        ? `this local stack does not serve the ${STATE_MACHINE_IDS[role]} state machine (restart it with a version of pneumo that does)`
        : `the stack has no ${STATE_MACHINE_IDS[role]}Arn output; redeploy it`,
    );
  }
  return arn;
}

export function projectName(target: Target): string {
  const name = target.names.projectName;
  if (!name) throw new TargetUnavailableError('the target does not name its Rekognition project (ProjectName output)');
  return name;
}
