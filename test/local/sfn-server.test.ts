import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  ValidationException,
  paginateGetExecutionHistory,
  paginateListExecutions,
} from '@aws-sdk/client-sfn';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HISTORY_EVENTS } from '../../src/local/sfn-server.js';
import { DEFINITIONS, functionArn, machineArn, REGION, ROLE_ARN, startTestMachines } from '../fixtures/sfn-machines.js';
import type { MachineName, TestMachines } from '../fixtures/sfn-machines.js';

/*
 * Contract tests of the local Step Functions endpoint with the real `@aws-sdk/client-sfn` over HTTP: every
 * operation, paging past 1 000 executions, nested executions, StopExecution, history events and the service's
 * errors (where the SDK models an error, its class).
 */

let machines: TestMachines;

beforeAll(async () => {
  machines = await startTestMachines();
});

afterAll(async () => {
  machines.release();
  await machines.close();
  await rm(dirname(machines.stateFile), { recursive: true, force: true });
});

let counter = 0;
async function start(machine: MachineName, input: unknown = {}, name?: string): Promise<string> {
  counter += 1;
  const { executionArn } = await machines.client.send(
    new StartExecutionCommand({ stateMachineArn: machineArn(machine), name: name ?? `run-${counter}`, input: JSON.stringify(input) }),
  );
  if (!executionArn) throw new Error('no executionArn');
  return executionArn;
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client: machines.client, pageSize: 1000 }, { executionArn })) events.push(...(page.events ?? []));
  return events;
}

const types = (events: readonly HistoryEvent[]): string[] => events.map((event) => event.type ?? '');

