import {
  CreateProjectCommand,
  CreateProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  StartProjectVersionCommand,
  StopProjectVersionCommand,
} from '@aws-sdk/client-rekognition';
import type {
  CreateProjectCommandInput,
  CreateProjectVersionCommandInput,
  DescribeProjectsCommandInput,
  DescribeProjectVersionsCommandInput,
  RekognitionClient,
  StartProjectVersionCommandInput,
  StopProjectVersionCommandInput,
} from '@aws-sdk/client-rekognition';
import { StateMachine } from 'aws-local-stepfunctions';
import type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';

/*
 * Runs this project's ASL files in-process with aws-local-stepfunctions, the way Step Functions would: every Task
 * is dispatched by its `Resource` (an AWS SDK integration, a Lambda ARN, a nested state machine) to a client or a
 * function the caller supplies. Tests pass mocked clients; the local stack passes real clients pointed at its
 * emulators. Waits and retry intervals can be set to zero.
 */

type Overrides = NonNullable<RunOptions['overrides']>;
type TaskHandlers = NonNullable<Overrides['taskResourceLocalHandlers']>;
type JsonValue = Parameters<TaskHandlers[string]>[0];
type StateDefinition = StateMachineDefinition['States'][string];

// aws-local-stepfunctions calls Promise.withResolvers, which Node 20 lacks; without it every Task fails with a
// TypeError that a `States.ALL` Catch would silently turn into a failure path.
const promiseStatics = Promise as unknown as { withResolvers?: () => unknown };
promiseStatics.withResolvers ??= function withResolvers<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (reason: unknown) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (reason: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

export type LocalFunction = (payload: unknown) => Promise<unknown>;

export interface LocalTargets {
  readonly rekognition: RekognitionClient;
  /** Lambda functions, by the ARN the substituted definition names. */
  readonly functions: Readonly<Record<string, LocalFunction>>;
  /** State machines a Task may start (`states:startExecution.sync:2`), by ARN; they run with the same targets. */
  readonly stateMachines?: Readonly<Record<string, StateMachineDefinition>>;
}

export interface LocalRunOptions {
  /** `$$.Execution.Name`; the ARN (`$$.Execution.Id`) is made from it. */
  readonly executionName?: string;
  /** Run Waits and retry back-offs at once (tests); false keeps the definition's real timings. */
  readonly instant?: boolean;
  /** `$$.Execution.Id`; made from the name when absent. */
  readonly executionArn?: string;
  /** Told each state as it is entered, so a caller can show progress while the run goes on. */
  readonly onStateEntered?: (stateName: string) => void;
}

export type LocalExecution =
  | { readonly status: 'SUCCEEDED'; readonly executionArn: string; readonly output: unknown; readonly states: readonly string[] }
  | { readonly status: 'FAILED'; readonly executionArn: string; readonly error: string; readonly cause: string; readonly states: readonly string[] };

/** An error whose `name` is what a Retry or Catch in the definition matches on. */
export class TaskError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /\$\{([A-Za-z0-9_]+)\}/g;

/** Fills `${Name}` tokens the way CloudFormation's DefinitionSubstitutions does; a token left unfilled is an error. */
export function substituteDefinition(text: string, values: Readonly<Record<string, string>>): StateMachineDefinition {
  const missing = new Set<string>();
  const filled = text.replace(TOKEN, (token, name: string) => {
    const value = values[name];
    if (value === undefined) {
      missing.add(name);
      return token;
    }
    return value;
  });
  if (missing.size > 0) throw new Error(`no substitution for ${[...missing].map((name) => `\${${name}}`).join(', ')}`);
  return JSON.parse(filled) as StateMachineDefinition;
}

/** Every state of a definition with its name, including those inside Map and Parallel states. */
export function allStates(definition: Pick<StateMachineDefinition, 'States'>): [string, StateDefinition][] {
  return Object.entries(definition.States).flatMap(([name, state]): [string, StateDefinition][] => {
    const nested: Pick<StateMachineDefinition, 'States'>[] = [];
    if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) nested.push(processor);
    }
    if (state.Type === 'Parallel') nested.push(...state.Branches);
    return [[name, state], ...nested.flatMap(allStates)];
  });
}

function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  // Drops `$metadata` and undefined fields and turns Dates into strings, as the service's JSON does.
  const text = JSON.stringify(value, (key, field: unknown) => (key === '$metadata' ? undefined : field));
  return JSON.parse(text) as JsonValue;
}

function asObject(value: unknown, resource: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TaskError('States.Runtime', `${resource} needs an object input`);
  return value as Record<string, unknown>;
}

type RekognitionAction = (client: RekognitionClient, input: Record<string, unknown>) => Promise<unknown>;

/** The Rekognition actions these state machines use; any other is refused before a run starts. */
const REKOGNITION: Readonly<Record<string, RekognitionAction>> = {
  describeProjects: (client, input) => client.send(new DescribeProjectsCommand(input as DescribeProjectsCommandInput)),
  createProject: (client, input) => client.send(new CreateProjectCommand(input as unknown as CreateProjectCommandInput)),
  createProjectVersion: (client, input) => client.send(new CreateProjectVersionCommand(input as unknown as CreateProjectVersionCommandInput)),
  describeProjectVersions: (client, input) => client.send(new DescribeProjectVersionsCommand(input as unknown as DescribeProjectVersionsCommandInput)),
  startProjectVersion: (client, input) => client.send(new StartProjectVersionCommand(input as unknown as StartProjectVersionCommandInput)),
  stopProjectVersion: (client, input) => client.send(new StopProjectVersionCommand(input as unknown as StopProjectVersionCommandInput)),
};

