import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TrainingInProgressError, VersionExistsError } from '../../../src/lib/errors.js';
import { TRAINING_LOCK_ID } from '../../../src/lib/tables/registry.js';
import { TrainingRegistry } from '../../../src/lib/training/registry.js';
import { startLocalDynamo } from '../../fixtures/dynamodb.js';
import type { LocalDynamo } from '../../fixtures/dynamodb.js';

let dynamo: LocalDynamo;
let registry: TrainingRegistry;
let table: string;
let counter = 0;

const ME = 'arn:aws:states:eu-west-1:123456789012:execution:train:train-v1';
const OTHER = 'arn:aws:states:eu-west-1:123456789012:execution:train:train-v2';
const NOW = '2026-11-25T10:00:00.000Z';
const LATER = '2026-11-26T10:00:00.000Z';

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  counter += 1;
  table = `registry-unit-${counter}`;
  await dynamo.createTable({
    TableName: table,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  registry = new TrainingRegistry(dynamo.documents, table);
});

async function stored(id: string): Promise<Record<string, unknown> | undefined> {
  return (await dynamo.documents.send(new GetCommand({ TableName: table, Key: { id } }))).Item;
}

describe('training lock', () => {
  it('is taken once; a second run is refused naming the holder; the holder may take it again', async () => {
    await registry.acquireLock('v1', ME, NOW, LATER);
    await expect(registry.acquireLock('v2', OTHER, NOW, LATER)).rejects.toThrow(new TrainingInProgressError('v1'));
    await expect(registry.acquireLock('v1', ME, NOW, LATER)).resolves.toBeUndefined();
    expect(await stored(TRAINING_LOCK_ID)).toMatchObject({ versionName: 'v1', executionArn: ME });
  });

  it('is taken over once it has expired', async () => {
    await registry.acquireLock('v1', ME, NOW, '2026-11-25T11:00:00.000Z');
    await registry.acquireLock('v2', OTHER, '2026-11-25T12:00:00.000Z', LATER);
    expect(await registry.lockHolder()).toEqual({ versionName: 'v2', executionArn: OTHER });
  });

  it('is released only by the run holding it', async () => {
    await registry.acquireLock('v1', ME, NOW, LATER);
    expect(await registry.releaseLock(OTHER)).toBe(false);
    expect(await stored(TRAINING_LOCK_ID)).toBeDefined();
    expect(await registry.releaseLock(ME)).toBe(true);
    expect(await stored(TRAINING_LOCK_ID)).toBeUndefined();
    expect(await registry.releaseLock(ME)).toBe(false);
  });
});

describe('version items', () => {
  const claim = { versionName: 'v1', executionArn: ME, requestedAt: NOW, trainingPrefix: 'training/', testingPrefix: undefined };

  it('claims a name once; the same run may claim again (a retried Lambda), another run may not', async () => {
    await registry.claimVersion(claim);
    await registry.claimVersion(claim);
    await expect(registry.claimVersion({ ...claim, executionArn: OTHER })).rejects.toThrow(VersionExistsError);
    expect(await stored('version#v1')).toMatchObject({ status: 'TRAINING', executionArn: ME, trainingPrefix: 'training/' });
  });

  it('lets only the claiming run update its item, and anyone update an existing item without a run', async () => {
    await registry.claimVersion(claim);
    expect(await registry.updateVersion('v1', { status: 'FAILED' }, OTHER)).toBe(false);
    expect(await registry.updateVersion('v1', { status: 'TRAINED', f1: 0.9, ignored: undefined }, ME)).toBe(true);
    expect(await registry.updateVersion('v1', { status: 'DEPLOYED' })).toBe(true);
    expect(await registry.updateVersion('v-unknown', { status: 'DEPLOYED' })).toBe(false);
    expect(await stored('version#v1')).toMatchObject({ status: 'DEPLOYED', f1: 0.9 });
    expect(await stored('version#v-unknown')).toBeUndefined();
  });
});

describe('active item', () => {
  it('is marked stopped only while it still names the stopped version', async () => {
    await registry.putActive({ projectVersionArn: 'arn:new', versionName: 'v2', state: 'RUNNING', minInferenceUnits: 1, maxInferenceUnits: 2 });
    expect(await registry.markActiveStopped('arn:old', NOW)).toBe(false);
    expect(await registry.markActiveStopped('arn:new', NOW)).toBe(true);
    expect(await registry.active()).toMatchObject({ projectVersionArn: 'arn:new', state: 'STOPPED', inferenceUnits: { min: 1, max: 2 } });
  });
});
