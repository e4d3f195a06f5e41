import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import dynalite from 'dynalite';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { startRekognitionEmulator } from './rekognition/index.js';
import type { RekognitionEmulator, RekognitionEmulatorOptions } from './rekognition/index.js';
import { runLocally, substituteDefinition } from './sfn-runner.js';
import { startLocalSfn } from './sfn-server.js';
import type { LocalExecution, LocalFunction } from './sfn-runner.js';
import { parseServingSchedule } from '../lib/cost.js';
import type { ServingSchedule } from '../lib/cost.js';
import type { AwsService, Env, Runtime } from '../lib/composition.js';
import { FUNCTION_BUILDERS } from '../lib/functions/index.js';
import { AsyncInvoker } from './invoker.js';
import { listenOnLoopback } from './listen.js';
import { localRuntime } from './runtime.js';
import type { LambdaHandler } from './invoker.js';
import { LOCAL_CREDENTIALS, startLocalS3 } from './s3.js';
import type { ObjectCreated, VersioningStatus } from './s3.js';
import { notificationRecord, notificationRules, ruleMatches, SequencerClock, singleRecordEvent } from './s3-notifications.js';
import { NotificationJournal } from './notification-journal.js';
import type { JournalEntry } from './notification-journal.js';
import { ensureTables, tableDefinitions } from './tables.js';
import { EVENTS_FILE, EventLog } from './events/event-log.js';
import { startLocalEventBridge } from './events/eventbridge-server.js';
import { attachResultPipes, streamPipes } from './events/result-pipes.js';
import { startTemplateCronSchedules } from './cron-schedules.js';
import type { ScheduleClock } from './cron-schedules.js';
import { packageTemplate, resolveIntrinsics, resourcesOfType, TemplateError } from './template.js';
import type { CfnTemplate } from './template.js';

export const LOCAL_ACCOUNT_ID = '000000000000';

export interface LocalStackOptions {
  readonly projectDir: string;
  /** Everything the stack keeps (objects, tables, models, dead letters) lives here. */
  readonly dataDir: string;
  readonly region: string;
  /** 0 picks a free port. */
  readonly ports: { readonly s3: number; readonly dynamodb: number; readonly sfn: number; readonly events?: number };
  /** Settings of the Rekognition Custom Labels emulator the stack starts (port 0 = free port). */
  readonly rekognition?: Omit<RekognitionEmulatorOptions, 's3' | 'dataDir' | 'region' | 'accountId'>;
  /** Pause before a failed invocation is retried. */
  readonly retryDelayMs: number;
  /** Applied over every function's template environment (e.g. quieter logs for a demo). */
  readonly environmentOverrides?: Readonly<Record<string, string>>;
  /** Called with each successful notification-driven invocation's result (classify returns its outcomes). */
  readonly onInvocation?: (functionLogicalId: string, result: unknown) => void;
  /** A template already packaged (tests reuse one); packaged from serverless.yml when absent. */
  readonly template?: CfnTemplate;
  /**
   * Runs the template's `rate(...)` schedules that invoke a function (the serving check) every `intervalMs`, in
   * place of EventBridge Scheduler, whose rates start at a minute. Off when absent, so a test's model is never
   * stopped behind its back.
   */
  readonly rateSchedules?: { readonly intervalMs: number };
  /**
   * Runs the template's cron schedules (the daily stop, the optional daily start) on the wall clock of their zone,
   * as EventBridge Scheduler does (src/local/cron-schedules.ts). Off when absent, like the rate schedules.
   */
  readonly cronSchedules?: { readonly clock?: ScheduleClock };
}

