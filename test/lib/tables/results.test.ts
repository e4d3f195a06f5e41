import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { readBacklog } from '../../../src/lib/gauges.js';
import { pendingWorkProbe } from '../../../src/lib/serving/check.js';
import { labelPartition, ResultsTable, statusPartition } from '../../../src/lib/tables/results.js';
import type { ResultItem, ReviewDecision } from '../../../src/lib/tables/results.js';
import { resultsTableInput, tablePerTest } from '../../fixtures/dynamodb.js';
import type { LocalDynamo } from '../../fixtures/dynamodb.js';

/*
 * The results table module's index reads and review writes against dynalite, so key conditions, filters, pages
 * and conditions are evaluated by a DynamoDB implementation, not by our idea of one. Each test has its own table.
 */

const fixture = tablePerTest('results', resultsTableInput);
let table: string;
let dynamo: LocalDynamo;
let results: ResultsTable;

beforeEach(() => {
  dynamo = fixture.dynamo();
  table = fixture.table();
  results = new ResultsTable(dynamo.documents, table);
});

/** Minute `n` of a day, as processedAt and eventTime. */
const at = (minute: number): string => new Date(Date.UTC(2026, 11, 1, 8, minute)).toISOString();

async function put(imageKey: string, status: string, minute: number, fields: Record<string, unknown> = {}): Promise<void> {
  await dynamo.documents.send(new PutCommand({ TableName: table, Item: { imageKey, status, processedAt: at(minute), eventTime: at(minute), sequencer: 'S1', ...fields } }));
}

async function stored(imageKey: string): Promise<ResultItem | undefined> {
  return (await dynamo.documents.send(new GetCommand({ TableName: table, Key: { imageKey }, ConsistentRead: true }))).Item;
}

const keys = (rows: readonly ResultItem[]): unknown[] => rows.map((row) => row.imageKey);

