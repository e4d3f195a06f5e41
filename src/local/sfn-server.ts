import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { listenOnLoopback } from './listen.js';
import { ApiError, enumValue, issueToken, optionalBoolean, optionalString, pageSize, readToken, requireArn, requiredString, validName } from './sfn-api.js';
import type { Body } from './sfn-api.js';
import { executionAborted, executionFailed, executionStarted, executionSucceeded, executionTimedOut, withoutExecutionData } from './sfn-history.js';
import type { HistoryEventBody } from './sfn-history.js';
import type { LocalExecution, NestedExecution, NestedStarter } from './sfn-runner.js';
import { ExecutionStore, newestFirst } from './sfn-store.js';
import type { ExecutionRecord, ExecutionStatus } from './sfn-store.js';

/*
 * The Step Functions API over awsJson1.0, backed by the in-process runner, so `@aws-sdk/client-sfn`, boto3 and the
 * `aws` CLI work against the local stack unchanged (AWS_ENDPOINT_URL_SFN, --endpoint-url): StartExecution,
 * StopExecution, DescribeExecution, ListExecutions and GetExecutionHistory (paged with nextToken),
 * DescribeStateMachine, DescribeStateMachineForExecution, ListStateMachines. Executions a Task starts
 * (`startExecution.sync:2`) are executions of their own: listed, described, with their own history, stopped with
 * their parent. Anything else answers UnknownOperationException, as the service does.
 */

export type MachineRunner = (
  input: unknown,
  execution: {
    readonly executionArn: string;
    readonly executionName: string;
    readonly signal: AbortSignal;
    readonly onEvent: (event: HistoryEventBody) => void;
    readonly startExecution: NestedStarter;
  },
) => Promise<LocalExecution>;

export interface LocalMachine {
  /** As deployed: the file with its substitutions filled. */
  readonly definition: StateMachineDefinition;
  readonly run: MachineRunner;
  /** The execution role the template gives it. */
  readonly roleArn?: string;
}

export interface LocalSfnOptions {
  readonly port: number;
  /** By state machine ARN. */
  readonly machines: Readonly<Record<string, LocalMachine>>;
  /** Executions are journaled here so a restarted stack still answers for them. */
  readonly stateFile: string;
}

export interface LocalSfn {
  readonly url: string;
  /** Resolves when no execution is running. */
  readonly idle: () => Promise<void>;
  readonly close: () => Promise<void>;
}

/** The service ends an execution whose history reaches this many events (FAILED, States.Runtime). */
export const MAX_HISTORY_EVENTS = 25_000;
const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const MAX_INPUT = 262_144;
const epochSeconds = (ms: number): number => ms / 1000;

function machineName(stateMachineArn: string): string {
  return stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1);
}

function parseInput(input: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch (error) {
    throw new ApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${error instanceof Error ? error.message : String(error)}'`);
  }
}

function listItem(record: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    ...(record.stopDate !== undefined ? { stopDate: epochSeconds(record.stopDate) } : {}),
    redriveCount: 0,
  };
}

/** `previousEventId` as recorded histories show it: 0 for the start, the first state's entry and a stop. */
function numbered(events: readonly HistoryEventBody[]): Record<string, unknown>[] {
  return events.map((event, index) => {
    const id = index + 1;
    const previousEventId = index <= 1 || event.type === 'ExecutionAborted' ? 0 : index;
    return { ...event, id, previousEventId, timestamp: epochSeconds(event.timestamp) };
  });
}

