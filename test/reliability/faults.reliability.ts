import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RecordOutcome } from '../../src/lib/classify.js';
import { rekognitionClient } from '../../src/lib/clients.js';
import { outcomeKey } from './support/events.js';
import { resizedXray, sampleXrays } from './support/images.js';
import { freePort } from '../fixtures/ports.js';
import { startTcpProxy } from './support/proxy.js';
import type { TcpProxy } from './support/proxy.js';
import { ANSWERED, deadLetterKeys, deployModel, eventKey, execute, inPool, localTemplate, startExecution, startHarness, tapClassify } from './support/stack.js';
import type { Harness, Row } from './support/stack.js';
import { FamilyTally, table } from './support/summary.js';

/*
 * Faults, through the local stack with real uploads and a running model: the model stopped mid-burst, throttling
 * storms and 5xx from the emulator, DynamoDB unreachable for a while (a TCP proxy between the functions and
 * dynalite), an object deleted between its event and the read, duplicate and out-of-order events. Each ends in
 * its expected state with nothing lost: an image is answered, or (for a fault that outlasts every retry) in the
 * dead-letter file, and then recovered by the documented path.
 */

let harness: Harness;
let proxy: TcpProxy;
let bodies: Uint8Array[];
const tally = new FamilyTally('faults');
const scenarios: (string | number)[][] = [];

