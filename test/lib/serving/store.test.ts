import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { ServingStore } from '../../../src/lib/serving/store.js';
import type { ActiveServing } from '../../../src/lib/serving/store.js';
import { registryTableInput, tablePerTest } from '../../fixtures/dynamodb.js';
import type { LocalDynamo } from '../../fixtures/dynamodb.js';

/* Every conditional write of the serving fields, against dynalite: who wins, and what a lost write leaves alone. */

const ARN = 'arn:aws:rekognition:eu-west-1:123456789012:project/pneumo/version/v1/1';
const OTHER = 'arn:aws:rekognition:eu-west-1:123456789012:project/pneumo/version/v2/2';
const NOW = Date.parse('2026-12-01T09:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

const fixture = tablePerTest('registry', registryTableInput);
let table: string;
let dynamo: LocalDynamo;
let store: ServingStore;

beforeEach(() => {
  dynamo = fixture.dynamo();
  table = fixture.table();
  store = new ServingStore(dynamo.documents, table);
});

async function active(fields: Record<string, unknown> = {}): Promise<void> {
  await dynamo.documents.send(new PutCommand({ TableName: table, Item: { id: 'active', projectVersionArn: ARN, state: 'RUNNING', ...fields } }));
}

async function item(): Promise<Record<string, unknown> | undefined> {
  return (await dynamo.documents.send(new GetCommand({ TableName: table, Key: { id: 'active' }, ConsistentRead: true }))).Item;
}

async function seen(): Promise<ActiveServing> {
  const read = await store.read();
  if (!read) throw new Error('no active item');
  return read;
}

const request = (kind: 'START' | 'STOP', at: number): { kind: 'START' | 'STOP'; reason: string; requestedAt: string; executionName: string } => ({
  kind,
  reason: kind === 'STOP' ? 'idle' : 'on-demand',
  requestedAt: iso(at),
  executionName: `${kind.toLowerCase()}-${String(at)}`,
});

describe('ServingStore', () => {
  it('reads nothing without an active version', async () => {
    expect(await store.read()).toBeUndefined();
    await dynamo.documents.send(new PutCommand({ TableName: table, Item: { id: 'active' } }));
    expect(await store.read()).toBeUndefined();
  });

  it('one caller wins a request on what it read; a stale read, another version or another state loses', async () => {
    await active();
    const before = await seen();
    expect(before).toMatchObject({ projectVersionArn: ARN, requestedAtText: undefined, state: { running: true, request: undefined } });
    expect(await store.claimRequest(before, request('STOP', NOW))).toBe(true);
    expect(await store.claimRequest(before, request('STOP', NOW + 1))).toBe(false);
    const after = await seen();
    expect(after).toMatchObject({ requestedAtText: iso(NOW), state: { request: { kind: 'STOP', at: NOW } } });
    expect((await item())?.serving).toEqual({ request: 'STOP', reason: 'idle', requestedAt: iso(NOW), executionName: `stop-${String(NOW)}` });
    expect(await store.claimRequest({ ...after, projectVersionArn: OTHER }, request('STOP', NOW + 2))).toBe(false);
    expect(await store.claimRequest({ ...after, state: { ...after.state, running: false } }, request('START', NOW + 2))).toBe(false);
    expect(await store.claimRequest(after, request('STOP', NOW + 3))).toBe(true);
    await active({ state: 'STOPPED' });
    const stopped = await seen();
    expect(await store.claimRequest({ ...stopped, state: { ...stopped.state, running: true } }, request('STOP', NOW))).toBe(false);
    expect(await store.claimRequest(stopped, request('START', NOW))).toBe(true);
  });

  it('a start run marks a start in flight unless a fresh one is, and needs the item', async () => {
    await store.startRunBegan('user', NOW, NOW - 60_000);
    expect(await item()).toBeUndefined();
    await active({ serving: { request: 'START', reason: 'on-demand', requestedAt: iso(NOW - 1000) } });
    await store.startRunBegan('user', NOW, NOW - 60_000);
    expect((await item())?.serving).toMatchObject({ reason: 'on-demand', requestedAt: iso(NOW - 1000) });
    await store.startRunBegan('user', NOW, NOW);
    expect((await item())?.serving).toEqual({ request: 'START', reason: 'user', requestedAt: iso(NOW) });
    await active({ serving: { request: 'STOP', reason: 'idle', requestedAt: iso(NOW - 1000) } });
    await store.startRunBegan('schedule', NOW, NOW - 60_000);
    expect((await item())?.serving).toMatchObject({ request: 'START', reason: 'schedule' });
  });

  it('withdraws only the request it made', async () => {
    await active({ serving: { request: 'START', requestedAt: iso(NOW) } });
    await store.withdrawRequest(iso(NOW - 1));
    expect(await item()).toHaveProperty('serving');
    await store.withdrawRequest(iso(NOW));
    expect(await item()).not.toHaveProperty('serving');
  });

  it('marks use at most once an interval, and only for the active version', async () => {
    await active();
    expect(await store.markUsed(ARN, NOW, 60_000)).toBe(true);
    expect(await store.markUsed(ARN, NOW + 30_000, 60_000)).toBe(false);
    expect(await store.markUsed(OTHER, NOW + 90_000, 60_000)).toBe(false);
    expect((await item())?.lastUsedAt).toBe(iso(NOW));
    expect(await store.markUsed(ARN, NOW + 60_000, 60_000)).toBe(true);
    expect((await item())?.lastUsedAt).toBe(iso(NOW + 60_000));
  });

  it('a failed start ends its request and notes the failure, only on an existing item', async () => {
    await store.startFailed(iso(NOW), 'LimitExceeded');
    expect(await item()).toBeUndefined();
    await active({ serving: { request: 'START', requestedAt: iso(NOW - 1000) } });
    await store.startFailed(iso(NOW), 'LimitExceeded');
    const after = await item();
    expect(after).toMatchObject({ lastStartFailedAt: iso(NOW), lastStartError: 'LimitExceeded' });
    expect(after).not.toHaveProperty('serving');
  });

  it('ends an unrecorded request only if it is exactly the one read, noting the failure as its run would have', async () => {
    await active({ state: 'STOPPED', serving: { request: 'START', requestedAt: iso(NOW - 1000), executionName: 'on-demand-start-a' } });
    expect((await seen()).state.request).toEqual({ kind: 'START', at: NOW - 1000, executionName: 'on-demand-start-a' });
    const end = { kind: 'START' as const, error: 'execution-ended-unrecorded: ABORTED', backOff: false, at: iso(NOW) };
    expect(await store.requestEndedUnrecorded(iso(NOW - 2000), end)).toBe(false);
    expect(await store.requestEndedUnrecorded(iso(NOW - 1000), { ...end, kind: 'STOP' })).toBe(false);
    expect(await item()).toHaveProperty('serving');
    expect(await store.requestEndedUnrecorded(iso(NOW - 1000), end)).toBe(true);
    const after = await item();
    expect(after).toMatchObject({ lastStartError: 'execution-ended-unrecorded: ABORTED' });
    expect(after).not.toHaveProperty('serving');
    expect(after).not.toHaveProperty('lastStartFailedAt');

    await active({ state: 'STOPPED', serving: { request: 'START', requestedAt: iso(NOW - 1000), executionName: 'on-demand-start-b' } });
    await store.requestEndedUnrecorded(iso(NOW - 1000), { ...end, error: 'execution-ended-unrecorded: FAILED', backOff: true });
    expect(await item()).toMatchObject({ lastStartFailedAt: iso(NOW), lastStartError: 'execution-ended-unrecorded: FAILED' });

    await active({ serving: { request: 'STOP', requestedAt: iso(NOW - 1000), executionName: 'idle-stop-c' } });
    await store.requestEndedUnrecorded(iso(NOW - 1000), { ...end, kind: 'STOP', error: 'execution-ended-unrecorded: TIMED_OUT' });
    expect(await item()).toMatchObject({ lastStopFailedAt: iso(NOW), lastStopError: 'execution-ended-unrecorded: TIMED_OUT' });
    expect(await item()).not.toHaveProperty('serving');
  });

  it('a stop marks its own version only, and a stop request ends only a stop', async () => {
    await active({ serving: { request: 'STOP', requestedAt: iso(NOW) } });
    await store.stopped(OTHER, { stopReason: 'idle', servedDay: '2026-12-01', servedMs: 5000 });
    expect(await item()).not.toHaveProperty('stopReason');
    await store.stopped(ARN, { stopReason: 'idle', servedDay: '2026-12-01', servedMs: 5000 });
    expect(await item()).toMatchObject({ stopReason: 'idle', servedDay: '2026-12-01', servedMs: 5000 });
    expect(await item()).not.toHaveProperty('serving');
    await active({ serving: { request: 'START', requestedAt: iso(NOW) } });
    await store.stopRequestEnded();
    expect(await item()).toHaveProperty('serving');
    await active({ serving: { request: 'STOP', requestedAt: iso(NOW) } });
    await store.stopRequestEnded();
    expect(await item()).not.toHaveProperty('serving');
  });
});
