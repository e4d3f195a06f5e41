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
import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';
import { fromEventLog, taskFailed, taskScheduled, taskStarted, taskSubmitted, taskSucceeded } from './sfn-history.js';
import type { HistoryEventBody, TaskResource } from './sfn-history.js';

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

/** A state machine execution started by a Task (`states:startExecution.sync:2`). */
export interface NestedExecution {
  readonly executionArn: string;
  /** Epoch milliseconds. */
  readonly startDate: number;
  /** Stops it (the parent was stopped or timed out). */
  readonly stop: () => void;
  readonly done: Promise<LocalExecution>;
}

/**
 * Starts a nested execution. The local Step Functions endpoint passes one that records it as an execution of its
 * own; without one, the machine is run in-process from `LocalTargets.stateMachines`. A refusal is thrown as an
 * error named by the API's error code (`StateMachineDoesNotExist`, `ExecutionAlreadyExists`, …).
 */
export type NestedStarter = (request: { readonly stateMachineArn: string; readonly name: string | undefined; readonly input: unknown }) => NestedExecution;

export interface LocalRunOptions {
  /** `$$.Execution.Name`; the ARN (`$$.Execution.Id`) is made from it. */
  readonly executionName?: string;
  /** Run Waits and retry back-offs at once (tests); false keeps the definition's real timings. */
  readonly instant?: boolean;
  /** `$$.Execution.Id`; made from the name when absent. */
  readonly executionArn?: string;
  /** Told each history event as it happens (states entered and exited, Tasks scheduled, succeeded, failed). */
  readonly onEvent?: (event: HistoryEventBody) => void;
  /** Stops the run: no Task starts after it, a running Wait ends, nested executions are stopped. */
  readonly signal?: AbortSignal;
  readonly startExecution?: NestedStarter;
}

export type LocalExecution =
  | { readonly status: 'SUCCEEDED'; readonly executionArn: string; readonly output: unknown; readonly states: readonly string[] }
  | { readonly status: 'FAILED' | 'TIMED_OUT'; readonly executionArn: string; readonly error: string; readonly cause: string; readonly states: readonly string[] }
  | { readonly status: 'ABORTED'; readonly executionArn: string; readonly states: readonly string[] };

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

/** What one run gives the Task handlers of its definition. */
interface RunContext {
  readonly emit: (event: HistoryEventBody) => void;
  readonly signal: AbortSignal | undefined;
  /** Region of the execution, as TaskScheduled reports it. */
  readonly region: string;
  /** Handlers still running; an aborted run ends once they have. */
  readonly inFlight: Set<Promise<unknown>>;
  readonly startExecution: NestedStarter;
}

type TaskCall = (input: JsonValue, context: RunContext) => Promise<JsonValue>;

