import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { listenOnLoopback } from './listen.js';
import { allStates } from './sfn-runner.js';
import type { LocalExecution } from './sfn-runner.js';

/*
 * The Step Functions API calls the CLI and tests need (StartExecution, DescribeExecution, ListExecutions,
 * GetExecutionHistory) over awsJson1.0, backed by the in-process runner, so `@aws-sdk/client-sfn` works against
 * the local stack unchanged through AWS_ENDPOINT_URL_SFN.
 */

export type MachineRunner = (
  input: unknown,
  execution: { readonly executionArn: string; readonly name: string; readonly onStateEntered: (state: string) => void },
) => Promise<LocalExecution>;

export interface LocalMachine {
  readonly definition: StateMachineDefinition;
  readonly run: MachineRunner;
}

export interface LocalSfnOptions {
  readonly port: number;
  /** By state machine ARN. */
  readonly machines: Readonly<Record<string, LocalMachine>>;
  /** Executions are kept here so a restarted stack still answers for them. */
  readonly stateFile: string;
}

type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

interface HistoryEvent {
  readonly timestamp: number;
  readonly type: string;
  readonly stateName?: string;
}

interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  status: Status;
  readonly startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  readonly events: HistoryEvent[];
}

export interface LocalSfn {
  readonly url: string;
  /** Resolves when no execution is running. */
  readonly idle: () => Promise<void>;
  readonly close: () => Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const epochSeconds = (ms: number): number => ms / 1000;

function stateTypes(definition: StateMachineDefinition): Map<string, string> {
  return new Map(allStates(definition).map(([name, state]) => [name, state.Type]));
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new ApiError('InvalidParameterValue', `${field} is required`);
  return value;
}

async function loadRecords(file: string): Promise<Map<string, ExecutionRecord>> {
  let saved: ExecutionRecord[] = [];
  try {
    saved = JSON.parse(await readFile(file, 'utf8')) as ExecutionRecord[];
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  for (const record of saved) {
    // A run cannot outlive the process that ran it.
    if (record.status === 'RUNNING') Object.assign(record, { status: 'ABORTED', stopDate: Date.now(), error: 'States.Aborted', cause: 'the local stack stopped while the execution ran' });
  }
  return new Map(saved.map((record) => [record.executionArn, record]));
}

export async function startLocalSfn(options: LocalSfnOptions): Promise<LocalSfn> {
  const records = await loadRecords(options.stateFile);
  const running = new Set<Promise<void>>();
  let saving = Promise.resolve();
  const save = (): void => {
    saving = saving.then(async () => {
      const temporary = `${options.stateFile}.tmp`;
      await writeFile(temporary, JSON.stringify([...records.values()]));
      await rename(temporary, options.stateFile);
    });
  };

  const execute = (record: ExecutionRecord, machine: LocalMachine): void => {
    const types = stateTypes(machine.definition);
    const done = machine
      .run(JSON.parse(record.input) as unknown, {
        executionArn: record.executionArn,
        name: record.name,
        onStateEntered: (state) => {
          record.events.push({ timestamp: Date.now(), type: `${types.get(state) ?? 'Task'}StateEntered`, stateName: state });
        },
      })
      .then(
        (result) => {
          if (result.status === 'SUCCEEDED') Object.assign(record, { status: 'SUCCEEDED', output: JSON.stringify(result.output) });
          else Object.assign(record, { status: 'FAILED', error: result.error, cause: result.cause });
        },
        (error: unknown) => {
          Object.assign(record, { status: 'FAILED', error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) });
        },
      )
      .finally(() => {
        record.stopDate = Date.now();
        record.events.push({ timestamp: record.stopDate, type: record.status === 'SUCCEEDED' ? 'ExecutionSucceeded' : 'ExecutionFailed' });
        running.delete(done);
        save();
      });
    running.add(done);
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution: (body) => {
      const stateMachineArn = requireString(body, 'stateMachineArn');
      const machine = options.machines[stateMachineArn];
      if (!machine) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
      const name = typeof body.name === 'string' ? body.name : crypto.randomUUID();
      if (!NAME.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
      const input = typeof body.input === 'string' ? body.input : '{}';
      try {
        JSON.parse(input);
      } catch {
        throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
      }
      const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      const existing = records.get(executionArn);
      if (existing) {
        // As the service does: the same name and input while running is the same execution; anything else is refused.
        if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: epochSeconds(existing.startDate) };
        throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      const record: ExecutionRecord = { executionArn, stateMachineArn, name, input, status: 'RUNNING', startDate: Date.now(), events: [] };
      record.events.push({ timestamp: record.startDate, type: 'ExecutionStarted' });
      records.set(executionArn, record);
      save();
      execute(record, machine);
      return { executionArn, startDate: epochSeconds(record.startDate) };
    },
    DescribeExecution: (body) => {
      const record = records.get(requireString(body, 'executionArn'));
      if (!record) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
      return {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: epochSeconds(record.startDate),
        ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
        input: record.input,
        ...(record.output !== undefined ? { output: record.output } : {}),
        ...(record.error !== undefined ? { error: record.error, cause: record.cause } : {}),
      };
    },
    ListExecutions: (body) => {
      const stateMachineArn = requireString(body, 'stateMachineArn');
      if (!options.machines[stateMachineArn]) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
      const filter = typeof body.statusFilter === 'string' ? body.statusFilter : undefined;
      const limit = typeof body.maxResults === 'number' && body.maxResults > 0 ? body.maxResults : 100;
      const executions = [...records.values()]
        .filter((record) => record.stateMachineArn === stateMachineArn && (!filter || record.status === filter))
        .sort((a, b) => b.startDate - a.startDate)
        .slice(0, limit)
        .map((record) => ({
          executionArn: record.executionArn,
          stateMachineArn: record.stateMachineArn,
          name: record.name,
          status: record.status,
          startDate: epochSeconds(record.startDate),
          ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
        }));
      return { executions };
    },
    GetExecutionHistory: (body) => {
      const record = records.get(requireString(body, 'executionArn'));
      if (!record) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
      const events = record.events.map((event, index) => ({
        id: index + 1,
        timestamp: epochSeconds(event.timestamp),
        type: event.type,
        ...(event.stateName ? { stateEnteredEventDetails: { name: event.stateName } } : {}),
        ...(event.type === 'ExecutionFailed' ? { executionFailedEventDetails: { error: record.error, cause: record.cause } } : {}),
      }));
      return { events: body.reverseOrder === true ? events.reverse() : events };
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
    const operation = operations[target.replace(/^AWSStepFunctions\./, '')];
    try {
      if (request.method !== 'POST' || !operation) throw new ApiError('UnknownOperationException', `the local Step Functions does not implement ${target || request.method}`);
      const body: unknown = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('SerializationException', 'body must be a JSON object');
      respond(response, 200, operation(body as Record<string, unknown>));
    } catch (error) {
      if (error instanceof ApiError) respond(response, 400, { __type: error.type, message: error.message });
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
    await saving;
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
    },
  };
}
