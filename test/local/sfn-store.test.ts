import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutionStore, ExecutionStoreError } from '../../src/local/sfn-store.js';
import type { ExecutionRecord } from '../../src/local/sfn-store.js';

const ARN = 'arn:aws:states:eu-west-1:000000000000:execution:retrain:one';

function record(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    executionArn: ARN,
    stateMachineArn: 'arn:aws:states:eu-west-1:000000000000:stateMachine:retrain',
    name: 'one',
    input: '{}',
    status: 'RUNNING',
    startDate: 1_000,
    events: [{ type: 'ExecutionStarted', timestamp: 1_000 }],
    ...overrides,
  };
}

describe('ExecutionStore journal', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pneumo-sfn-store-'));
    file = join(dir, 'executions.jsonl');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function journal(...lines: unknown[]): void {
    writeFileSync(file, lines.map((line) => `${typeof line === 'string' ? line : JSON.stringify(line)}\n`).join(''));
  }

  it('replays start, event and end lines, keeping fields it does not know', () => {
    const end = { type: 'ExecutionSucceeded', timestamp: 3_000 };
    journal(
      { op: 'start', record: { ...record(), tracing: 'kept' } },
      { op: 'event', arn: ARN, event: { type: 'TaskStateEntered', timestamp: 2_000, stateEnteredEventDetails: { name: 'Prepare' } } },
      { op: 'end', arn: ARN, end: { status: 'SUCCEEDED', output: '{"ok":true}' }, event: end },
    );
    const { store, interrupted } = ExecutionStore.open(file);
    store.close();
    expect(interrupted).toEqual([]);
    expect(store.get(ARN)).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true}', stopDate: 3_000, tracing: 'kept' });
    expect(store.get(ARN)?.events.map((event) => event.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ExecutionSucceeded']);
    expect(readFileSync(file, 'utf8')).toContain('"tracing":"kept"');
  });

  it.each([
    ['{', 'not JSON'],
    [{ op: 'start', record: { ...record(), status: 'DONE' } }, 'record is malformed'],
    [{ op: 'record', record: { ...record(), events: 'none' } }, 'record is malformed'],
    [{ op: 'event', event: { type: 'TaskStateEntered', timestamp: 2 } }, 'arn is missing'],
    [{ op: 'event', arn: ARN }, 'unknown or incomplete op "event"'],
    [{ op: 'end', arn: ARN, end: { status: 'SUCCEEDED' } }, 'unknown or incomplete op "end"'],
    [{ op: 'resume', arn: ARN }, 'unknown or incomplete op "resume"'],
  ])('names what is wrong with a damaged line %j', (damaged, why) => {
    journal({ op: 'start', record: record() }, damaged, { op: 'event', arn: ARN, event: { type: 'TaskStateEntered', timestamp: 2 } });
    expect(() => ExecutionStore.open(file)).toThrow(new ExecutionStoreError(`${file} line 2: ${why}`));
  });

  it('drops a last line cut short by a kill', () => {
    writeFileSync(file, `${JSON.stringify({ op: 'start', record: record({ status: 'SUCCEEDED' }) })}\n{"op":"event","arn":`);
    const { store } = ExecutionStore.open(file);
    store.close();
    expect(store.get(ARN)?.events).toHaveLength(1);
  });
});