const SDK_PREFIX = 'arn:aws:states:::aws-sdk:';
const NESTED_SYNC = 'arn:aws:states:::states:startExecution.sync:2';
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;

/** `Rekognition.ThrottlingException`, `Rekognition.InternalServerErrorException`: Step Functions' names for SDK errors. */
export function sdkErrorName(service: string, error: unknown): string | undefined {
  if (!(error instanceof Error) || !('$metadata' in error)) return undefined;
  const exception = error.name.endsWith('Exception') ? error.name : `${error.name}Exception`;
  return `${service}.${exception}`;
}

function sdkTask(resource: string, client: RekognitionClient): (input: JsonValue) => Promise<JsonValue> {
  const [service, action] = resource.slice(SDK_PREFIX.length).split(':');
  const call = service === 'rekognition' && action ? REKOGNITION[action] : undefined;
  if (!call) throw new Error(`${resource} is not an integration the local runner supports`);
  return async (input) => {
    try {
      return toJson(await call(client, asObject(input, resource)));
    } catch (error) {
      const name = sdkErrorName('Rekognition', error);
      if (!name || !(error instanceof Error)) throw error;
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      throw new TaskError(name, `${error.message} (Service: Rekognition, Status Code: ${status ?? 'unknown'}, Error Code: ${error.name})`);
    }
  };
}

function lambdaTask(resource: string, fn: LocalFunction): (input: JsonValue) => Promise<JsonValue> {
  return async (input) => {
    try {
      return toJson(await fn(input));
    } catch (error) {
      // Lambda reports a thrown error as its name (errorType) and a JSON cause, which Catch sees as Error/Cause.
      if (!(error instanceof Error)) throw error;
      throw new TaskError(error.name, JSON.stringify({ errorType: error.name, errorMessage: error.message }));
    }
  };
}

function nestedTask(targets: LocalTargets, options: LocalRunOptions): (input: JsonValue) => Promise<JsonValue> {
  return async (input) => {
    const request = asObject(input, NESTED_SYNC);
    const arn = request.StateMachineArn;
    const definition = typeof arn === 'string' ? targets.stateMachines?.[arn] : undefined;
    if (typeof arn !== 'string' || !definition) throw new TaskError('StepFunctions.StateMachineDoesNotExistException', `no local state machine ${String(arn)}`);
    const name = typeof request.Name === 'string' ? request.Name : `nested-${Date.now().toString(36)}`;
    const execution = await runLocally(definition, request.Input ?? {}, targets, { ...options, executionName: name });
    const description = { ExecutionArn: execution.executionArn, StateMachineArn: arn, Name: name, Status: execution.status };
    if (execution.status === 'FAILED') {
      throw new TaskError('States.TaskFailed', JSON.stringify({ ...description, Error: execution.error, Cause: execution.cause }));
    }
    return toJson({ ...description, Output: execution.output });
  };
}

/** One handler per Task state, chosen by its Resource; throws before the run for a Resource nothing serves. */
export function localTaskHandlers(definition: StateMachineDefinition, targets: LocalTargets, options: LocalRunOptions = {}): TaskHandlers {
  const handlers: TaskHandlers = {};
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource = state.Resource;
    if (resource.startsWith(SDK_PREFIX)) handlers[name] = sdkTask(resource, targets.rekognition);
    else if (resource === NESTED_SYNC) handlers[name] = nestedTask(targets, options);
    else if (LAMBDA_ARN.test(resource)) {
      const fn = targets.functions[resource];
      if (!fn) throw new Error(`state ${name}: no local function for ${resource}`);
      handlers[name] = lambdaTask(resource, fn);
    } else throw new Error(`state ${name}: the local runner cannot serve ${resource}`);
  }
  return handlers;
}

function zeroed(definition: StateMachineDefinition, type: 'Wait' | 'Retry'): Record<string, number> {
  const names = allStates(definition)
    .filter(([, state]) => (type === 'Wait' ? state.Type === 'Wait' : 'Retry' in state))
    .map(([name]) => name);
  return Object.fromEntries(names.map((name) => [name, 0]));
}

/** Runs a definition to the end and reports how it ended and which states it went through, in order. */
export async function runLocally(definition: StateMachineDefinition, input: unknown, targets: LocalTargets, options: LocalRunOptions = {}): Promise<LocalExecution> {
  const name = options.executionName ?? `local-${Date.now().toString(36)}`;
  const executionArn = options.executionArn ?? `arn:aws:states:local:000000000000:execution:local:${name}`;
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(toJson(input), {
    overrides: {
      taskResourceLocalHandlers: localTaskHandlers(definition, targets, options),
      ...(options.instant ? { waitTimeOverrides: zeroed(definition, 'Wait'), retryIntervalOverrides: zeroed(definition, 'Retry') } : {}),
    },
    context: { Execution: { Id: executionArn, Name: name } },
  });
  const states: string[] = [];
  const collecting = (async (): Promise<void> => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') {
        states.push(event.state.name);
        options.onStateEntered?.(event.state.name);
      }
    }
  })();
  try {
    const output = await execution.result;
    await collecting;
    return { status: 'SUCCEEDED', executionArn, output, states };
  } catch (error) {
    await collecting;
    const failure = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const errorName = failure instanceof Error ? failure.name : 'Unknown';
    const cause = failure instanceof Error ? failure.message : String(failure);
    return { status: 'FAILED', executionArn, error: errorName, cause, states };
  }
}