function sdkTask(resource: string, client: RekognitionClient): TaskCall {
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

function lambdaTask(fn: LocalFunction): TaskCall {
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

const NESTED_RESOURCE = (region: string): TaskResource & { kind: 'service' } => ({ kind: 'service', resourceType: 'states', resource: 'startExecution.sync:2', region });

/** `startExecution.sync:2`: starts the execution, then waits for it; its output is parsed JSON, as in `:2`. */
const nestedTask: TaskCall = async (input, context) => {
  const request = asObject(input, NESTED_SYNC);
  const stateMachineArn = request.StateMachineArn;
  if (typeof stateMachineArn !== 'string') throw new TaskError('States.Runtime', `${NESTED_SYNC} needs a StateMachineArn`);
  let child: NestedExecution;
  try {
    child = context.startExecution({ stateMachineArn, name: typeof request.Name === 'string' ? request.Name : undefined, input: request.Input ?? {} });
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    throw new TaskError(`StepFunctions.${error.name}Exception`, error.message);
  }
  context.emit(taskSubmitted(NESTED_RESOURCE(context.region), { ExecutionArn: child.executionArn, StartDate: child.startDate }));
  const stopChild = (): void => { child.stop(); };
  context.signal?.addEventListener('abort', stopChild, { once: true });
  if (context.signal?.aborted) child.stop();
  try {
    const end = await child.done;
    const name = child.executionArn.slice(child.executionArn.lastIndexOf(':') + 1);
    const description = {
      ExecutionArn: child.executionArn,
      StateMachineArn: stateMachineArn,
      Name: name,
      Status: end.status,
      StartDate: child.startDate,
      StopDate: Date.now(),
      Input: request.Input ?? {},
      InputDetails: { Included: true },
    };
    if (end.status === 'SUCCEEDED') return toJson({ ...description, Output: end.output, OutputDetails: { Included: true } });
    const failure = end.status === 'ABORTED' ? {} : { Error: end.error, Cause: end.cause };
    throw new TaskError('States.TaskFailed', JSON.stringify({ ...description, ...failure }));
  } finally {
    context.signal?.removeEventListener('abort', stopChild);
  }
};

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wraps a Task's call with its history events and refuses to start once the run was stopped. */
function reportedTask(resource: TaskResource, call: TaskCall, context: RunContext | undefined): TaskHandlers[string] {
  return async (input) => {
    if (!context) return call(input, detachedContext());
    // The library reports the state's entry asynchronously: one turn lets it land before TaskScheduled.
    await nextTurn();
    if (context.signal?.aborted) throw new TaskError('States.Runtime', 'the execution was stopped before this Task started');
    const running = (async (): Promise<JsonValue> => {
      context.emit(taskScheduled(resource, input));
      context.emit(taskStarted(resource));
      try {
        const output = await call(input, context);
        context.emit(taskSucceeded(resource, output));
        return output;
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        context.emit(taskFailed(resource, failure.name, failure.message));
        throw error;
      }
    })();
    context.inFlight.add(running);
    const forget = (): void => void context.inFlight.delete(running);
    running.then(forget, forget);
    return running;
  };
}

function detachedContext(): RunContext {
  return {
    emit: () => undefined,
    signal: undefined,
    region: 'local',
    inFlight: new Set(),
    startExecution: () => {
      throw new TaskError('States.Runtime', 'no nested state machines outside a run');
    },
  };
}

function regionOf(executionArn: string): string {
  return executionArn.split(':')[3] ?? 'local';
}

/** One handler per Task state, chosen by its Resource; throws before the run for a Resource nothing serves. */
export function localTaskHandlers(definition: StateMachineDefinition, targets: LocalTargets, context?: RunContext): TaskHandlers {
  const handlers: TaskHandlers = {};
  const region = context?.region ?? 'local';
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource = state.Resource;
    if (resource.startsWith(SDK_PREFIX)) {
      const [service = '', action = ''] = resource.slice(SDK_PREFIX.length).split(':');
      handlers[name] = reportedTask({ kind: 'service', resourceType: `aws-sdk:${service}`, resource: action, region }, sdkTask(resource, targets.rekognition), context);
    } else if (resource === NESTED_SYNC) handlers[name] = reportedTask(NESTED_RESOURCE(region), nestedTask, context);
    else if (LAMBDA_ARN.test(resource)) {
      const fn = targets.functions[resource];
      if (!fn) throw new Error(`state ${name}: no local function for ${resource}`);
      handlers[name] = reportedTask({ kind: 'lambda', functionArn: resource }, lambdaTask(fn), context);
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

/**
 * Step Functions gives a Task without TimeoutSeconds 99 999 999 s (the service's documentation), where the ASL spec
 * and aws-local-stepfunctions give it 60 s: locally, a nested start-model run or a long Lambda Task would end in
 * States.Timeout after a minute although it runs to the end on AWS. Node's timers stop at 2^31 - 1 ms (a longer
 * delay fires at once), about 24.8 days: past every execution's own TimeoutSeconds here.
 */
export const SERVICE_TASK_TIMEOUT_SECONDS = Math.min(99_999_999, Math.floor(0x7fffffff / 1000));

/** A copy of the definition in which every Task without a timeout of its own has the service's default. */
export function withServiceTaskTimeouts(definition: StateMachineDefinition): StateMachineDefinition {
  const copy = structuredClone(definition);
  for (const [, state] of allStates(copy)) {
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = SERVICE_TASK_TIMEOUT_SECONDS;
  }
  return copy;
}

// Validating a definition (asl-validator) costs far more than running a short one; a definition is validated once.
const machines = new WeakMap<StateMachineDefinition, StateMachine>();
function compiled(definition: StateMachineDefinition): StateMachine {
  let machine = machines.get(definition);
  if (!machine) {
    machine = new StateMachine(withServiceTaskTimeouts(definition), { validationOptions: { checkArn: true, checkPaths: true } });
    machines.set(definition, machine);
  }
  return machine;
}

/** Runs nested machines in-process from the targets, when no Step Functions endpoint records them. */
function inProcessStarter(targets: LocalTargets, options: LocalRunOptions): NestedStarter {
  return ({ stateMachineArn, name, input }) => {
    const definition = targets.stateMachines?.[stateMachineArn];
    if (!definition) throw Object.assign(new Error(`State Machine Does Not Exist: '${stateMachineArn}'`), { name: 'StateMachineDoesNotExist' });
    const executionName = name ?? randomUUID();
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
    const controller = new AbortController();
    const done = runLocally(definition, input, targets, { instant: options.instant ?? false, executionName, executionArn, signal: controller.signal });
    return { executionArn, startDate: Date.now(), stop: () => { controller.abort(); }, done };
  };
}

/**
 * Runs a definition to the end and reports how it ended and which states it went through, in order. Stopped
 * through `signal`, it ends ABORTED once the Task that was running has returned; past the definition's
 * TimeoutSeconds it ends TIMED_OUT.
 */
export async function runLocally(definition: StateMachineDefinition, input: unknown, targets: LocalTargets, options: LocalRunOptions = {}): Promise<LocalExecution> {
  const name = options.executionName ?? `local-${Date.now().toString(36)}`;
  const executionArn = options.executionArn ?? `arn:aws:states:local:000000000000:execution:local:${name}`;
  const signal = options.signal;
  // Nothing the run reports after a stop belongs to its history: the stop is its last event.
  const emit = (event: HistoryEventBody): void => {
    if (!signal?.aborted) options.onEvent?.(event);
  };
  const context: RunContext = {
    emit,
    signal,
    region: regionOf(executionArn),
    inFlight: new Set(),
    startExecution: options.startExecution ?? inProcessStarter(targets, options),
  };
  const machine = compiled(definition);
  const execution = machine.run(toJson(input), {
    overrides: {
      taskResourceLocalHandlers: localTaskHandlers(definition, targets, context),
      ...(options.instant ? { waitTimeOverrides: zeroed(definition, 'Wait'), retryIntervalOverrides: zeroed(definition, 'Retry') } : {}),
    },
    context: { Execution: { Id: executionArn, Name: name } },
  });
  const abort = (): void => { execution.abort(); };
  signal?.addEventListener('abort', abort, { once: true });
  if (signal?.aborted) execution.abort();
  const states: string[] = [];
  const collecting = (async (): Promise<void> => {
    for await (const log of execution.eventLogs) {
      if (log.type === 'StateEntered' && log.index === undefined) states.push(log.state.name);
      for (const event of fromEventLog(log)) emit(event);
    }
  })();
  try {
    const output = await execution.result;
    await collecting;
    return { status: 'SUCCEEDED', executionArn, output, states };
  } catch (error) {
    await collecting;
    await Promise.allSettled([...context.inFlight]);
    if (error instanceof ExecutionAbortedError) return { status: 'ABORTED', executionArn, states };
    if (error instanceof ExecutionTimeoutError) {
      return { status: 'TIMED_OUT', executionArn, error: 'States.Timeout', cause: `The execution ran longer than its TimeoutSeconds (${String(definition.TimeoutSeconds)}).`, states };
    }
    const failure = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const errorName = failure instanceof Error ? failure.name : 'Unknown';
    const cause = failure instanceof Error ? failure.message : String(failure);
    return { status: 'FAILED', executionArn, error: errorName, cause, states };
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
