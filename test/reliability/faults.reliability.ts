import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageOutcome } from '../../src/lib/image-outcome.js';
import type { Runtime } from '../../src/lib/composition.js';
import { Hold } from '../fixtures/hold.js';
import { outcomeKey } from './support/events.js';
import { resizedXray, sampleXrays } from './support/images.js';
import { freePort } from '../fixtures/ports.js';
import { startTcpProxy } from './support/proxy.js';
import type { TcpProxy } from './support/proxy.js';
import { ANSWERED, deadLetterKeys, deployModel, eventKey, execute, inPool, localTemplate, startHarness, tapClassify } from './support/stack.js';
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
// While set, every DetectCustomLabels call waits in the emulator until the test opens it.
let detectHold: Hold | undefined;
// DetectCustomLabels as classify's client sent it: calls, and HTTP attempts (more attempts = SDK retries).
const detect = { calls: 0, attempts: 0 };

beforeAll(async () => {
  const dynamodbPort = await freePort();
  proxy = await startTcpProxy(dynamodbPort);
  harness = await startHarness({
    template: await localTemplate(inject('localPackageDir')),
    ports: { dynamodb: dynamodbPort },
    // The functions reach DynamoDB through the proxy; the test's own client goes straight to dynalite.
    // The stop-mid-burst case follows the manual start path; on-demand start is covered by test/local/serving.test.ts.
    environment: { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${proxy.port}`, ON_DEMAND_START: 'false' },
    rekognition: { hold: (point) => (point.at === 'call' && point.operation === 'DetectCustomLabels' ? detectHold?.enter() : undefined) },
  });
  // The initialize step runs once per call, the deserialize step once per attempt (inside the retry middleware).
  classifyRuntime().rekognition.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'DetectCustomLabelsCommand') detect.calls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'reliabilityCountDetectCalls' },
  );
  classifyRuntime().rekognition.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'DetectCustomLabelsCommand') detect.attempts += 1;
      return next(args);
    },
    { step: 'deserialize', name: 'reliabilityCountDetectAttempts' },
  );
  await deployModel(harness);
  bodies = await Promise.all((await sampleXrays(5)).map((source, i) => resizedXray(80 + i, 80, i % 2 ? 'png' : 'jpeg', source)));
});

afterAll(async () => {
  process.stdout.write(`\n${table(['scenario', 'images', 'answered', 'recovered (DLQ replay or re-drive)', 'no row (expected)', 'lost', 'SDK retry tokens left'], scenarios)}\n`);
  tally.print();
  classifyRuntime().rekognition.middlewareStack.remove('reliabilityCountDetectCalls');
  classifyRuntime().rekognition.middlewareStack.remove('reliabilityCountDetectAttempts');
  await harness.close();
  await proxy.close();
});

/** The classify function's own runtime on the stack: its Rekognition client is the one the counts watch. */
function classifyRuntime(): Runtime {
  const runtime = harness.stack.runtimes.ClassifyLambdaFunction;
  if (!runtime) throw new Error('the stack has no classify function');
  return runtime;
}

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
  const strategy = (await classifyRuntime().rekognition.config.retryStrategy()) as { getCapacity?: () => number };
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
  ])('$label: SDK retries, then Lambda retries; the images that outlast both are dead-lettered with a FAILED row, and the re-drive answers exactly those', async ({ label, slug, error, count }) => {
    const keys = keysFor(slug, 60);
    const invoker = harness.stack.invokers.ClassifyLambdaFunction;
    const retriedBefore = invoker?.stats.retried ?? 0;
    const detectBefore = { ...detect };
    // More faults than the images in flight can take before one is dead-lettered (reserved concurrency 5 × 3
    // invocations × 5 SDK attempts = 75), so at least one image is, whatever the interleaving.
    harness.stack.emulator.injectFault({ operation: 'DetectCustomLabels', count, error });
    await uploadAll(keys);
    await harness.stack.idle();
    harness.stack.emulator.clearFaults();
    const first = await settle(keys);
    expect(first.lost).toEqual([]);
    // The SDK retried (some call took more than one attempt), Lambda retried, and some images outlasted both.
    expect(detect.attempts - detectBefore.attempts).toBeGreaterThan(detect.calls - detectBefore.calls);
    expect((invoker?.stats.retried ?? 0) - retriedBefore).toBeGreaterThan(0);
    expect(first.deadLettered.size).toBeGreaterThan(0);
    // An image that outlasted every retry is in the dead-letter file and has a FAILED row saying so.
    for (const key of first.deadLettered) expect(first.rows.get(key)).toMatchObject({ status: 'FAILED', reason: 'retryable-error' });
    expect(first.answered.length + first.deadLettered.size).toBe(keys.length);
    // The start machine (model already running) re-drives FAILED retryable-error rows: exactly the dead-lettered
    // ones; the answered rows are left as they were.
    const start = await execute(harness, 'StartModelStateMachine', `start-after-${slug}`, {});
    expect(start).toMatchObject({ status: 'SUCCEEDED', output: { redrive: { answered: first.deadLettered.size } } });
    const after = await settle(keys);
    expect(after.answered).toHaveLength(keys.length);
    for (const key of first.answered) expect(after.rows.get(key)).toEqual(first.rows.get(key));
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
      const byKey = (a: ImageOutcome, b: ImageOutcome): number => (outcomeKey(a) ?? '').localeCompare(outcomeKey(b) ?? '');
      expect([...outcomes].sort(byKey)).toEqual(keys.map((key) => ({ kind: 'skipped', key, why: 'deleted' })));
      const rows = await Promise.all(keys.map((key) => harness.row(key)));
      expect(rows.filter(Boolean)).toEqual([]);
      // Lost: a key whose event ended with neither the reported skip, nor a row, nor a dead letter.
      const skipped = new Set(outcomes.filter((outcome) => outcome.kind === 'skipped' && outcome.why === 'deleted').map(outcomeKey));
      const ended = await settle(keys);
      const lost = ended.lost.filter((key) => !skipped.has(key));
      await record('object deleted before classify reads it', keys, 0, 0, lost.length, keys.length - lost.length);
    } finally {
      tap.remove();
    }
  });

  it('duplicate deliveries: copies racing to the conditional write store one result; a late copy is skipped', async () => {
    const keys = keysFor('duplicate', 10);
    const tap = tapClassify(harness, (key) => keys.includes(key));
    try {
      await uploadAll(keys);
      expect(tap.held).toHaveLength(keys.length);
      const from = harness.outcomes.length;
      // Per key: the event and three copies at once, each held in DetectCustomLabels until all four are there, so
      // all four passed the duplicate pre-check (no row yet) and reach the conditional write together.
      for (const event of tap.held) {
        const hold = new Hold();
        detectHold = hold;
        try {
          tap.deliver(event);
          for (let copy = 0; copy < 3; copy++) tap.deliver(structuredClone(event));
          await hold.reached(4);
        } finally {
          detectHold = undefined;
          hold.open();
        }
        await harness.stack.idle();
      }
      const raced = harness.outcomes.slice(from);
      const kindsByKey = new Map(keys.map((key) => [key, raced.filter((outcome) => outcomeKey(outcome) === key).map((outcome) => outcome.kind).sort()]));
      expect([...kindsByKey.values()]).toEqual(keys.map(() => ['kept-newer', 'kept-newer', 'kept-newer', 'written']));
      const stored = await Promise.all(keys.map((key) => harness.row(key)));
      for (const [i, row] of stored.entries()) {
        const written = raced.find((outcome) => outcome.kind === 'written' && outcome.row.imageKey === keys[i]);
        expect(written?.kind === 'written' ? written.row : undefined).toEqual(row);
      }
      // A copy after the answer costs one GetItem and changes nothing.
      const late = harness.outcomes.length;
      for (const event of tap.held) tap.deliver(structuredClone(event));
      await harness.stack.idle();
      const lateOutcomes = harness.outcomes.slice(late);
      expect(lateOutcomes.sort((a, b) => (outcomeKey(a) ?? '').localeCompare(outcomeKey(b) ?? ''))).toEqual(keys.map((key) => ({ kind: 'skipped', key, why: 'already-settled' })));
      expect(await Promise.all(keys.map((key) => harness.row(key)))).toEqual(stored);
      const ended = await settle(keys);
      await record('each event delivered 4 times at once, then once more', keys, ended.answered.length, 0, ended.lost.length);
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
      const ended = await settle(keys);
      await record('older event delivered after the newer one', keys, ended.answered.length, 0, ended.lost.length);
    } finally {
      tap.remove();
    }
  });

  it('model stopped mid-burst: images queued behind the stop wait as PENDING, the start machine re-drives exactly those', async () => {
    const keys = keysFor('stopped', 300);
    const beforeStop = keys.slice(0, 180);
    const behindStop = keys.slice(180);
    await uploadAll(keys.slice(0, 60));
    await harness.stack.idle();
    // The other 240 are uploaded with their events held in the queue: 120 are handed to classify while the model
    // runs, the stop runs to its end, then the last 120 arrive (as a backlog in Lambda's queue would).
    const tap = tapClassify(harness, (key) => keys.slice(60).includes(key));
    let during: Settlement;
    try {
      await uploadAll(keys.slice(60));
      expect(tap.held).toHaveLength(240);
      const queued = new Map(tap.held.map((event) => [eventKey(event), event]));
      for (const key of keys.slice(60, 180)) tap.deliver(queued.get(key) as S3Event);
      await harness.stack.idle();
      const stop = await execute(harness, 'StopModelStateMachine', 'stop-mid-burst', {});
      expect(stop.status).toBe('SUCCEEDED');
      for (const key of behindStop) tap.deliver(queued.get(key) as S3Event);
      await harness.stack.idle();
      during = await settle(keys);
    } finally {
      tap.remove();
    }
    const pending = keys.filter((key) => during.rows.get(key)?.status === 'PENDING');
    expect(during.answered).toEqual(beforeStop);
    expect(pending).toEqual(behindStop);
    for (const key of pending) expect(during.rows.get(key)?.reason).toBe('model-not-running');

    const start = await execute(harness, 'StartModelStateMachine', 'start-after-stop', {});
    expect(start).toMatchObject({ status: 'SUCCEEDED', output: { redrive: { answered: behindStop.length } } });
    const after = await settle(keys);
    expect(after.answered).toHaveLength(keys.length);
    for (const key of beforeStop) expect(after.rows.get(key)).toEqual(during.rows.get(key));
    tally.note(`model stopped mid-burst: ${during.answered.length} answered before the stop, ${pending.length} PENDING behind it, all re-driven`);
    await record('model stopped mid-burst of 300', keys, during.answered.length, pending.length, after.lost.length);
  }, 300_000);

  it('classify never lost an event: every invocation succeeded or was dead-lettered', () => {
    expect(harness.stack.invokers.ClassifyLambdaFunction?.stats.lost).toBe(0);
    expect(harness.outcomes.filter((outcome) => outcomeKey(outcome) === undefined)).toEqual([]);
  });
});
