import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fixtureImage, foreignHeader } from '../fixtures/images.js';
import { outcomeKey } from './support/events.js';
import { resizedXray, sampleXrays, tinyPng } from './support/images.js';
import { ANSWERED, deployModel, inPool, localTemplate, startHarness } from './support/stack.js';
import type { Harness } from './support/stack.js';
import { FamilyTally, table } from './support/summary.js';

/*
 * Burst: many small images uploaded at once through S3 (a mix of valid X-rays and invalid files), with a running
 * model. Afterwards every object has exactly one row with its expected status, classify wrote each key once, and
 * the dead-letter file is empty. RELIABILITY_BURST sets the count (default 10 000).
 */

const COUNT = Number(process.env.RELIABILITY_BURST ?? 10_000);
const UPLOAD_CONCURRENCY = 48;

interface Kind {
  readonly name: string;
  readonly suffix: string;
  /** 'ANSWERED' = CLASSIFIED or NEEDS_REVIEW with a label; otherwise REJECTED with this reason. */
  readonly expect: 'ANSWERED' | { readonly reason: string };
  /** Share of the burst, out of 100. */
  readonly share: number;
  readonly bodies: Uint8Array[];
}

let harness: Harness;
const tally = new FamilyTally('burst');
const kinds: Kind[] = [];

beforeAll(async () => {
  harness = await startHarness({ template: await localTemplate(inject('localPackageDir')) });
  await deployModel(harness);
  // Distinct real X-rays at 64–96 px, JPEG and PNG (10 of each label, 4 sizes): 80 bodies to cycle through.
  const sources = await sampleXrays(10);
  const jpegs: Uint8Array[] = [];
  const pngs: Uint8Array[] = [];
  for (const [i, source] of sources.entries()) {
    for (const side of [64, 72, 84, 96]) {
      const target = i % 2 === 0 ? jpegs : pngs;
      target.push(await resizedXray(side, side + (i % 3) * 8, target === jpegs ? 'jpeg' : 'png', source));
    }
  }
  kinds.push(
    { name: 'X-ray JPEG 64–96 px', suffix: '.jpeg', expect: 'ANSWERED', share: 45, bodies: jpegs },
    { name: 'X-ray PNG 64–96 px', suffix: '.png', expect: 'ANSWERED', share: 40, bodies: pngs },
    { name: '0-byte', suffix: '.jpg', expect: { reason: 'empty-object' }, share: 3, bodies: [new Uint8Array()] },
    { name: 'text named .jpg', suffix: '.jpg', expect: { reason: 'unsupported-format' }, share: 3, bodies: [new TextEncoder().encode('not an image')] },
    { name: 'GIF named .png', suffix: '.png', expect: { reason: 'unsupported-format' }, share: 3, bodies: [foreignHeader('gif')] },
    { name: 'JPEG cut before frame', suffix: '.jpeg', expect: { reason: 'corrupt-image' }, share: 3, bodies: [fixtureImage('truncated-header.jpeg')] },
    { name: 'PNG 32 px', suffix: '.png', expect: { reason: 'dimensions-too-small' }, share: 3, bodies: [tinyPng(32, 32, 1), tinyPng(48, 32, 2)] },
  );
}, 180_000);

afterAll(async () => {
  tally.print();
  await harness.close();
});

/** Spreads the kinds over the burst by share, interleaved (not in blocks), deterministically. */
function plan(count: number): { key: string; kind: Kind; body: Uint8Array }[] {
  const slots = kinds.flatMap((kind) => Array.from({ length: kind.share }, () => kind));
  return Array.from({ length: count }, (_, i) => {
    const kind = slots[(i * 37) % slots.length] as Kind;
    const body = kind.bodies[i % kind.bodies.length] as Uint8Array;
    return { key: `inbox/burst/${String(i).padStart(5, '0')}${kind.suffix}`, kind, body };
  });
}

const label = (kind: Kind): string => (kind.expect === 'ANSWERED' ? 'CLASSIFIED|NEEDS_REVIEW' : `REJECTED ${kind.expect.reason}`);

describe(`burst of ${COUNT} uploads`, () => {
  it('every object ends with exactly one row of the right status; nothing dead-lettered, nothing lost', async () => {
    const uploads = plan(COUNT);
    const started = performance.now();
    await inPool(uploads, UPLOAD_CONCURRENCY, async ({ key, body }) => harness.put(key, body));
    const uploaded = performance.now();
    await harness.stack.idle();
    const drained = performance.now();

    const rows = new Map((await harness.rows()).map((row) => [row.imageKey, row]));
    const writes = new Map<string, number>();
    for (const outcome of harness.outcomes) {
      const key = outcomeKey(outcome);
      if (key && outcome.kind === 'written') writes.set(key, (writes.get(key) ?? 0) + 1);
    }
    const deadLetters = await harness.deadLetters();
    const counts = new Map<string, { expected: number; got: number }>();
    const bump = (name: string, field: 'expected' | 'got'): void => {
      const entry = counts.get(name) ?? { expected: 0, got: 0 };
      entry[field] += 1;
      counts.set(name, entry);
    };
    const wrong: string[] = [];
    let lost = 0;
    for (const { key, kind } of uploads) {
      const row = rows.get(key);
      bump(label(kind), 'expected');
      if (row) bump(row.reason ? `${row.status} ${row.reason}` : ANSWERED.includes(row.status) ? 'CLASSIFIED|NEEDS_REVIEW' : row.status, 'got');
      else if (!deadLetters.some((letter) => JSON.stringify(letter.requestPayload).includes(key.slice(6)))) lost += 1;
      const right =
        row !== undefined &&
        (kind.expect === 'ANSWERED'
          ? ANSWERED.includes(row.status) && (row.label === 'NORMAL' || row.label === 'PNEUMONIA')
          : row.status === 'REJECTED' && row.reason === kind.expect.reason) &&
        writes.get(key) === 1;
      if (!right) wrong.push(`${key}: ${JSON.stringify(row ?? null)} written ${writes.get(key) ?? 0}×`);
      tally.record(right, 0);
    }
    tally.lost += lost;
    const byStatus = new Map<string, number>();
    for (const row of rows.values()) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);

    const seconds = (ms: number): string => (ms / 1000).toFixed(1);
    const stats = harness.stack.invokers.ClassifyLambdaFunction?.stats;
    process.stdout.write(
      `\n${table(
        ['expected end state', 'expected', 'got'],
        [...counts.entries()].sort().map(([name, { expected, got }]) => [name, expected, got]),
      )}\n` +
        `${table(['status', 'rows'], [...byStatus.entries()].sort())}\n` +
        `burst of ${COUNT}: upload ${seconds(uploaded - started)} s (${UPLOAD_CONCURRENCY} at a time), ` +
        `drained ${seconds(drained - uploaded)} s after the last upload, total ${seconds(drained - started)} s ` +
        `= ${(COUNT / ((drained - started) / 1000)).toFixed(0)} images/s; ` +
        `invoker ${JSON.stringify(stats)}; dead letters ${deadLetters.length}\n`,
    );
    tally.note(`${COUNT} uploads in ${seconds(drained - started)} s; ${rows.size} rows; ${deadLetters.length} dead letters`);

    expect(wrong.slice(0, 10)).toEqual([]);
    expect(rows.size).toBe(COUNT);
    expect(lost).toBe(0);
    expect(deadLetters).toEqual([]);
    expect(stats).toMatchObject({ retried: 0, deadLettered: 0, lost: 0 });
  }, 540_000);
});