describe('ResultsTable index reads', () => {
  it('a label partition newest first, filtered by status, within a time range, up to the limit', async () => {
    for (let minute = 0; minute < 6; minute += 1) await put(`p${minute}`, minute % 2 === 0 ? 'CLASSIFIED' : 'NEEDS_REVIEW', minute, { label: 'PNEUMONIA' });
    await put('n0', 'CLASSIFIED', 3, { label: 'NORMAL' });
    expect(keys(await results.queryIndex(labelPartition('PNEUMONIA'), { limit: 10 }))).toEqual(['p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
    expect(keys(await results.queryIndex(labelPartition('PNEUMONIA'), { limit: 2 }, 'CLASSIFIED'))).toEqual(['p4', 'p2']);
    expect(keys(await results.queryIndex(labelPartition('PNEUMONIA'), { limit: 10, since: at(1), until: at(4), order: 'oldest' }))).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(keys(await results.queryIndex(statusPartition('CLASSIFIED'), { limit: 10, since: at(3) }))).toEqual(['p4', 'n0']);
  });

  it('the oldest row of a status, how many there are, and whether any waits', async () => {
    const waiting = pendingWorkProbe(dynamo.documents, table);
    expect(await results.oldest('PENDING')).toBeUndefined();
    expect(await results.count('PENDING')).toBe(0);
    expect(await waiting()).toBe(false);
    await put('late', 'PENDING', 9);
    await put('early', 'PENDING', 2);
    await put('done', 'CLASSIFIED', 1);
    expect(await results.oldest('PENDING')).toEqual({ imageKey: 'early', processedAt: at(2) });
    expect(await results.count('PENDING')).toBe(2);
    expect(await waiting()).toBe(true);
    expect(await readBacklog(dynamo.documents, table)).toEqual({ pendingImages: 2, oldestPending: { imageKey: 'early', since: at(2) } });
  });

  it('waiting rows before a cutoff, by reason, one page at a time', async () => {
    await put('a', 'PENDING', 1, { reason: 'no-model' });
    await put('b', 'PENDING', 2, { reason: 'model-stopped' });
    await put('c', 'PENDING', 3, { reason: 'no-model' });
    await put('d', 'PENDING', 8, { reason: 'no-model' });
    const first = await results.waitingPage('PENDING', at(5), ['no-model'], undefined, 2);
    expect(keys(first.items)).toEqual(['a']);
    expect(first.lastKey).toBeDefined();
    const second = await results.waitingPage('PENDING', at(5), ['no-model'], first.lastKey, 2);
    expect(keys(second.items)).toEqual(['c']);
    expect(keys((await results.waitingPage('PENDING', at(5), undefined, undefined, 10)).items)).toEqual(['a', 'b', 'c']);
  });

  it('arrival times since a time over several statuses, cut at the maximum', async () => {
    await put('a', 'CLASSIFIED', 1);
    await put('b', 'CLASSIFIED', 4);
    await put('c', 'PENDING', 5);
    await put('d', 'REJECTED', 6, { eventTime: 'not a time' });
    expect(await results.eventTimesSince(['CLASSIFIED', 'PENDING', 'REJECTED'], at(2), 10)).toEqual({ times: [Date.parse(at(4)), Date.parse(at(5))], truncated: false });
    expect(await results.eventTimesSince(['CLASSIFIED', 'PENDING'], at(0), 2)).toEqual({ times: [Date.parse(at(1)), Date.parse(at(4))], truncated: true });
  });

  it('decided rows since a time, and whether the read budget saw them all', async () => {
    for (let minute = 0; minute < 6; minute += 1) await put(`r${minute}`, 'CLASSIFIED', minute, minute % 2 === 0 ? { reviewedAt: at(10) } : {});
    const all = await results.reviewedSince('CLASSIFIED', at(1), 100);
    expect(all.complete).toBe(true);
    expect(keys(all.rows)).toEqual(['r4', 'r2']);
    const bounded = await results.reviewedSince('CLASSIFIED', at(0), 3);
    expect(bounded).toMatchObject({ complete: false });
    expect(keys(bounded.rows)).toEqual(['r4']);
  });

  it('deletes a row', async () => {
    await put('gone', 'CLASSIFIED', 1);
    await results.delete('gone');
    expect(await stored('gone')).toBeUndefined();
  });
});

describe('ResultsTable.slicesPage', () => {
  const slices = [
    { ...labelPartition('PNEUMONIA'), status: 'CLASSIFIED' as const, confidence: { from: 90, to: 100 } },
    { ...labelPartition('PNEUMONIA'), status: 'CLASSIFIED' as const, confidence: { from: 80, to: 90 } },
    { ...statusPartition('CLASSIFIED'), notLabel: 'PNEUMONIA' },
  ];

  beforeEach(async () => {
    await put('inbox/p95', 'CLASSIFIED', 1, { label: 'PNEUMONIA', confidence: 95 });
    await put('inbox/p100', 'CLASSIFIED', 2, { label: 'PNEUMONIA', confidence: 100 });
    await put('inbox/p85', 'CLASSIFIED', 3, { label: 'PNEUMONIA', confidence: 85 });
    await put('inbox/p70', 'CLASSIFIED', 4, { label: 'PNEUMONIA', confidence: 70 });
    await put('inbox/n1', 'CLASSIFIED', 5, { label: 'NORMAL', confidence: 99, reviewedAt: at(9) });
    await put('other/n2', 'CLASSIFIED', 6, { label: 'NORMAL', confidence: 98, reviewedAt: at(9), trainingKey: 'training/NORMAL/x.png' });
  });

  it('slices in order, each newest first, and a cursor that continues right after the last row shown', async () => {
    const request = { slices, filter: {}, limit: 3 };
    const first = await results.slicesPage({ ...request, from: { segment: 0 } });
    expect(keys(first.items)).toEqual(['inbox/p100', 'inbox/p95', 'inbox/p85']);
    expect(first.next).toBeDefined();
    const second = await results.slicesPage({ ...request, from: first.next ?? { segment: 0 } });
    expect(keys(second.items)).toEqual(['other/n2', 'inbox/n1']);
    expect(second.next).toBeUndefined();
  });

  it('a page that ends inside a Query continues with the row after the last one shown', async () => {
    const request = { slices, filter: {}, limit: 1 };
    const first = await results.slicesPage({ ...request, from: { segment: 0 } });
    expect(keys(first.items)).toEqual(['inbox/p100']);
    expect(first.next).toMatchObject({ segment: 0, startKey: { imageKey: 'inbox/p100', label: 'PNEUMONIA', processedAt: at(2) } });
    const second = await results.slicesPage({ ...request, from: first.next ?? { segment: 0 } });
    expect(keys(second.items)).toEqual(['inbox/p95']);
  });

  it('applies the time range, the key prefix and the review filters to every slice', async () => {
    const page = (filter: Parameters<ResultsTable['slicesPage']>[0]['filter'], since?: string) => results.slicesPage({ slices, filter, since, from: { segment: 0 }, limit: 10 });
    expect(keys((await page({ prefix: 'inbox/' })).items)).toEqual(['inbox/p100', 'inbox/p95', 'inbox/p85', 'inbox/n1']);
    expect(keys((await page({ review: 'reviewed' })).items)).toEqual(['other/n2', 'inbox/n1']);
    expect(keys((await page({ review: 'unreviewed' })).items)).toEqual(['inbox/p100', 'inbox/p95', 'inbox/p85']);
    expect(keys((await page({ review: 'copyable' })).items)).toEqual(['inbox/n1']);
    expect(keys((await page({}, at(2))).items)).toEqual(['inbox/p100', 'inbox/p85', 'other/n2', 'inbox/n1']);
  });
});

describe('ResultsTable review writes', () => {
  const decision: ReviewDecision = { reviewedLabel: 'NORMAL', reviewer: 'alice', reviewedAt: at(20), agreement: 'CORRECTED', reviewNote: 'rib shadow' };

  it('decides only the row the reviewer saw, only once, and never a row that is not there', async () => {
    await put('k', 'CLASSIFIED', 1, { label: 'PNEUMONIA', sequencer: 'S2' });
    expect(await results.recordDecision('missing', 'S2', decision)).toBeUndefined();
    expect(await stored('missing')).toBeUndefined();
    expect(await results.recordDecision('k', 'S1', decision)).toBeUndefined();
    expect(await stored('k')).not.toHaveProperty('reviewedAt');
    expect(await results.recordDecision('k', 'S2', decision)).toMatchObject({ imageKey: 'k', reviewedLabel: 'NORMAL', reviewer: 'alice', reviewNote: 'rib shadow' });
    expect(await results.recordDecision('k', 'S2', { ...decision, reviewer: 'bob', reviewedLabel: 'PNEUMONIA', agreement: 'AGREED' })).toBeUndefined();
    expect(await stored('k')).toMatchObject({ reviewer: 'alice', reviewedLabel: 'NORMAL' });
  });

  it('an empty note is not written', async () => {
    await put('k', 'CLASSIFIED', 1, { label: 'PNEUMONIA' });
    expect(await results.recordDecision('k', 'S1', { ...decision, reviewNote: '' })).not.toHaveProperty('reviewNote');
  });

  it('notes the training copy only while its decision stands, and undo removes only the own decision with its copy', async () => {
    await put('k', 'CLASSIFIED', 1, { label: 'PNEUMONIA' });
    await results.recordDecision('k', 'S1', decision);
    const copy = { imageKey: 'k', trainingKey: 'training/NORMAL/from-review/k.png', copiedAt: at(21) };
    expect(await results.recordTrainingCopy({ ...copy, reviewedAt: at(19) })).toBe(false);
    expect(await results.recordTrainingCopy({ ...copy, reviewedAt: at(20) })).toBe(true);
    expect(await results.removeDecision('k', 'bob', at(20))).toBeUndefined();
    expect(await results.removeDecision('k', 'alice', at(19))).toBeUndefined();
    expect(await results.removeDecision('k', 'alice', at(20))).toMatchObject({ reviewer: 'alice', trainingKey: copy.trainingKey });
    const row = await stored('k');
    for (const field of ['reviewedLabel', 'reviewer', 'reviewedAt', 'agreement', 'reviewNote', 'trainingKey', 'trainingCopiedAt']) expect(row).not.toHaveProperty(field);
    expect(row).toMatchObject({ status: 'CLASSIFIED', label: 'PNEUMONIA' });
  });
});