describe('StartExecution, DescribeExecution and GetExecutionHistory', () => {
  it('records every state and Task as the service names them, numbered with ids and previousEventId', async () => {
    const arn = await start('work', { items: [1, 2] });
    await machines.sfn.idle();
    const described = await machines.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'SUCCEEDED', name: `run-${counter}`, stateMachineArn: machineArn('work'), inputDetails: { included: true } });
    expect(JSON.parse(described.output ?? '')).toMatchObject({ doubled: [2, 4], both: ['l', 'r'], prepared: { ready: true } });
    expect(described.stopDate?.getTime()).toBeGreaterThanOrEqual(described.startDate?.getTime() ?? Infinity);

    const events = await history(arn);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events.slice(0, 2).map((event) => event.previousEventId)).toEqual([0, 0]);
    expect(events.slice(2).every((event) => event.previousEventId === (event.id ?? 0) - 1)).toBe(true);
    expect(events.every((event) => event.timestamp instanceof Date)).toBe(true);
    expect(types(events).slice(0, 12)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'MapStateEntered',
      'MapStateStarted',
    ]);
    expect(types(events).slice(-15, -11)).toEqual(['MapStateSucceeded', 'MapStateExited', 'ParallelStateEntered', 'ParallelStateStarted']);
    // The branches' states, in whichever order the branches ran.
    expect(events.slice(-11, -7).map((event) => `${event.type ?? ''} ${event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name ?? ''}`).sort()).toEqual([
      'PassStateEntered Left',
      'PassStateEntered Right',
      'PassStateExited Left',
      'PassStateExited Right',
    ]);
    expect(types(events).slice(-7)).toEqual([
      'ParallelStateSucceeded',
      'ParallelStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events[0]?.executionStartedEventDetails).toMatchObject({ input: JSON.stringify({ items: [1, 2] }), roleArn: ROLE_ARN, inputDetails: { truncated: false } });
    expect(events[4]?.taskScheduledEventDetails).toEqual({ resourceType: 'aws-sdk:rekognition', resource: 'describeProjects', region: REGION, parameters: '{"ProjectNames":["p"]}' });
    expect(events[6]?.taskSucceededEventDetails).toMatchObject({ resourceType: 'aws-sdk:rekognition', resource: 'describeProjects', output: '{"ProjectDescriptions":[]}' });
    expect(events[7]?.stateExitedEventDetails).toMatchObject({ name: 'FindProject' });
    // Inside the Map: each iteration's Lambda Task, under the service's LambdaFunction* names.
    const inside = events.slice(12, -15);
    expect(inside.filter((event) => event.type === 'MapIterationStarted').map((event) => event.mapIterationStartedEventDetails)).toEqual(
      expect.arrayContaining([{ name: 'Each', index: 0 }, { name: 'Each', index: 1 }]),
    );
    const scheduled = inside.filter((event) => event.type === 'LambdaFunctionScheduled').map((event) => event.lambdaFunctionScheduledEventDetails);
    expect(scheduled).toEqual(expect.arrayContaining([expect.objectContaining({ resource: functionArn('double'), input: '1' }), expect.objectContaining({ input: '2' })]));
    expect(types(inside).filter((type) => type.startsWith('LambdaFunction')).sort()).toEqual([
      ...Array<string>(2).fill('LambdaFunctionScheduled'),
      ...Array<string>(2).fill('LambdaFunctionStarted'),
      ...Array<string>(2).fill('LambdaFunctionSucceeded'),
    ].sort());
    expect(events.at(-1)?.executionSucceededEventDetails?.output).toBe(described.output);
  });

  it('a failing Lambda Task is LambdaFunctionFailed, then ExecutionFailed with its error and cause', async () => {
    const arn = await start('work', { fail: true });
    await machines.sfn.idle();
    const described = await machines.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'TestFailure' });
    expect(described.output).toBeUndefined();
    const events = await history(arn);
    expect(types(events).slice(-4)).toEqual(['LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed', 'ExecutionFailed']);
    expect(events.at(-2)?.lambdaFunctionFailedEventDetails).toEqual({ error: 'TestFailure', cause: JSON.stringify({ errorType: 'TestFailure', errorMessage: 'the test said so' }) });
    expect(events.at(-1)?.executionFailedEventDetails).toEqual({ error: described.error, cause: described.cause });
  });

  it('pages a history with nextToken, forwards and reversed, and leaves out execution data when asked', async () => {
    const arn = await start('work', { items: [1, 2, 3] });
    await machines.sfn.idle();
    const all = await history(arn);
    const pages: HistoryEvent[][] = [];
    for await (const page of paginateGetExecutionHistory({ client: machines.client, pageSize: 4 }, { executionArn: arn })) pages.push(page.events ?? []);
    expect(pages.length).toBe(Math.ceil(all.length / 4));
    expect(pages.flat()).toEqual(all);
    const reversed: HistoryEvent[] = [];
    for await (const page of paginateGetExecutionHistory({ client: machines.client, pageSize: 5 }, { executionArn: arn, reverseOrder: true })) reversed.push(...(page.events ?? []));
    expect(reversed).toEqual([...all].reverse());
    const first = await machines.client.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 3, includeExecutionData: false }));
    expect(first.events).toHaveLength(3);
    expect(first.events?.[0]?.executionStartedEventDetails).toEqual({ roleArn: ROLE_ARN });
    expect(first.events?.[1]?.stateEnteredEventDetails).toEqual({ name: 'Prepare' });
    // A token continues only the request it came from.
    await expect(machines.client.send(new GetExecutionHistoryCommand({ executionArn: arn, nextToken: first.nextToken, reverseOrder: true }))).rejects.toBeInstanceOf(InvalidToken);
    await expect(machines.client.send(new GetExecutionHistoryCommand({ executionArn: arn, nextToken: 'not-a-token' }))).rejects.toBeInstanceOf(InvalidToken);
    await expect(machines.client.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1001 }))).rejects.toBeInstanceOf(ValidationException);
  });

  it('ends an execution whose history reaches 25 000 events, as the service does', async () => {
    const arn = await start('loop', { n: 0 });
    await machines.sfn.idle();
    const described = await machines.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).` });
    const last = await machines.client.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 1 }));
    expect(last.events?.[0]).toMatchObject({ id: MAX_HISTORY_EVENTS, type: 'ExecutionFailed' });
  }, 60_000);

  it('is idempotent for the same name and input while running, and refuses the name otherwise', async () => {
    const arn = await start('blocking', { a: 1 }, 'same-name');
    await expect(start('blocking', { a: 1 }, 'same-name')).resolves.toBe(arn);
    await expect(start('blocking', { a: 2 }, 'same-name')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    machines.release();
    await machines.sfn.idle();
    await expect(start('blocking', { a: 1 }, 'same-name')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });
});

describe('TimeoutSeconds', () => {
  it('ends an execution past its TimeoutSeconds as TIMED_OUT, with ExecutionTimedOut', async () => {
    const arn = await start('timeout');
    await machines.sfn.idle();
    expect(await machines.client.send(new DescribeExecutionCommand({ executionArn: arn }))).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    const events = await history(arn);
    expect(types(events)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionTimedOut']);
    expect(events.at(-1)?.executionTimedOutEventDetails?.error).toBe('States.Timeout');
  });
});

describe('ListExecutions', () => {
  const TOTAL = 1_050;
  let started: string[];

  beforeAll(async () => {
    started = [];
    for (let batch = 0; batch < TOTAL; batch += 50) {
      started.push(...(await Promise.all(Array.from({ length: Math.min(50, TOTAL - batch) }, () => start('quick')))));
    }
    await machines.sfn.idle();
  }, 120_000);

  it('pages more than 1 000 executions with nextToken, newest first, each once', async () => {
    const first = await machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('quick') }));
    expect(first.executions).toHaveLength(100);
    expect(first.nextToken).toBeDefined();
    const listed: { executionArn?: string; startDate?: Date; status?: string }[] = [];
    let pages = 0;
    for await (const page of paginateListExecutions({ client: machines.client, pageSize: 1000 }, { stateMachineArn: machineArn('quick') })) {
      pages += 1;
      listed.push(...(page.executions ?? []));
    }
    expect(pages).toBe(2);
    expect(listed).toHaveLength(TOTAL);
    expect(new Set(listed.map((item) => item.executionArn))).toEqual(new Set(started));
    const dates = listed.map((item) => item.startDate?.getTime() ?? 0);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    expect(listed.every((item) => item.status === 'SUCCEEDED')).toBe(true);
  }, 60_000);

  it('filters by status and pages with small pages; an execution started meanwhile is not repeated', async () => {
    const page1 = await machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('quick'), maxResults: 7 }));
    await start('quick');
    await machines.sfn.idle();
    const page2 = await machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('quick'), maxResults: 7, nextToken: page1.nextToken }));
    const arns = [...(page1.executions ?? []), ...(page2.executions ?? [])].map((item) => item.executionArn);
    expect(new Set(arns).size).toBe(14);
    const running = await machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('quick'), statusFilter: 'RUNNING' }));
    expect(running.executions).toEqual([]);
  });

  it('answers the service’s errors for a bad page size, filter, token or ARN', async () => {
    const list = (input: Partial<ConstructorParameters<typeof ListExecutionsCommand>[0]>): Promise<unknown> =>
      machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('quick'), ...input }));
    await expect(list({ maxResults: 1001 })).rejects.toThrow(expect.objectContaining({ name: 'ValidationException', message: expect.stringContaining("Value '1001' at 'maxResults'") as unknown }) as Error);
    await expect(list({ statusFilter: 'succeeded' as 'SUCCEEDED' })).rejects.toBeInstanceOf(ValidationException);
    await expect(list({ nextToken: 'garbage' })).rejects.toBeInstanceOf(InvalidToken);
    const other = await machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('work'), maxResults: 1 }));
    await expect(list({ nextToken: other.nextToken })).rejects.toBeInstanceOf(InvalidToken);
    await expect(list({ stateMachineArn: 'not-an-arn' })).rejects.toBeInstanceOf(InvalidArn);
    await expect(list({ stateMachineArn: machineArn('missing') })).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });
});

describe('nested executions (startExecution.sync:2)', () => {
  it('are executions of their own: listed, described, with their own history, the parent waiting for their output', async () => {
    const parentArn = await start('parent', { hold: false });
    await machines.sfn.idle();
    const parent = await machines.client.send(new DescribeExecutionCommand({ executionArn: parentArn }));
    expect(JSON.parse(parent.output ?? '')).toEqual({ childOutput: { answer: 42 } });
    const parentEvents = await history(parentArn);
    expect(types(parentEvents)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
    expect(parentEvents[2]?.taskScheduledEventDetails).toMatchObject({ resourceType: 'states', resource: 'startExecution.sync:2' });
    const childArn = (JSON.parse(parentEvents[4]?.taskSubmittedEventDetails?.output ?? '{}') as { ExecutionArn: string }).ExecutionArn;
    expect(childArn).toMatch(new RegExp(`^arn:aws:states:${REGION}:000000000000:execution:child:[0-9a-f-]{36}$`));
    const { executions = [] } = await machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('child') }));
    expect(executions.map((item) => item.executionArn)).toContain(childArn);
    const child = await machines.client.send(new DescribeExecutionCommand({ executionArn: childArn }));
    expect(child).toMatchObject({ status: 'SUCCEEDED', output: '{"answer":42}' });
    expect(JSON.parse(child.input ?? '')).toEqual({ hold: false, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parentArn });
    expect(types(await history(childArn))).toEqual(['ExecutionStarted', 'ChoiceStateEntered', 'ChoiceStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
    const forExecution = await machines.client.send(new DescribeStateMachineForExecutionCommand({ executionArn: childArn }));
    expect(forExecution).toMatchObject({ stateMachineArn: machineArn('child'), name: 'child', roleArn: ROLE_ARN });
    expect(JSON.parse(forExecution.definition ?? '')).toEqual(DEFINITIONS.child);
  });
});

describe('StopExecution', () => {
  it('stops the run: ABORTED with the error and cause, no Task after it, ExecutionAborted last', async () => {
    const before = machines.calls.hold?.length ?? 0;
    const arn = await start('blocking', { stop: 'me' });
    await machines.held(before + 1);
    const { stopDate } = await machines.client.send(new StopExecutionCommand({ executionArn: arn, error: 'Operator.Stop', cause: 'wrong dataset' }));
    expect(stopDate).toBeInstanceOf(Date);
    const described = await machines.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator.Stop', cause: 'wrong dataset', stopDate });
    // The Lambda that was running returns; the next Task must never start.
    const afterCalls = machines.calls.after?.length ?? 0;
    machines.release();
    await machines.sfn.idle();
    expect(machines.calls.after?.length).toBe(afterCalls);
    const events = await history(arn);
    expect(types(events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'ExecutionAborted']);
    expect(events.at(-1)).toMatchObject({ previousEventId: 0, executionAbortedEventDetails: { error: 'Operator.Stop', cause: 'wrong dataset' } });
    // Stopping it again changes nothing.
    const again = await machines.client.send(new StopExecutionCommand({ executionArn: arn }));
    expect(again.stopDate).toEqual(stopDate);
    expect((await machines.client.send(new DescribeExecutionCommand({ executionArn: arn }))).error).toBe('Operator.Stop');
  });

  it('ends a Wait at once', async () => {
    const arn = await start('sleeper');
    await machines.client.send(new StopExecutionCommand({ executionArn: arn }));
    await machines.sfn.idle();
    expect((await machines.client.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('ABORTED');
  });

  it('a stopped parent stops its nested child', async () => {
    const before = machines.calls.hold?.length ?? 0;
    const parentArn = await start('parent', { hold: true });
    await machines.held(before + 1);
    await machines.client.send(new StopExecutionCommand({ executionArn: parentArn }));
    machines.release();
    await machines.sfn.idle();
    const { executions = [] } = await machines.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('child'), statusFilter: 'ABORTED' }));
    expect(executions).toHaveLength(1);
    const child = await machines.client.send(new DescribeExecutionCommand({ executionArn: executions[0]?.executionArn }));
    expect(JSON.parse(child.input ?? '')).toMatchObject({ AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parentArn });
    expect(types(await history(child.executionArn ?? '')).at(-1)).toBe('ExecutionAborted');
    expect(types(await history(parentArn)).at(-1)).toBe('ExecutionAborted');
  });
});

describe('state machines and errors', () => {
  it('describes a state machine as deployed and lists them in pages', async () => {
    const described = await machines.client.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn('work') }));
    expect(described).toMatchObject({ stateMachineArn: machineArn('work'), name: 'work', roleArn: ROLE_ARN, type: 'STANDARD', status: 'ACTIVE' });
    expect(described.creationDate).toBeInstanceOf(Date);
    expect(JSON.parse(described.definition ?? '')).toEqual(DEFINITIONS.work);
    const first = await machines.client.send(new ListStateMachinesCommand({ maxResults: 3 }));
    const rest = await machines.client.send(new ListStateMachinesCommand({ maxResults: 1000, nextToken: first.nextToken }));
    const names = [...(first.stateMachines ?? []), ...(rest.stateMachines ?? [])].map((machine) => machine.name);
    expect(names.sort()).toEqual(Object.keys(DEFINITIONS).sort());
    expect(rest.nextToken).toBeUndefined();
  });

  it('answers InvalidArn, ExecutionDoesNotExist, StateMachineDoesNotExist, InvalidName and InvalidExecutionInput as the service does', async () => {
    const client = machines.client;
    await expect(client.send(new DescribeExecutionCommand({ executionArn: 'nope' }))).rejects.toThrow(expect.objectContaining({ name: 'InvalidArn', message: "Invalid Arn: 'Invalid ARN prefix: nope'" }) as Error);
    await expect(client.send(new DescribeExecutionCommand({ executionArn: machineArn('work') }))).rejects.toBeInstanceOf(InvalidArn);
    const missing = `arn:aws:states:${REGION}:000000000000:execution:work:missing`;
    await expect(client.send(new DescribeExecutionCommand({ executionArn: missing }))).rejects.toThrow(expect.objectContaining({ name: 'ExecutionDoesNotExist', message: `Execution Does Not Exist: '${missing}'` }) as Error);
    await expect(client.send(new GetExecutionHistoryCommand({ executionArn: missing }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(client.send(new StopExecutionCommand({ executionArn: missing }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(client.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn('missing') }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: machineArn('quick'), name: 'has space' }))).rejects.toBeInstanceOf(InvalidName);
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: machineArn('quick'), input: '{not json' }))).rejects.toBeInstanceOf(InvalidExecutionInput);
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: machineArn('quick'), input: '' }))).rejects.toBeInstanceOf(InvalidExecutionInput);
  });

  it('answers raw requests the SDK would not send: unknown operations, missing fields, bodies that are not JSON', async () => {
    const post = async (target: string, body: string): Promise<{ status: number; type: unknown; message: unknown }> => {
      const response = await fetch(machines.sfn.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target }, body });
      const parsed = (await response.json()) as { __type?: unknown; message?: unknown };
      return { status: response.status, type: parsed.__type, message: parsed.message };
    };
    expect(await post('AWSStepFunctions.CreateActivity', '{}')).toMatchObject({ status: 400, type: 'UnknownOperationException' });
    expect(await post('AWSStepFunctions.DescribeExecution', '{}')).toEqual({
      status: 400,
      type: 'ValidationException',
      message: "1 validation error detected: Value null at 'executionArn' failed to satisfy constraint: Member must not be null",
    });
    expect(await post('AWSStepFunctions.ListExecutions', '{not json')).toMatchObject({ status: 400, type: 'SerializationException' });
    expect(await post('AWSStepFunctions.ListExecutions', JSON.stringify({ stateMachineArn: machineArn('quick'), maxResults: 'ten' }))).toMatchObject({ status: 400, type: 'SerializationException' });
  });
});
