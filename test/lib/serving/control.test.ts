import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ServingControl } from '../../../src/lib/serving/control.js';
import type { ServingControlDeps } from '../../../src/lib/serving/control.js';
import type { ExecutionStatus } from '../../../src/lib/serving/decisions.js';
import { DEFAULT_POLICY } from '../../../src/lib/serving/policy.js';
import { ServingStore } from '../../../src/lib/serving/store.js';
import { registryTableInput, tablePerTest } from '../../fixtures/dynamodb.js';
import type { LocalDynamo } from '../../fixtures/dynamodb.js';

/* The serving check against a request whose run ended unheard: against dynalite, with Step Functions' answer given. */

const ARN = 'arn:aws:rekognition:eu-west-1:123456789012:project/pneumo/version/v1/1';
const START_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:pneumo-dev-start-model';
const STOP_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:pneumo-dev-stop-model';
const NOW = Date.parse('2026-12-01T09:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

const fixture = tablePerTest('registry', registryTableInput);
let dynamo: LocalDynamo;
let table: string;
let startExecution: ReturnType<typeof vi.fn<ServingControlDeps['startExecution']>>;
let control: ServingControl;
const logger = { info: vi.fn(), warn: vi.fn() };

beforeEach(async () => {
  dynamo = fixture.dynamo();
  table = fixture.table();
  startExecution = vi.fn<ServingControlDeps['startExecution']>(({ name }) => Promise.resolve(`arn:aws:states:eu-west-1:123456789012:execution:pneumo-dev-start-model:${name}`));
  control = new ServingControl({ store: new ServingStore(dynamo.documents, table), startExecution, startMachineArn: START_MACHINE, stopMachineArn: STOP_MACHINE, policy: DEFAULT_POLICY, logger });
  await dynamo.documents.send(
    new PutCommand({ TableName: table, Item: { id: 'active', projectVersionArn: ARN, state: 'STOPPED', serving: { request: 'START', reason: 'on-demand', requestedAt: iso(NOW - 5 * 60_000), executionName: 'on-demand-start-a' } } }),
  );
});

async function item(): Promise<Record<string, unknown> | undefined> {
  return (await dynamo.documents.send(new GetCommand({ TableName: table, Key: { id: 'active' }, ConsistentRead: true }))).Item;
}

const pending = (): Promise<boolean> => Promise.resolve(true);

describe('ServingControl.check with a request in flight', () => {
  it('asks after the execution the request names, and leaves a running one in flight', async () => {
    const status = vi.fn((): Promise<ExecutionStatus> => Promise.resolve('RUNNING'));
    const result = await control.check(NOW, pending, status);
    expect(status).toHaveBeenCalledExactlyOnceWith('arn:aws:states:eu-west-1:123456789012:execution:pneumo-dev-start-model:on-demand-start-a');
    expect(result).toMatchObject({ verdict: { action: 'none', why: 'in-flight' } });
    expect(result).not.toHaveProperty('cleared');
    expect(startExecution).not.toHaveBeenCalled();
  });

  it('clears a start whose run was aborted and, with images waiting, starts the model again in the same check', async () => {
    const result = await control.check(NOW, pending, () => Promise.resolve('ABORTED'));
    expect(result.cleared).toEqual({ kind: 'START', error: 'execution-ended-unrecorded: ABORTED', backOff: false });
    expect(result.verdict).toEqual({ action: 'start', reason: 'on-demand' });
    expect(startExecution).toHaveBeenCalledOnce();
    expect((await item())?.serving).toMatchObject({ request: 'START', requestedAt: iso(NOW), executionName: 'on-demand-start-20261201T090000000Z' });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('ended without its run recording it'), expect.objectContaining({ executionName: 'on-demand-start-a' }));
  });

  it('clears a start whose run failed, then backs on-demand starts off', async () => {
    const result = await control.check(NOW, pending, () => Promise.resolve('FAILED'));
    expect(result.cleared?.backOff).toBe(true);
    expect(result.verdict).toEqual({ action: 'none', why: 'start-backoff' });
    expect(await item()).toMatchObject({ lastStartFailedAt: iso(NOW) });
    expect(await item()).not.toHaveProperty('serving');
  });

  it('makes no call for a request without an execution name (a start a user or schedule made) or past its timeout', async () => {
    await dynamo.documents.send(new PutCommand({ TableName: table, Item: { id: 'active', projectVersionArn: ARN, state: 'STOPPED', serving: { request: 'START', reason: 'user', requestedAt: iso(NOW - 60_000) } } }));
    const status = vi.fn((): Promise<ExecutionStatus> => Promise.resolve('ABORTED'));
    expect((await control.check(NOW, pending, status)).verdict).toEqual({ action: 'none', why: 'in-flight' });
    await control.check(NOW + DEFAULT_POLICY.requestTimeoutMs, pending, status);
    expect(status).not.toHaveBeenCalled();
  });
});
