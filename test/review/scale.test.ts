import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../src/cli/target.js';
import { ReviewService } from '../../src/review/service.js';
import { CursorCodec, DEFAULT_PLAN } from '../../src/review/worklist.js';
import { BUCKET, REGION, startLocalServers } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';

/*
 * 10 000 results: the worklist pages through the indexes and each request reads a bounded number of items,
 * counted from DynamoDB's own ScannedCount, whatever the table's size.
 */

const NEEDS_REVIEW = 2000;
const PNEUMONIA = 5000;
const NORMAL = 3000;
const TOTAL = NEEDS_REVIEW + PNEUMONIA + NORMAL;

let servers: LocalServers;
let target: Target;
let service: ReviewService;
const reads = { queries: 0, scanned: 0 };

function rowAt(index: number): Record<string, unknown> {
  const processedAt = new Date(Date.UTC(2026, 10, 1) + index * 60_000).toISOString();
  const base = { imageKey: `inbox/scale/${String(index).padStart(5, '0')}.jpeg`, bucket: BUCKET, sequencer: '01', eventTime: processedAt, processedAt, imageFormat: 'jpeg', latencyMs: 1 };
  if (index < NEEDS_REVIEW) return { ...base, status: 'NEEDS_REVIEW', label: index % 2 ? 'PNEUMONIA' : 'NORMAL', confidence: 50 + (index % 30) };
  if (index < NEEDS_REVIEW + PNEUMONIA) return { ...base, status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 80 + ((index * 7) % 2000) / 100 };
  return { ...base, status: 'CLASSIFIED', label: 'NORMAL', confidence: 80 + (index % 20) };
}

beforeAll(async () => {
  servers = await startLocalServers();
  target = servers.target();
  const rows = Array.from({ length: TOTAL }, (_, index) => rowAt(index));
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < rows.length; i += 25) batches.push(rows.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        const batch = batches[next] ?? [];
        next += 1;
        await target.clients.documents.send(new BatchWriteCommand({ RequestItems: { [target.names.resultsTable]: batch.map((Item) => ({ PutRequest: { Item } })) } }));
      }
    }),
  );
  // A client of its own that counts what each Query read.
  const raw = new DynamoDBClient({ region: REGION, endpoint: servers.endpoints.dynamodb, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  raw.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output = result.output as { ScannedCount?: number };
      reads.queries += 1;
      reads.scanned += output.ScannedCount ?? 0;
      return result;
    },
    { step: 'initialize', name: 'countReads' },
  );
  service = new ReviewService({
    documents: DynamoDBDocumentClient.from(raw),
    s3: target.clients.s3,
    bucket: BUCKET,
    resultsTable: target.names.resultsTable,
    registryTable: target.names.registryTable,
    reviewer: 'dr-scale',
    plan: { ...DEFAULT_PLAN, threshold: 80 },
    cursors: new CursorCodec(randomBytes(32)),
    now: Date.now,
  });
}, 120_000);

afterAll(async () => {
  target.close();
  await servers.stop();
});

describe('worklist over 10 000 results', () => {
  it('serves the first page from one Query that reads only that page, newest needing review first', async () => {
    reads.queries = 0;
    reads.scanned = 0;
    const started = performance.now();
    const page = await service.worklist({ limit: 24, reviewed: 'any' });
    const ms = performance.now() - started;
    expect(page.items).toHaveLength(24);
    expect(page.items.every((item) => item.status === 'NEEDS_REVIEW')).toBe(true);
    expect(page.items[0]?.key).toBe(`inbox/scale/${String(NEEDS_REVIEW - 1).padStart(5, '0')}.jpeg`);
    expect(reads).toEqual({ queries: 1, scanned: 24 });
    console.log(`first page of 24 from ${TOTAL} results: ${ms.toFixed(0)} ms, ${reads.queries} Query, ${reads.scanned} items read`);
  });

  it('pages through every result exactly once in order, each request reading a bounded number of items', async () => {
    const seen = new Set<string>();
    const order: { status: string; label: string | null; confidence: number | null }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    let worst = 0;
    const started = performance.now();
    do {
      reads.scanned = 0;
      const page = await service.worklist({ limit: 100, reviewed: 'any', ...(cursor !== undefined ? { cursor } : {}) });
      worst = Math.max(worst, reads.scanned);
      for (const item of page.items) {
        expect(seen.has(item.key), item.key).toBe(false);
        seen.add(item.key);
        order.push({ status: item.status, label: item.label, confidence: item.confidence });
      }
      cursor = page.cursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    const ms = performance.now() - started;
    expect(seen.size).toBe(TOTAL);
    // Each request reads at most its budget (2 000) plus one Query page (200).
    expect(worst).toBeLessThanOrEqual(2200);
    const pneumonia = order.slice(NEEDS_REVIEW, NEEDS_REVIEW + PNEUMONIA);
    expect(order.slice(0, NEEDS_REVIEW).every((o) => o.status === 'NEEDS_REVIEW')).toBe(true);
    expect(pneumonia.every((o) => o.label === 'PNEUMONIA' && o.status === 'CLASSIFIED')).toBe(true);
    // Confidence bands never go up.
    const bands = pneumonia.map((o) => Math.min(19, Math.floor((o.confidence ?? 0) / 5)));
    expect(bands.every((band, index) => index === 0 || band <= (bands[index - 1] ?? 0))).toBe(true);
    expect(order.slice(NEEDS_REVIEW + PNEUMONIA).every((o) => o.label === 'NORMAL')).toBe(true);
    console.log(`all ${TOTAL} results in ${pages} requests: ${ms.toFixed(0)} ms, at most ${worst} items read per request`);
  }, 120_000);
});