beforeAll(async () => {
  const dynamodbPort = await freePort();
  proxy = await startTcpProxy(dynamodbPort);
  harness = await startHarness({
    template: await localTemplate(inject('localPackageDir')),
    ports: { dynamodb: dynamodbPort },
    // The functions reach DynamoDB through the proxy; the test's own client goes straight to dynalite.
    // The stop-mid-burst case follows the manual start path; on-demand start is covered by test/local/serving.test.ts.
    environment: { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${proxy.port}`, ON_DEMAND_START: 'false' },
  });
  await deployModel(harness);
  bodies = await Promise.all((await sampleXrays(5)).map((source, i) => resizedXray(80 + i, 80, i % 2 ? 'png' : 'jpeg', source)));
});

afterAll(async () => {
  process.stdout.write(`\n${table(['scenario', 'images', 'answered', 'recovered (DLQ replay or re-drive)', 'no row (expected)', 'lost', 'SDK retry tokens left'], scenarios)}\n`);
  tally.print();
  await harness.close();
  await proxy.close();
});

const keysFor = (scenario: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `inbox/faults/${scenario}/${String(i).padStart(4, '0')}${i % 2 ? '.png' : '.jpeg'}`);

async function uploadAll(keys: readonly string[]): Promise<void> {
  await inPool(keys, 16, async (key, i) => harness.put(key, bodies[i % bodies.length] as Uint8Array));
}

interface Settlement {
  readonly rows: Map<string, Row | undefined>;
  readonly answered: string[];
  readonly deadLettered: Set<string>;
  readonly lost: string[];
}

/** Where each key ended: answered, or dead-lettered; anything else is lost. */
async function settle(keys: readonly string[]): Promise<Settlement> {
  const rows = new Map(await Promise.all(keys.map(async (key) => [key, await harness.row(key)] as const)));
  const deadLettered = new Set((await harness.deadLetters()).flatMap(deadLetterKeys));
  const answered = keys.filter((key) => ANSWERED.includes(rows.get(key)?.status ?? ''));
  const lost = keys.filter((key) => !answered.includes(key) && !deadLettered.has(key));
  return { rows, answered, deadLettered: new Set(keys.filter((key) => deadLettered.has(key))), lost };
}

/** Replays dead letters of these keys into classify, as an operator would from the DLQ. */
async function replayDeadLetters(keys: ReadonlySet<string>): Promise<number> {
  const letters = (await harness.deadLetters()).filter((letter) => deadLetterKeys(letter).some((key) => keys.has(key)));
  for (const letter of letters) void harness.stack.invokers.ClassifyLambdaFunction?.submit(letter.requestPayload);
  await harness.stack.idle();
  return letters.length;
}

/**
 * What is left of the classify Rekognition client's retry quota (the SDK's standard mode: a token bucket of 500
 * per client; a retry costs 5 after throttling, 14 after other transient errors, a success refunds). The local
 * stack runs every concurrent classify invocation on one client, where Lambda would give each execution
 * environment its own.
 */
async function retryTokens(): Promise<number | string> {
  const strategy = (await rekognitionClient.config.retryStrategy()) as { getCapacity?: () => number };
  return strategy.getCapacity?.() ?? '?';
}

async function record(name: string, keys: readonly string[], answeredFirst: number, recovered: number, lost: number, noRow = 0): Promise<void> {
  scenarios.push([name, keys.length, answeredFirst, recovered, noRow, lost, await retryTokens()]);
  tally.add(1, lost === 0 ? 1 : 0, lost);
}

describe('faults', () => {
  it.each([
    { label: 'emulator 5xx (100 × InternalServerError)', slug: '5xx', error: 'InternalServerError', count: 100 },
    { label: 'throttling storm (150 × ThrottlingException)', slug: 'throttle', error: 'ThrottlingException', count: 150 },
  ])('$label: SDK retries, then Lambda retries; every image answered or dead-lettered with a FAILED row, then re-driven', async ({ label, slug, error, count }) => {
    const keys = keysFor(slug, 60);
    harness.stack.emulator.injectFault({ operation: 'DetectCustomLabels', count, error });
    await uploadAll(keys);
    await harness.stack.idle();
    harness.stack.emulator.clearFaults();
    const first = await settle(keys);
    expect(first.lost).toEqual([]);
    // An image that outlasted every retry is in the dead-letter file and has a FAILED row saying so.
    for (const key of first.deadLettered) expect(first.rows.get(key)).toMatchObject({ status: 'FAILED', reason: 'retryable-error' });
    // The start machine (model already running) re-drives FAILED retryable-error rows.
    const start = await execute(harness, 'StartModelStateMachine', `start-after-${slug}`, {});
    expect(start.status).toBe('SUCCEEDED');
    const after = await settle(keys);
    expect(after.answered).toHaveLength(keys.length);
    await record(label, keys, first.answered.length, first.deadLettered.size, after.lost.length);
  }, 300_000);

  it('DynamoDB unreachable for a while: images in flight are dead-lettered (no row can be written), a DLQ replay answers them', async () => {
    const before = keysFor('dynamodb-before', 20);
    const during = keysFor('dynamodb-during', 20);
    const after = keysFor('dynamodb-after', 20);
    await uploadAll(before);
    await harness.stack.idle();
    proxy.cut();
    await uploadAll(during);
    await harness.stack.idle();
    proxy.restore();
    await uploadAll(after);
    await harness.stack.idle();

    const outage = await settle(during);
    expect(outage.lost).toEqual([]);
    // Nothing reached the table during the outage, so the dead-letter file is the only record of those images.
    expect(outage.deadLettered.size).toBe(during.length);
    expect([...outage.rows.values()].filter(Boolean)).toEqual([]);
    expect(proxy.stats.refused).toBeGreaterThan(0);
    const answeredAround = await settle([...before, ...after]);
    expect(answeredAround.answered).toHaveLength(before.length + after.length);

    const replayed = await replayDeadLetters(outage.deadLettered);
    const recovered = await settle(during);
    expect(recovered.answered).toHaveLength(during.length);
    await record('DynamoDB unreachable (TCP reset) during 20 of 60 uploads', [...before, ...during, ...after], before.length + after.length, replayed, recovered.lost.length);
  }, 300_000);

  it('object deleted between its event and the read: no row, the skip is reported', async () => {
    const keys = keysFor('deleted', 10);
    const tap = tapClassify(harness, (key) => keys.includes(key));
    try {
      await uploadAll(keys);
      expect(tap.held).toHaveLength(keys.length);
      for (const key of keys) await harness.s3.send(new DeleteObjectCommand({ Bucket: harness.bucket, Key: key }));
      const from = harness.outcomes.length;
      for (const event of tap.held) tap.deliver(event);
      await harness.stack.idle();
      const outcomes = harness.outcomes.slice(from);
      const byKey = (a: RecordOutcome, b: RecordOutcome): number => (outcomeKey(a) ?? '').localeCompare(outcomeKey(b) ?? '');
      expect([...outcomes].sort(byKey)).toEqual(keys.map((key) => ({ kind: 'skipped', key, why: 'deleted' })));
      const rows = await Promise.all(keys.map((key) => harness.row(key)));
      expect(rows.filter(Boolean)).toEqual([]);
      await record('object deleted before classify reads it', keys, 0, 0, 0, keys.length);
    } finally {
      tap.remove();
    }
  });

  it('duplicate deliveries: written once; concurrent copies of one event store one row', async () => {
    const keys = keysFor('duplicate', 10);
    const tap = tapClassify(harness);
    try {
      await uploadAll(keys);
      await harness.stack.idle();
      const stored = await Promise.all(keys.map((key) => harness.row(key)));
      const from = harness.outcomes.length;
      // Each recorded event delivered three more times, all at once.
      for (const key of keys) {
        const event = tap.seen.get(key)?.[0] as S3Event;
        for (let copy = 0; copy < 3; copy++) tap.deliver(structuredClone(event));
      }
      await harness.stack.idle();
      const outcomes = harness.outcomes.slice(from);
      expect(outcomes).toHaveLength(keys.length * 3);
      expect(outcomes.filter((outcome) => outcome.kind === 'written')).toEqual([]);
      expect(await Promise.all(keys.map((key) => harness.row(key)))).toEqual(stored);
      await record('each event delivered 4 times', keys, keys.length, 0, 0);
    } finally {
      tap.remove();
    }
  });

  it('out-of-order events: an older event after a newer one never replaces the newer result', async () => {
    const keys = keysFor('reorder', 10);
    const tap = tapClassify(harness, (key) => keys.includes(key));
    try {
      // Version 1 of each key is too small (REJECTED), version 2 a valid X-ray; both events are held.
      const tooSmall = await resizedXray(40, 40, 'png');
      await inPool(keys, 8, async (key) => harness.put(key, tooSmall));
      await uploadAll(keys);
      expect(tap.held).toHaveLength(keys.length * 2);
      const olderFirst = new Map<string, S3Event>();
      const newer = new Map<string, S3Event>();
      for (const event of tap.held) {
        const key = eventKey(event);
        if (olderFirst.has(key)) newer.set(key, event);
        else olderFirst.set(key, event);
      }
      // Newest first, then the late older ones.
      for (const event of newer.values()) tap.deliver(event);
      await harness.stack.idle();
      for (const event of olderFirst.values()) tap.deliver(event);
      await harness.stack.idle();
      const rows = await Promise.all(keys.map((key) => harness.row(key)));
      for (const [i, row] of rows.entries()) {
        expect(ANSWERED).toContain(row?.status);
        const newest = newer.get(keys[i] ?? '')?.Records[0]?.s3.object.sequencer ?? '';
        expect(newest).not.toBe('');
        expect(row?.sequencer).toBe(newest.padEnd(64, '0'));
      }
      // A late copy of an older event re-delivered again, straight to the invoker, changes nothing either.
      tap.remove();
      const from = harness.outcomes.length;
      for (const event of olderFirst.values()) void harness.stack.invokers.ClassifyLambdaFunction?.submit(event);
      await harness.stack.idle();
      expect(harness.outcomes.slice(from).map((outcome) => outcome.kind)).toEqual(keys.map(() => 'skipped'));
      expect(await Promise.all(keys.map((key) => harness.row(key)))).toEqual(rows);
      await record('older event delivered after the newer one', keys, keys.length, 0, 0);
    } finally {
      tap.remove();
    }
  });

  it('model stopped mid-burst: later images wait as PENDING, the start machine re-drives every one of them', async () => {
    const keys = keysFor('stopped', 300);
    // The first 60 are answered; the stop is triggered as the other 240 are uploaded and processed.
    await uploadAll(keys.slice(0, 60));
    await harness.stack.idle();
    const stop = await startExecution(harness, 'StopModelStateMachine', 'stop-mid-burst', {});
    await uploadAll(keys.slice(60));
    await harness.stack.idle();
    const during = await settle(keys);
    const pending = keys.filter((key) => during.rows.get(key)?.status === 'PENDING');
    expect(stop).toContain('stop-mid-burst');
    expect(during.lost.filter((key) => !pending.includes(key))).toEqual([]);
    // The stop really landed mid-burst: some images were answered before it, some waited after it.
    expect(during.answered.length).toBeGreaterThanOrEqual(60);
    expect(pending.length).toBeGreaterThan(0);
    for (const key of pending) expect(during.rows.get(key)?.reason).toBe('model-not-running');

    const start = await execute(harness, 'StartModelStateMachine', 'start-after-stop', {});
    expect(start).toMatchObject({ status: 'SUCCEEDED', output: { redrive: { answered: pending.length } } });
    const after = await settle(keys);
    expect(after.answered).toHaveLength(keys.length);
    tally.note(`model stopped mid-burst: ${during.answered.length} answered before the stop, ${pending.length} PENDING, all re-driven`);
    await record('model stopped mid-burst of 300', keys, during.answered.length, pending.length, after.lost.length);
  }, 300_000);

  it('classify never lost an event: every invocation succeeded or was dead-lettered', () => {
    expect(harness.stack.invokers.ClassifyLambdaFunction?.stats.lost).toBe(0);
    expect(harness.outcomes.filter((outcome) => outcomeKey(outcome) === undefined)).toEqual([]);
  });
});