export interface LocalStack {
  readonly endpoints: { readonly s3: string; readonly dynamodb: string; readonly rekognition: string; readonly sfn: string; readonly events: string };
  readonly names: {
    readonly bucket: string;
    /** The stage's event bus and the file the local one appends its events to (`pneumo watch --events`). */
    readonly eventBus: string | undefined;
    readonly eventsFile: string;
    readonly tables: Readonly<Record<string, string>>;
    /** ARNs by logical id, as StartExecution on the `sfn` endpoint takes them. */
    readonly stateMachines: Readonly<Record<string, string>>;
    readonly projectName: string | undefined;
    /** The stage's schedules and inference units (the stack's `ServingSchedule` output), for cost estimates. */
    readonly servingSchedule: ServingSchedule | undefined;
    /** Top-label confidence below which classify answers NEEDS_REVIEW (the stack's `ReviewThreshold` output). */
    readonly reviewThreshold: number | undefined;
    /** The label the gate checks and the review worklist orders first (the stack's `PositiveLabel` output). */
    readonly positiveLabel: string | undefined;
  };
  readonly invokers: Readonly<Record<string, AsyncInvoker>>;
  /** Each function's own runtime by logical id: its clients, logger and metrics, as its container would have them. */
  readonly runtimes: Readonly<Record<string, Runtime>>;
  readonly emulator: RekognitionEmulator;
  readonly deadLetterFile: string;
  /** State machines of the template by logical id, with their substitutions filled for this stack. */
  readonly stateMachines: Readonly<Record<string, StateMachineDefinition>>;
  /** Runs one of them to the end, Lambda Tasks on the production handlers, SDK Tasks on the emulator. */
  readonly runStateMachine: (logicalId: string, input: unknown, executionName?: string) => Promise<LocalExecution>;
  /** Resolves when every notification so far has been handled (stored or dead-lettered) and no execution runs. */
  readonly idle: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

function literalName(template: CfnTemplate, type: string, property: string): [string, string][] {
  return resourcesOfType(template, type).map(([logicalId, resource]) => {
    const name = resource.Properties?.[property];
    if (typeof name !== 'string') throw new TemplateError(`${logicalId} needs a literal ${property} for the local stack`);
    return [logicalId, name];
  });
}

/** Buckets with a literal name; the framework's deployment bucket has none and has no local role. */
function localBuckets(template: CfnTemplate): [string, string][] {
  return resourcesOfType(template, 'AWS::S3::Bucket').flatMap(([logicalId, resource]): [string, string][] => {
    const name = resource.Properties?.BucketName;
    return typeof name === 'string' ? [[logicalId, name]] : [];
  });
}

/** A bucket's versioning as the template deploys it (the inbox bucket is versioned; classify relies on it). */
function versioningOf(template: CfnTemplate, logicalId: string): VersioningStatus {
  const status = (template.Resources[logicalId]?.Properties?.VersioningConfiguration as { Status?: unknown } | undefined)?.Status;
  return status === 'Enabled' || status === 'Suspended' ? status : 'Unversioned';
}

/** Names the template's intrinsics may refer to, as they exist locally. */
function localNames(template: CfnTemplate, region: string): Record<string, string> {
  const names: Record<string, string> = { 'AWS::Region': region, 'AWS::AccountId': LOCAL_ACCOUNT_ID, 'AWS::Partition': 'aws' };
  for (const [id, name] of literalName(template, 'AWS::DynamoDB::Table', 'TableName')) {
    names[id] = name;
    names[`${id}.Arn`] = `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${name}`;
  }
  for (const [id, resource] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const name = typeof resource.Properties?.FunctionName === 'string' ? resource.Properties.FunctionName : id;
    names[id] = name;
    names[`${id}.Arn`] = `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}`;
  }
  for (const [id, resource] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
    const name = typeof resource.Properties?.StateMachineName === 'string' ? resource.Properties.StateMachineName : id;
    names[id] = `arn:aws:states:${region}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;
    names[`${id}.Arn`] = names[id];
    names[`${id}.Name`] = name;
  }
  for (const [id, resource] of resourcesOfType(template, 'AWS::SQS::Queue')) {
    const name = typeof resource.Properties?.QueueName === 'string' ? resource.Properties.QueueName : id;
    names[id] = `http://127.0.0.1/${LOCAL_ACCOUNT_ID}/${name}`;
    names[`${id}.Arn`] = `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${name}`;
    names[`${id}.QueueName`] = name;
  }
  for (const [id, resource] of resourcesOfType(template, 'AWS::IAM::Role')) {
    const name = typeof resource.Properties?.RoleName === 'string' ? resource.Properties.RoleName : id;
    names[`${id}.Arn`] = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${name}`;
  }
  for (const [id] of resourcesOfType(template, 'AWS::KMS::Key')) {
    names[id] = 'local-key';
    names[`${id}.Arn`] = `arn:aws:kms:${region}:${LOCAL_ACCOUNT_ID}:key/local-key`;
  }
  for (const [id, resource] of resourcesOfType(template, 'AWS::Events::EventBus')) {
    const name = typeof resource.Properties?.Name === 'string' ? resource.Properties.Name : id;
    names[id] = name;
    names[`${id}.Arn`] = `arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:event-bus/${name}`;
    names[`${id}.Name`] = name;
  }
  for (const [id, name] of localBuckets(template)) {
    names[id] = name;
    names[`${id}.Arn`] = `arn:aws:s3:::${name}`;
  }
  return names;
}

/** The function's asynchronous-invocation retries as deployed (Lambda's default is 2). */
function maximumRetryAttempts(template: CfnTemplate, functionLogicalId: string): number {
  const config = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').find(
    ([, resource]) => (resource.Properties?.FunctionName as { Ref?: unknown } | undefined)?.Ref === functionLogicalId,
  );
  const attempts = config?.[1].Properties?.MaximumRetryAttempts;
  return typeof attempts === 'number' ? attempts : 2;
}

/** The function the template's `Handler` names, built by the same builder its src/handlers file uses. */
function buildHandler(handlerSetting: unknown, runtime: Runtime, env: Env): LambdaHandler {
  const build = typeof handlerSetting === 'string' ? FUNCTION_BUILDERS[handlerSetting] : undefined;
  if (typeof handlerSetting !== 'string' || !build) {
    throw new TemplateError(`function handler ${JSON.stringify(handlerSetting)} is none of src/lib/functions/index.ts (${Object.keys(FUNCTION_BUILDERS).join(', ')})`);
  }
  const entry = build(runtime, env);
  const context = { functionName: handlerSetting.slice(0, handlerSetting.lastIndexOf('.')), awsRequestId: 'local', getRemainingTimeInMillis: () => 30_000 } as Partial<Context> as Context;
  return (event) => entry(event, context);
}

async function startDynalite(port: number, directory: string): Promise<{ endpoint: string; server: Server; stop: () => Promise<void> }> {
  const server = dynalite({ path: directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listenOnLoopback(server, port);
  const { port: actual } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    server,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}

/** The functions the template's rate schedules invoke, each run every `intervalMs`, one run at a time. */
function startRateSchedules(template: CfnTemplate, names: Readonly<Record<string, string>>, functionsByArn: Readonly<Record<string, LocalFunction>>, intervalMs: number): { stop: () => Promise<void> } {
  const runs = resourcesOfType(template, 'AWS::Scheduler::Schedule').flatMap(([logicalId, resource]) => {
    const expression = resource.Properties?.ScheduleExpression;
    const target = resource.Properties?.Target as { Arn?: { 'Fn::GetAtt'?: unknown[] }; Input?: unknown } | undefined;
    const functionId = target?.Arn?.['Fn::GetAtt']?.[0];
    if (typeof expression !== 'string' || !expression.startsWith('rate(') || typeof functionId !== 'string') return [];
    const handler = functionsByArn[names[`${functionId}.Arn`] ?? ''];
    if (!handler) throw new TemplateError(`${logicalId} targets ${functionId}, which the local stack did not load`);
    const input: unknown = typeof target?.Input === 'string' ? JSON.parse(target.Input) : {};
    return [{ logicalId, handler, input }];
  });
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = Promise.all(
      runs.map(({ logicalId, handler, input }) =>
        handler(input).catch((error: unknown) => {
          process.emitWarning(`${logicalId}: scheduled invocation failed: ${error instanceof Error ? error.message : String(error)}`);
        }),
      ),
    ).finally(() => {
      busy = false;
    });
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Starts S3 and DynamoDB stand-ins on loopback, builds tables and bucket notifications from the packaged
 * template, and runs the production functions in this process, each built from its template environment with its
 * own runtime pointed at the local endpoints. Nothing goes through process.env: stacks in one process are apart.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const template =
    options.template ??
    (await packageTemplate({ projectDir: options.projectDir, stage: 'local', region: options.region })).template;
  const names = localNames(template, options.region);
  const rules = notificationRules(template);
  const deadLetterFile = join(options.dataDir, 'dead-letters.jsonl');

  const dynamo = await startDynalite(options.ports.dynamodb, join(options.dataDir, 'dynamodb'));
  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: options.region, credentials: LOCAL_CREDENTIALS });
  const definitions = tableDefinitions(template);
  await ensureTables(dynamoClient, definitions);
  // The table streams and pipes of the template, feeding the local event bus (the client stays for their reads).
  const eventsFile = join(options.dataDir, EVENTS_FILE);
  const eventLog = new EventLog(eventsFile, LOCAL_ACCOUNT_ID, options.region);
  const pipes = attachResultPipes(dynamo.server, {
    pipes: streamPipes(template),
    tables: Object.fromEntries(
      definitions.map((d) => [d.logicalId, { name: d.input.TableName ?? '', keyNames: (d.input.KeySchema ?? []).map((k) => k.AttributeName ?? '') }]),
    ),
    client: dynamoClient,
    log: eventLog,
    onError: (error) => {
      process.emitWarning(`local result pipe: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
  const eventBuses = resourcesOfType(template, 'AWS::Events::EventBus').map(([id]) => names[id] ?? id);
  const eventBridge = await startLocalEventBridge({ port: options.ports.events ?? 0, log: eventLog, buses: eventBuses });

  const sequencers = new SequencerClock();
  const invokers: Record<string, AsyncInvoker> = {};
  // Notifications a killed process left unhandled are re-delivered first, then those that arrive while starting.
  const { journal, unsettled } = NotificationJournal.open(join(options.dataDir, 'notifications.jsonl'));
  const waitingForHandlers: JournalEntry[] = [...unsettled];
  let ready = false;
  const submit = (entry: JournalEntry): void => {
    const invoker = invokers[entry.functionLogicalId];
    if (!invoker) {
      // Journaled by an earlier run whose template notified a function this one does not have.
      process.emitWarning(`dropped a journaled notification for ${entry.functionLogicalId}, which this template no longer notifies`);
      journal.settled(entry.id);
      return;
    }
    void invoker.submit(entry.event).then((settled) => {
      if (settled) journal.settled(entry.id);
    });
  };
  const deliver = (object: ObjectCreated): void => {
    const bucketId = Object.keys(template.Resources).find((id) => names[id] === object.bucket);
    for (const rule of rules) {
      if (rule.bucketLogicalId !== bucketId || !ruleMatches(rule, object.eventName, object.key)) continue;
      // One record per event, like S3: a sequencer per matching configuration keeps duplicates detectable.
      const event = singleRecordEvent(notificationRecord(object, sequencers.next(), options.region, `${rule.functionLogicalId}-${rule.suffix}`));
      // Journaled before the local S3 answers the PUT (it calls this first), as S3 queues before it answers.
      const entry = { id: journal.queued(rule.functionLogicalId, event), functionLogicalId: rule.functionLogicalId, event };
      if (ready) submit(entry);
      else waitingForHandlers.push(entry);
    }
  };
  const s3 = await startLocalS3({
    port: options.ports.s3,
    directory: join(options.dataDir, 's3'),
    buckets: localBuckets(template).map(([logicalId, name]) => ({ name, versioning: versioningOf(template, logicalId) })),
    region: options.region,
    onObjectCreated: deliver,
  });

  const emulator = await startRekognitionEmulator({
    ...options.rekognition,
    s3: new S3Client({ endpoint: s3.endpoint, region: options.region, credentials: LOCAL_CREDENTIALS, forcePathStyle: true }),
    dataDir: join(options.dataDir, 'rekognition'),
    region: options.region,
    accountId: LOCAL_ACCOUNT_ID,
  });
  const stateMachines: Record<string, StateMachineDefinition> = {};
  const roleArns: Record<string, string> = {};
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
    const properties = resource.Properties ?? {};
    const roleArn = resolveIntrinsics(properties.RoleArn, names);
    if (typeof roleArn === 'string') roleArns[names[logicalId] ?? logicalId] = roleArn;
    const substitutions = resolveIntrinsics(properties.DefinitionSubstitutions ?? {}, names) as Record<string, unknown>;
    const definitionText = typeof properties.DefinitionString === 'string' ? properties.DefinitionString : JSON.stringify(properties.Definition);
    stateMachines[logicalId] = substituteDefinition(definitionText, Object.fromEntries(Object.entries(substitutions).map(([k, v]) => [k, String(v)])));
  }
  const rekognitionClient = new RekognitionClient({ endpoint: emulator.url, region: options.region, credentials: LOCAL_CREDENTIALS });
  const stateMachinesByArn = Object.fromEntries(Object.entries(stateMachines).map(([id, definition]) => [names[id] ?? id, definition]));
  const functionsByArn: Record<string, LocalFunction> = {};
  const targets = { rekognition: rekognitionClient, functions: functionsByArn, stateMachines: stateMachinesByArn };
  const sfn = await startLocalSfn({
    port: options.ports.sfn,
    stateFile: join(options.dataDir, 'executions.jsonl'),
    machines: Object.fromEntries(
      Object.entries(stateMachinesByArn).map(([arn, definition]) => [
        arn,
        { definition, roleArn: roleArns[arn], run: (input, execution) => runLocally(definition, input, targets, execution) },
      ]),
    ),
  });

  // Built after the Step Functions server listens (classify and the serving check start executions on it), in one
  // synchronous pass, so no request reaches it before its functions exist. Each function gets its own runtime from
  // its own environment, as each has its own containers: its service name in every log line, its own clients.
  const endpoints: Record<AwsService, string> = { s3: s3.endpoint, dynamodb: dynamo.endpoint, rekognition: emulator.url, sfn: sfn.url, eventbridge: eventBridge.url };
  const notified = new Set(rules.map((rule) => rule.functionLogicalId));
  const runtimes: Record<string, Runtime> = {};
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const properties = resource.Properties ?? {};
    const environment = resolveIntrinsics((properties.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}, names);
    const variables: Record<string, string> = { ...(environment as Record<string, string>), ...options.environmentOverrides };
    // Source maps are for the bundle; here the sources run directly.
    delete variables.NODE_OPTIONS;
    const runtime = localRuntime(variables, { region: options.region, endpoints });
    runtimes[logicalId] = runtime;
    const handler = buildHandler(properties.Handler, runtime, variables);
    functionsByArn[names[`${logicalId}.Arn`] ?? ''] = handler;
    if (!notified.has(logicalId)) continue;
    invokers[logicalId] = new AsyncInvoker({
      functionName: names[logicalId] ?? logicalId,
      handler,
      concurrency: Number(properties.ReservedConcurrentExecutions ?? 10),
      maxRetries: maximumRetryAttempts(template, logicalId),
      retryDelayMs: options.retryDelayMs,
      deadLetterFile,
      onSuccess: (result) => options.onInvocation?.(logicalId, result),
    });
  }
  ready = true;
  waitingForHandlers.splice(0).forEach(submit);
  const schedules = options.rateSchedules ? startRateSchedules(template, names, functionsByArn, options.rateSchedules.intervalMs) : undefined;
  const cron = options.cronSchedules ? startTemplateCronSchedules(template, names, { sfnEndpoint: sfn.url, region: options.region, clock: options.cronSchedules.clock }) : undefined;