export async function startLocalSfn(options: LocalSfnOptions): Promise<LocalSfn> {
  const { store, interrupted } = ExecutionStore.open(options.stateFile);
  for (const record of interrupted) {
    process.emitWarning(`Step Functions execution ${record.executionArn} was running when the local stack stopped; it is now FAILED (States.Runtime)`);
  }
  const running = new Set<Promise<void>>();
  const controllers = new Map<string, AbortController>();
  const createdAt = Date.now();

  const requireMachine = (stateMachineArn: string): LocalMachine => {
    requireArn(stateMachineArn, 'stateMachine');
    const machine = options.machines[stateMachineArn];
    if (!machine) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  };
  const requireExecution = (executionArn: string): ExecutionRecord => {
    requireArn(executionArn, 'execution');
    const record = store.get(executionArn);
    if (!record) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  };

  const stop = (record: ExecutionRecord, error: string | undefined, cause: string | undefined): void => {
    if (record.status !== 'RUNNING') return;
    store.end(record, { status: 'ABORTED', error, cause }, executionAborted(error, cause));
    controllers.get(record.executionArn)?.abort();
  };

  const finish = (record: ExecutionRecord, result: LocalExecution): void => {
    // A stop (or the history limit) already ended it; what the run did after that is not its outcome.
    if (record.status !== 'RUNNING') return;
    if (result.status === 'SUCCEEDED') {
      const output = JSON.stringify(result.output ?? null);
      store.end(record, { status: 'SUCCEEDED', output }, executionSucceeded(output));
    } else if (result.status === 'TIMED_OUT') {
      store.end(record, { status: 'TIMED_OUT', error: result.error, cause: result.cause }, executionTimedOut(result.error, result.cause));
    } else if (result.status === 'FAILED') {
      store.end(record, { status: 'FAILED', error: result.error, cause: result.cause }, executionFailed(result.error, result.cause));
    } else {
      store.end(record, { status: 'ABORTED' }, executionAborted(undefined, undefined));
    }
  };

  /** Runs a recorded execution; resolves once its run has settled (a stopped run: once its Task returned). */
  const launch = (record: ExecutionRecord, machine: LocalMachine): Promise<void> => {
    const controller = new AbortController();
    controllers.set(record.executionArn, controller);
    const onEvent = (event: HistoryEventBody): void => {
      if (record.status !== 'RUNNING') return;
      if (record.events.length >= MAX_HISTORY_EVENTS - 1) {
        const cause = `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`;
        store.end(record, { status: 'FAILED', error: 'States.Runtime', cause }, executionFailed('States.Runtime', cause));
        controller.abort();
        return;
      }
      store.append(record, event);
    };
    const done = machine
      .run(JSON.parse(record.input) as unknown, {
        executionArn: record.executionArn,
        executionName: record.name,
        signal: controller.signal,
        onEvent,
        startExecution: (request) => startNested(request, record),
      })
      .then(
        (result) => { finish(record, result); },
        (error: unknown) => { finish(record, { status: 'FAILED', executionArn: record.executionArn, error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error), states: [] }); },
      )
      .finally(() => {
        controllers.delete(record.executionArn);
        running.delete(done);
      });
    running.add(done);
    return done;
  };

  const recordStart = (stateMachineArn: string, machine: LocalMachine, name: string, input: string, parentArn?: string): ExecutionRecord => {
    const startDate = Date.now();
    const started: ExecutionRecord = {
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate,
      ...(parentArn ? { parentArn } : {}),
      events: [{ ...executionStarted(input, machine.roleArn ?? ''), timestamp: startDate }],
    };
    store.add(started);
    return started;
  };

  const refusal = (code: string, message: string): Error => Object.assign(new Error(message), { name: code });

  /** `startExecution.sync:2` from a running execution: an execution of its own, stopped with its parent. */
  const startNested: (request: Parameters<NestedStarter>[0], parent: ExecutionRecord) => NestedExecution = (request, parent) => {
    const machine = options.machines[request.stateMachineArn];
    if (!machine) throw refusal('StateMachineDoesNotExist', `State Machine Does Not Exist: '${request.stateMachineArn}'`);
    const name = request.name ?? randomUUID();
    if (!validName(name)) throw refusal('InvalidName', `Invalid Name: '${name}'`);
    const executionArn = `${request.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    if (store.get(executionArn)) throw refusal('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    const child = recordStart(request.stateMachineArn, machine, name, JSON.stringify(request.input ?? {}), parent.executionArn);
    const done = launch(child, machine).then((): LocalExecution => {
      if (child.status === 'SUCCEEDED') return { status: 'SUCCEEDED', executionArn, output: JSON.parse(child.output ?? 'null') as unknown, states: [] };
      if (child.status === 'ABORTED') return { status: 'ABORTED', executionArn, states: [] };
      return { status: child.status === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED', executionArn, error: child.error ?? '', cause: child.cause ?? '', states: [] };
    });
    return { executionArn, startDate: child.startDate, stop: () => { stop(child, undefined, undefined); }, done };
  };

  const describeMachine = (stateMachineArn: string, machine: LocalMachine): Record<string, unknown> => ({
    stateMachineArn,
    name: machineName(stateMachineArn),
    status: 'ACTIVE',
    definition: JSON.stringify(machine.definition),
    roleArn: machine.roleArn ?? '',
    type: 'STANDARD',
    creationDate: epochSeconds(createdAt),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  });

  const operations: Record<string, (body: Body) => unknown> = {
    StartExecution: (body) => {
      const stateMachineArn = requiredString(body, 'stateMachineArn', 256);
      const machine = requireMachine(stateMachineArn);
      const name = optionalString(body, 'name', 80) ?? randomUUID();
      if (!validName(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
      const input = optionalString(body, 'input', MAX_INPUT) ?? '{}';
      parseInput(input);
      optionalString(body, 'traceHeader', 256);
      const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      const existing = store.get(executionArn);
      if (existing) {
        // As the service does: the same name and input while running is the same execution; anything else is refused.
        if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: epochSeconds(existing.startDate) };
        throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      const started = recordStart(stateMachineArn, machine, name, input);
      void launch(started, machine);
      return { executionArn, startDate: epochSeconds(started.startDate) };
    },
    StopExecution: (body) => {
      const record = requireExecution(requiredString(body, 'executionArn', 256));
      const error = optionalString(body, 'error', 256);
      const cause = optionalString(body, 'cause', 32_768);
      stop(record, error, cause);
      return { stopDate: epochSeconds(record.stopDate ?? Date.now()) };
    },
    DescribeExecution: (body) => {
      const record = requireExecution(requiredString(body, 'executionArn', 256));
      return {
        ...listItem(record),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
      };
    },
    ListExecutions: (body) => {
      if (body.mapRunArn !== undefined) throw new ApiError('ValidationException', 'the local Step Functions has no Map Runs (no distributed Map)');
      const stateMachineArn = requiredString(body, 'stateMachineArn', 256);
      requireMachine(stateMachineArn);
      const statusFilter = enumValue(body, 'statusFilter', [...STATUSES, 'PENDING_REDRIVE']);
      if (body.redriveFilter !== undefined) enumValue(body, 'redriveFilter', ['REDRIVEN', 'NOT_REDRIVEN']);
      const limit = pageSize(body);
      const token = optionalString(body, 'nextToken', 3096);
      const scope = `ListExecutions\n${stateMachineArn}\n${statusFilter ?? ''}\n${body.redriveFilter === 'REDRIVEN' ? 'REDRIVEN' : ''}`;
      const now = Date.now();
      let matching = body.redriveFilter === 'REDRIVEN' ? [] : store.ofStateMachine(stateMachineArn).filter((record) => !statusFilter || record.status === statusFilter);
      if (token !== undefined) {
        // The position is the last execution listed; those started since come before it and are not repeated.
        const [startDate = '', executionArn = ''] = readToken(token, scope, now).split('\n');
        const last = { startDate: Number(startDate), executionArn } as ExecutionRecord;
        matching = matching.filter((record) => newestFirst(last, record) < 0);
      }
      const page = matching.slice(0, limit);
      const tail = page.at(-1);
      return {
        executions: page.map(listItem),
        ...(matching.length > limit && tail ? { nextToken: issueToken(scope, `${tail.startDate}\n${tail.executionArn}`, now) } : {}),
      };
    },
    GetExecutionHistory: (body) => {
      const record = requireExecution(requiredString(body, 'executionArn', 256));
      const limit = pageSize(body);
      const reverse = optionalBoolean(body, 'reverseOrder') ?? false;
      const withData = optionalBoolean(body, 'includeExecutionData') ?? true;
      const token = optionalString(body, 'nextToken', 1024);
      const scope = `GetExecutionHistory\n${record.executionArn}\n${String(reverse)}`;
      const now = Date.now();
      const all = numbered(withData ? record.events : record.events.map(withoutExecutionData));
      const ordered = reverse ? all.reverse() : all;
      // The position is the id of the last event given; a history still growing adds after it (or before, reversed).
      const after = token === undefined ? undefined : Number(readToken(token, scope, now));
      const rest = after === undefined ? ordered : ordered.filter((event) => (reverse ? (event.id as number) < after : (event.id as number) > after));
      const page = rest.slice(0, limit);
      const tail = page.at(-1);
      return { events: page, ...(rest.length > limit && tail ? { nextToken: issueToken(scope, String(tail.id), now) } : {}) };
    },
    DescribeStateMachine: (body) => {
      const stateMachineArn = requiredString(body, 'stateMachineArn', 256);
      return describeMachine(stateMachineArn, requireMachine(stateMachineArn));
    },
    DescribeStateMachineForExecution: (body) => {
      const record = requireExecution(requiredString(body, 'executionArn', 256));
      const machine = options.machines[record.stateMachineArn];
      if (!machine) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${record.stateMachineArn}'`);
      const description = describeMachine(record.stateMachineArn, machine);
      // The same description, dated by the machine's last update and without status and type.
      return Object.fromEntries(
        Object.entries({ ...description, updateDate: description.creationDate }).filter(([key]) => key !== 'creationDate' && key !== 'status' && key !== 'type'),
      );
    },
    ListStateMachines: (body) => {
      const limit = pageSize(body);
      const token = optionalString(body, 'nextToken', 1024);
      const arns = Object.keys(options.machines).sort();
      const after = token === undefined ? undefined : readToken(token, 'ListStateMachines', Date.now());
      const rest = after === undefined ? arns : arns.filter((arn) => arn > after);
      const page = rest.slice(0, limit);
      const tail = page.at(-1);
      return {
        stateMachines: page.map((arn) => ({ stateMachineArn: arn, name: machineName(arn), type: 'STANDARD', creationDate: epochSeconds(createdAt) })),
        ...(rest.length > limit && tail ? { nextToken: issueToken('ListStateMachines', tail, Date.now()) } : {}),
      };
    },
  };

  const respond = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    response.end(JSON.stringify(body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? operations[target.slice('AWSStepFunctions.'.length)] : undefined;
    try {
      if (request.method !== 'POST' || !operation) throw new ApiError('UnknownOperationException', `the local Step Functions does not implement ${target || request.method}`);
      let body: unknown = {};
      if (chunks.length > 0) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          throw new ApiError('SerializationException', 'the request body is not JSON');
        }
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('SerializationException', 'the request body must be a JSON object');
      respond(response, 200, operation(body as Body));
    } catch (error) {
      if (error instanceof ApiError) respond(response, 400, { __type: error.code, message: error.message });
      else respond(response, 500, { __type: 'InternalFailure', message: error instanceof Error ? error.message : String(error) });
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await listenOnLoopback(server, options.port);
  const { port } = server.address() as AddressInfo;
  const idle = async (): Promise<void> => {
    while (running.size > 0) await Promise.all([...running]);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    idle,
    close: async () => {
      await idle();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      });
      store.close();
    },
  };
}
