import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSettled, ResultsTable } from '../../src/lib/tables/results.js';
import type { ResultRow } from '../../src/lib/tables/results.js';
import { normalizeSequencer } from '../../src/lib/s3-event.js';
import { startLocalDynamo } from '../fixtures/dynamodb.js';
import type { LocalDynamo } from '../fixtures/dynamodb.js';

const TABLE = 'results';
let dynamo: LocalDynamo;
let store: ResultsTable;
let keyCounter = 0;
let key: string;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await dynamo.createTable({
    TableName: TABLE,
    AttributeDefinitions: [{ AttributeName: 'imageKey', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'imageKey', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  store = new ResultsTable(dynamo.documents, TABLE);
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(() => {
  keyCounter += 1;
  key = `inbox/image-${keyCounter}.jpeg`;
});

const EARLY = normalizeSequencer('0062E99A88DC407460');
const LATE = normalizeSequencer('0062E99A88DC407470');

function row(sequencer: string, status: ResultRow['status'], label?: string): ResultRow {
  return {
    imageKey: key,
    bucket: 'b',
    status,
    label,
    sequencer,
    eventTime: '2026-11-25T10:00:00.000Z',
    processedAt: '2026-11-25T10:00:01.000Z',
    latencyMs: 12,
  };
}

async function stored(): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { imageKey: key } }));
  return Item;
}

describe('ResultsTable.save', () => {
  it('writes the first result for a key', async () => {
    expect(await store.save(row(EARLY, 'CLASSIFIED', 'NORMAL'))).toBe(true);
    expect(await stored()).toMatchObject({ status: 'CLASSIFIED', label: 'NORMAL', sequencer: EARLY });
  });

  it('lets a re-upload (newer sequencer) replace the result', async () => {
    await store.save(row(EARLY, 'CLASSIFIED', 'NORMAL'));
    expect(await store.save(row(LATE, 'CLASSIFIED', 'PNEUMONIA'))).toBe(true);
    expect(await stored()).toMatchObject({ label: 'PNEUMONIA', sequencer: LATE });
  });

  it('keeps the newer result when a late event arrives', async () => {
    await store.save(row(LATE, 'CLASSIFIED', 'PNEUMONIA'));
    expect(await store.save(row(EARLY, 'CLASSIFIED', 'NORMAL'))).toBe(false);
    expect(await stored()).toMatchObject({ label: 'PNEUMONIA', sequencer: LATE });
  });

  it('keeps a final result when the same event is delivered again', async () => {
    await store.save(row(EARLY, 'CLASSIFIED', 'NORMAL'));
    expect(await store.save(row(EARLY, 'NEEDS_REVIEW', 'PNEUMONIA'))).toBe(false);
    expect(await stored()).toMatchObject({ status: 'CLASSIFIED', label: 'NORMAL' });
  });

  it.each(['PENDING', 'FAILED'] as const)('lets the same event replace a %s row (re-drive, retry)', async (status) => {
    await store.save(row(EARLY, status));
    expect(await store.save(row(EARLY, 'CLASSIFIED', 'NORMAL'))).toBe(true);
    expect(await stored()).toMatchObject({ status: 'CLASSIFIED' });
  });

  it('never lets an older event replace a PENDING row of a newer upload', async () => {
    await store.save(row(LATE, 'PENDING'));
    expect(await store.save(row(EARLY, 'CLASSIFIED', 'NORMAL'))).toBe(false);
  });

  it('reads back the order of the stored row', async () => {
    await store.save(row(LATE, 'PENDING'));
    expect(await store.order(key)).toEqual({ sequencer: LATE, status: 'PENDING' });
    keyCounter += 1;
    key = `inbox/image-${keyCounter}.jpeg`;
    expect(await store.order(key)).toBeUndefined();
  });
});

describe('isSettled', () => {
  it.each([
    [undefined, EARLY, false],
    [{ sequencer: LATE, status: 'PENDING' as const }, EARLY, true],
    [{ sequencer: EARLY, status: 'CLASSIFIED' as const }, EARLY, true],
    [{ sequencer: EARLY, status: 'REJECTED' as const }, EARLY, true],
    [{ sequencer: EARLY, status: 'PENDING' as const }, EARLY, false],
    [{ sequencer: EARLY, status: 'FAILED' as const }, EARLY, false],
    [{ sequencer: EARLY, status: 'CLASSIFIED' as const }, LATE, false],
  ])('stored %j, event %s → %s', (storedRow, sequencer, expected) => {
    expect(isSettled(storedRow, sequencer)).toBe(expected);
  });
});