  const bucket = localBuckets(template)[0]?.[1];
  if (!bucket) throw new TemplateError('the template has no bucket');
  const projectName = template.Outputs?.ProjectName?.Value;
  const servingSchedule = template.Outputs?.ServingSchedule?.Value;
  const reviewThreshold = Number(template.Outputs?.ReviewThreshold?.Value);
  const positiveLabel = template.Outputs?.PositiveLabel?.Value;
  return {
    endpoints: { s3: s3.endpoint, dynamodb: dynamo.endpoint, rekognition: emulator.url, sfn: sfn.url, events: eventBridge.url },
    names: {
      bucket,
      eventBus: eventBuses[0],
      eventsFile,
      tables: Object.fromEntries(definitions.map((d) => [d.logicalId, d.input.TableName ?? ''])),
      stateMachines: Object.fromEntries(Object.keys(stateMachines).map((id) => [id, names[id] ?? id])),
      projectName: typeof projectName === 'string' ? projectName : undefined,
      servingSchedule: servingSchedule === undefined ? undefined : parseServingSchedule(servingSchedule),
      reviewThreshold: Number.isFinite(reviewThreshold) ? reviewThreshold : undefined,
      positiveLabel: typeof positiveLabel === 'string' ? positiveLabel : undefined,
    },
    invokers,
    runtimes,
    emulator,
    deadLetterFile,
    stateMachines,
    runStateMachine: (logicalId, input, executionName) => {
      const definition = stateMachines[logicalId];
      if (!definition) throw new TemplateError(`the template has no state machine ${logicalId}`);
      return runLocally(definition, input, targets, executionName ? { executionName } : {});
    },
    idle: async () => {
      // A schedule's StartExecution still on its way to the endpoint is not an execution yet.
      await cron?.settled();
      await sfn.idle();
      await Promise.all(Object.values(invokers).map((invoker) => invoker.idle()));
      // classify may have started an execution (an on-demand start) while its invocations drained.
      await sfn.idle();
      await pipes.settled();
    },
    stop: async () => {
      await schedules?.stop();
      await cron?.stop();
      await sfn.close();
      await Promise.all(Object.values(invokers).map((invoker) => invoker.idle()));
      rekognitionClient.destroy();
      await emulator.close();
      await s3.stop();
      await eventBridge.close();
      await pipes.settled();
      dynamoClient.destroy();
      await dynamo.stop();
      journal.close();
    },
  };
}
