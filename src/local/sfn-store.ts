import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { executionFailed } from './sfn-history.js';
import type { HistoryEventBody } from './sfn-history.js';
import * as z from 'zod/mini';
import { isPlainObject, parseWith } from '../lib/schema.js';

/*
 * The local Step Functions' executions and their histories, kept in an append-only journal (one JSON line per
 * start, history event and end, written synchronously before the API answers) so that a stack stopped or killed
 * and started again on the same folder still answers for every execution it acknowledged, at any number of
 * executions. The file is compacted to one line per execution when it is opened.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  status: ExecutionStatus;
  /** Epoch milliseconds. */
  readonly startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** The execution whose Task started this one (`startExecution.sync:2`). */
  readonly parentArn?: string;
  readonly events: HistoryEventBody[];
}

export type ExecutionEnd = Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>;

export class ExecutionStoreError extends Error {
  override readonly name = 'ExecutionStoreError';
}

/** What the store does with an execution a previous process left RUNNING: it cannot be resumed mid-state. */
export const INTERRUPTED = {
  error: 'States.Runtime',
  cause: 'The local stack stopped while this execution was running; it cannot be resumed. Start a new execution.',
} as const;

const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const satisfies readonly ExecutionStatus[];

/** A history event as the store wrote it; its fields are the runner's, passed through. */
const EventSchema = z.custom<HistoryEventBody>(isPlainObject);

/** Fields are passed through (looseObject): a line written by a newer stack keeps what this one does not know. */
const RecordSchema = z.looseObject({
  executionArn: z.string(),
  stateMachineArn: z.string(),
  name: z.string(),
  input: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  startDate: z.number(),
  stopDate: z.optional(z.number()),
  output: z.optional(z.string()),
  error: z.optional(z.string()),
  cause: z.optional(z.string()),
  parentArn: z.optional(z.string()),
  events: z.array(EventSchema),
});

const EndSchema = z.looseObject({ status: z.enum(EXECUTION_STATUSES), output: z.optional(z.string()), error: z.optional(z.string()), cause: z.optional(z.string()) });

const LineSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('record'), record: RecordSchema }),
  z.object({ op: z.literal('start'), record: RecordSchema }),
  z.object({ op: z.literal('event'), arn: z.string(), event: EventSchema }),
  z.object({ op: z.literal('end'), arn: z.string(), end: EndSchema, event: EventSchema }),
]);

/** What the store writes; LineSchema reads it back. */
type Line =
  | { readonly op: 'record'; readonly record: ExecutionRecord }
  | { readonly op: 'start'; readonly record: ExecutionRecord }
  | { readonly op: 'event'; readonly arn: string; readonly event: HistoryEventBody }
  | { readonly op: 'end'; readonly arn: string; readonly end: ExecutionEnd; readonly event: HistoryEventBody };

function parseLine(text: string, file: string, lineNumber: number): Line {
  const fail = (why: string, cause?: unknown): ExecutionStoreError => new ExecutionStoreError(`${file} line ${lineNumber}: ${why}`, { cause });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw fail('not JSON', cause);
  }
  return parseWith(LineSchema, value, (_message, [field]) => {
    if (field === 'record') return fail('record is malformed');
    if (field === 'arn') return fail('arn is missing');
    return fail(`unknown or incomplete op ${JSON.stringify(isPlainObject(value) ? value.op : undefined)}`);
  });
}

export class ExecutionStore {
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly records: Map<string, ExecutionRecord>,
  ) {}

  /**
   * Opens the journal in `file`. Executions a previous process left RUNNING are ended FAILED (`INTERRUPTED`),
   * with an ExecutionFailed event, because their state inside the run was never saved. A last line cut short by
   * a kill is dropped: its write never completed, so nothing was acknowledged for it.
   */
  static open(file: string): { readonly store: ExecutionStore; readonly interrupted: readonly ExecutionRecord[] } {
    mkdirSync(dirname(file), { recursive: true });
    const records = new Map<string, ExecutionRecord>();
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      const last = lines.length - 1;
      lines.forEach((text, index) => {
        if (text === '') return;
        let line: Line;
        try {
          line = parseLine(text, file, index + 1);
        } catch (error) {
          if (index === last) return;
          throw error;
        }
        if (line.op === 'record' || line.op === 'start') {
          records.set(line.record.executionArn, { ...line.record, events: [...line.record.events] });
          return;
        }
        const record = records.get(line.arn);
        if (!record) throw new ExecutionStoreError(`${file} line ${index + 1}: no execution ${line.arn}`);
        record.events.push(line.event);
        if (line.op === 'end') Object.assign(record, line.end, { stopDate: line.event.timestamp });
      });
    }
    const interrupted: ExecutionRecord[] = [];
    const now = Date.now();
    for (const record of records.values()) {
      if (record.status !== 'RUNNING') continue;
      Object.assign(record, { status: 'FAILED', stopDate: now, ...INTERRUPTED });
      record.events.push({ ...executionFailed(INTERRUPTED.error, INTERRUPTED.cause), timestamp: now });
      interrupted.push(record);
    }
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, [...records.values()].map((record) => `${JSON.stringify({ op: 'record', record })}\n`).join(''));
    renameSync(temporary, file);
    return { store: new ExecutionStore(openSync(file, 'a'), records), interrupted };
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  /** Executions of one state machine, newest first, as ListExecutions orders them. */
  ofStateMachine(stateMachineArn: string): ExecutionRecord[] {
    return [...this.records.values()].filter((record) => record.stateMachineArn === stateMachineArn).sort(newestFirst);
  }

  running(): ExecutionRecord[] {
    return [...this.records.values()].filter((record) => record.status === 'RUNNING');
  }

  add(record: ExecutionRecord): void {
    this.write({ op: 'start', record });
    this.records.set(record.executionArn, record);
  }

  append(record: ExecutionRecord, event: HistoryEventBody): void {
    this.write({ op: 'event', arn: record.executionArn, event });
    record.events.push(event);
  }

  /** Records how the execution ended with its last history event, in one line: a kill keeps both or neither. */
  end(record: ExecutionRecord, end: ExecutionEnd, event: HistoryEventBody): void {
    this.write({ op: 'end', arn: record.executionArn, end, event });
    record.events.push(event);
    Object.assign(record, end, { stopDate: event.timestamp });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private write(line: Line): void {
    if (this.closed) throw new ExecutionStoreError('the execution store is closed');
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }
}

/** Newest start first; executions started in the same millisecond keep a stable order by ARN. */
export function newestFirst(a: ExecutionRecord, b: ExecutionRecord): number {
  return b.startDate - a.startDate || (a.executionArn < b.executionArn ? 1 : a.executionArn > b.executionArn ? -1 : 0);
}
