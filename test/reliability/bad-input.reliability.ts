import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dicomHeader, fixtureImage, largeMetadataJpeg } from '../fixtures/images.js';
import {
  bmp,
  cmykJpeg,
  exifRotatedJpeg,
  flatImage,
  jpegFacts,
  paddedPng,
  pngBitDepth,
  progressiveJpeg,
  realGif,
  realTiff,
  realWebp,
  resizedXray,
  sixteenBitPng,
} from './support/images.js';
import { outcomeKey, recordedEvent, sequencer } from './support/events.js';
import { ANSWERED, deadLetterKeys, deployModel, localTemplate, startHarness, tapClassify } from './support/stack.js';
import type { EventTap, Harness, Row } from './support/stack.js';
import { FamilyTally, table } from './support/summary.js';

/*
 * Bad input matrix: one row per kind of upload, each with the end state it must reach through the real path
 * (S3 PUT → notification filter → classify → emulator → results table), with a running model.
 */

type Expectation =
  | { readonly status: 'REJECTED'; readonly reason: string; readonly detail?: RegExp }
  | { readonly status: 'ANSWERED'; readonly width?: number; readonly height?: number; readonly format?: 'jpeg' | 'png' }
  /** No row: the notification filter never calls classify (`skip` undefined), or classify skips it. */
  | { readonly status: 'NO_ROW'; readonly skip?: 'outside-inbox' | 'folder-marker' };

interface Case {
  readonly kind: string;
  readonly key: string;
  readonly body: () => Promise<Uint8Array> | Uint8Array;
  readonly expect: Expectation;
  /** Delivered straight to the classify invoker instead of uploaded: reaches classify's own key rules. */
  readonly direct?: boolean;
}

const MB15 = 15 * 1024 * 1024;
const png64 = (): Promise<Uint8Array> => resizedXray(64, 64, 'png');
const jpeg128 = (): Promise<Uint8Array> => resizedXray(128, 128, 'jpeg');
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** A key of exactly 1024 UTF-8 bytes (S3's limit), in folders so each file-system name stays under 255 bytes. */
function longKey(): string {
  const suffix = '.png';
  let key = 'inbox/long';
  while (Buffer.byteLength(key) + 1 + 200 + suffix.length <= 1024) key += `/${'k'.repeat(199)}`;
  key += '/';
  key += 'x'.repeat(1024 - Buffer.byteLength(key) - suffix.length);
  return key + suffix;
}

const CASES: readonly Case[] = [
  { kind: '0-byte .jpg', key: 'inbox/matrix/empty.jpg', body: () => new Uint8Array(), expect: { status: 'REJECTED', reason: 'empty-object' } },
  { kind: 'text named .jpg', key: 'inbox/matrix/notes.jpg', body: () => text('patient notes, not an image\n'), expect: { status: 'REJECTED', reason: 'unsupported-format', detail: /unknown/ } },
  { kind: 'JPEG cut before its frame header', key: 'inbox/matrix/cut-header.jpeg', body: () => fixtureImage('truncated-header.jpeg'), expect: { status: 'REJECTED', reason: 'corrupt-image' } },
  { kind: 'JPEG cut in its image data', key: 'inbox/matrix/cut-body.jpeg', body: () => fixtureImage('truncated-body.jpeg'), expect: { status: 'REJECTED', reason: 'invalid-image-format' } },
  { kind: 'PNG 63 px wide', key: 'inbox/matrix/w63.png', body: () => resizedXray(63, 128, 'png'), expect: { status: 'REJECTED', reason: 'dimensions-too-small', detail: /63x128/ } },
  { kind: 'JPEG 63 px tall', key: 'inbox/matrix/h63.jpeg', body: () => resizedXray(128, 63, 'jpeg'), expect: { status: 'REJECTED', reason: 'dimensions-too-small', detail: /128x63/ } },
  { kind: 'PNG 64 × 64 (smallest accepted)', key: 'inbox/matrix/s64.png', body: png64, expect: { status: 'ANSWERED', width: 64, height: 64, format: 'png' } },
  { kind: 'JPEG 64 × 64 (smallest accepted)', key: 'inbox/matrix/s64.jpeg', body: () => resizedXray(64, 64, 'jpeg'), expect: { status: 'ANSWERED', width: 64, height: 64, format: 'jpeg' } },
  { kind: 'PNG 4097 px wide', key: 'inbox/matrix/w4097.png', body: () => flatImage(4097, 64, 'png'), expect: { status: 'REJECTED', reason: 'dimensions-too-large', detail: /4097x64/ } },
  { kind: 'JPEG 4097 px tall', key: 'inbox/matrix/h4097.jpeg', body: () => flatImage(64, 4097, 'jpeg'), expect: { status: 'REJECTED', reason: 'dimensions-too-large', detail: /64x4097/ } },
  { kind: 'PNG 4096 px wide (largest accepted)', key: 'inbox/matrix/w4096.png', body: () => flatImage(4096, 64, 'png'), expect: { status: 'ANSWERED', width: 4096, height: 64 } },
  { kind: 'JPEG 4096 × 4096 (largest accepted)', key: 'inbox/matrix/s4096.jpeg', body: () => flatImage(4096, 4096, 'jpeg'), expect: { status: 'ANSWERED', width: 4096, height: 4096 } },
  { kind: 'PNG over 15 MB', key: 'inbox/matrix/big.png', body: () => paddedPng(MB15 + 1), expect: { status: 'REJECTED', reason: 'object-too-large' } },
  { kind: 'PNG of exactly 15 MB (accepted)', key: 'inbox/matrix/limit.png', body: () => paddedPng(MB15), expect: { status: 'ANSWERED', width: 128, height: 128 } },
  { kind: 'GIF named .png', key: 'inbox/matrix/gif.png', body: realGif, expect: { status: 'REJECTED', reason: 'unsupported-format', detail: /gif/ } },
  { kind: 'WebP named .jpg', key: 'inbox/matrix/webp.jpg', body: realWebp, expect: { status: 'REJECTED', reason: 'unsupported-format', detail: /webp/ } },
  { kind: 'BMP named .jpeg', key: 'inbox/matrix/bmp.jpeg', body: () => bmp(96, 96), expect: { status: 'REJECTED', reason: 'unsupported-format', detail: /bmp/ } },
  { kind: 'TIFF named .png', key: 'inbox/matrix/tiff.png', body: realTiff, expect: { status: 'REJECTED', reason: 'unsupported-format', detail: /tiff/ } },
  { kind: 'upper-case .JPG', key: 'inbox/matrix/UPPER.JPG', body: jpeg128, expect: { status: 'ANSWERED' } },
  { kind: 'upper-case .JPEG', key: 'inbox/matrix/UPPER.JPEG', body: jpeg128, expect: { status: 'ANSWERED' } },
  { kind: 'upper-case .PNG', key: 'inbox/matrix/UPPER.PNG', body: png64, expect: { status: 'ANSWERED' } },
  { kind: 'mixed-case .Jpg (not notified)', key: 'inbox/matrix/mixed.Jpg', body: jpeg128, expect: { status: 'NO_ROW' } },
  { kind: 'real GIF named .gif (not notified)', key: 'inbox/matrix/scan.gif', body: realGif, expect: { status: 'NO_ROW' } },
  { kind: 'key with spaces', key: 'inbox/ward 3/chest x ray.jpeg', body: jpeg128, expect: { status: 'ANSWERED' } },
  { kind: 'key with +', key: 'inbox/matrix/a+b+c.jpeg', body: jpeg128, expect: { status: 'ANSWERED' } },
  { kind: 'key with %', key: 'inbox/matrix/100%25 sure %.png', body: png64, expect: { status: 'ANSWERED' } },
  { kind: 'key with unicode', key: 'inbox/matrix/Zürich-胸部-🩻.jpeg', body: jpeg128, expect: { status: 'ANSWERED' } },
  { kind: 'key of 1024 bytes', key: longKey(), body: png64, expect: { status: 'ANSWERED' } },
  { kind: 'upload outside inbox/ (not notified)', key: 'outbox/chest.jpeg', body: jpeg128, expect: { status: 'NO_ROW' } },
  { kind: 'folder marker upload (not notified)', key: 'inbox/matrix/folder/', body: () => new Uint8Array(), expect: { status: 'NO_ROW' } },
  { kind: 'event for a key outside inbox/ (classify skips)', key: 'training/NORMAL/stray.jpeg', body: jpeg128, expect: { status: 'NO_ROW', skip: 'outside-inbox' }, direct: true },
  { kind: 'event for a folder marker (classify skips)', key: 'inbox/matrix/folder.png/', body: () => new Uint8Array(), expect: { status: 'NO_ROW', skip: 'folder-marker' }, direct: true },
  { kind: 'CMYK JPEG', key: 'inbox/matrix/cmyk.jpeg', body: cmykJpeg, expect: { status: 'ANSWERED', width: 128, height: 128, format: 'jpeg' } },
  { kind: '16-bit PNG', key: 'inbox/matrix/deep.png', body: sixteenBitPng, expect: { status: 'ANSWERED', width: 128, height: 128, format: 'png' } },
  { kind: 'progressive JPEG', key: 'inbox/matrix/progressive.jpeg', body: progressiveJpeg, expect: { status: 'ANSWERED', width: 160, height: 128, format: 'jpeg' } },
  // The row keeps the stored dimensions (the header's), not the displayed ones after rotation.
  { kind: 'EXIF-rotated JPEG (orientation 6)', key: 'inbox/matrix/rotated.jpeg', body: exifRotatedJpeg, expect: { status: 'ANSWERED', width: 160, height: 96, format: 'jpeg' } },
  { kind: 'JPEG with 180 KB of metadata before its frame', key: 'inbox/matrix/metadata.jpeg', body: () => fixtureImage('metadata-heavy.jpeg'), expect: { status: 'ANSWERED', width: 224, height: 224 } },
  { kind: 'JPEG with a 1.3 MB ICC profile before its frame', key: 'inbox/matrix/large-icc.jpeg', body: largeMetadataJpeg, expect: { status: 'ANSWERED', width: 224, height: 224 } },
  { kind: 'DICOM file named .jpeg', key: 'inbox/matrix/scan.jpeg', body: dicomHeader, expect: { status: 'REJECTED', reason: 'dicom-not-supported', detail: /^DICOM file: export it as PNG or JPEG$/ } },
];

let harness: Harness;
// Every event the stack hands to classify, so "not notified" means classify never saw the key.
let tap: EventTap;
const tally = new FamilyTally('bad input matrix');
const report: (string | number)[][] = [];
let directSequence = 0x7000_0000_0000_0000n;

beforeAll(async () => {
  harness = await startHarness({ template: await localTemplate(inject('localPackageDir')) });
  await deployModel(harness);
  tap = tapClassify(harness);
});

afterAll(async () => {
  tap.remove();
  process.stdout.write(`\n${table(['kind', 'expected', 'got'], report)}\n`);
  tally.print();
  await harness.close();
});

function describeExpectation(expectation: Expectation): string {
  if (expectation.status === 'REJECTED') return `REJECTED ${expectation.reason}`;
  if (expectation.status === 'NO_ROW') return expectation.skip ? `no row (${expectation.skip})` : 'no row (filter)';
  return 'CLASSIFIED|NEEDS_REVIEW';
}

function describeRow(row: Row | undefined): string {
  if (!row) return 'no row';
  return row.reason ? `${row.status} ${row.reason}` : `${row.status} ${String(row.label)}`;
}

describe('bad input matrix', () => {
  it('has at least 20 kinds and generators that make what they claim', async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CASES.map((c) => c.key)).size).toBe(CASES.length);
    expect(Buffer.byteLength(longKey())).toBe(1024);
    expect(pngBitDepth(await sixteenBitPng())).toBe(16);
    expect(await jpegFacts(await cmykJpeg())).toMatchObject({ space: 'cmyk' });
    expect(await jpegFacts(await progressiveJpeg())).toMatchObject({ isProgressive: true });
    expect(await jpegFacts(await exifRotatedJpeg())).toMatchObject({ orientation: 6 });
    expect((await paddedPng(MB15 + 1)).length).toBe(MB15 + 1);
  });

  it.each(CASES)('$kind → $expect.status', async (testCase) => {
    const body = await testCase.body();
    const before = harness.outcomes.length;
    const invoker = harness.stack.invokers.ClassifyLambdaFunction;
    const invokedBefore = invoker?.stats.invoked ?? 0;
    if (testCase.direct) {
      await harness.put(testCase.key, body);
      await harness.stack.idle();
      directSequence += 1n;
      void harness.stack.invokers.ClassifyLambdaFunction?.submit(recordedEvent(harness.bucket, testCase.key, sequencer(directSequence), body.length));
    } else {
      await harness.put(testCase.key, body);
    }
    await harness.stack.idle();
    const row = await harness.row(testCase.key);
    const outcomes = harness.outcomes.slice(before).filter((outcome) => outcomeKey(outcome) === testCase.key);
    // Cases run one at a time, so every invocation since `before` was for this case.
    const invocations = (invoker?.stats.invoked ?? 0) - invokedBefore;
    const deadLettered = (await harness.deadLetters()).some((letter) => deadLetterKeys(letter).includes(testCase.key));
    report.push([testCase.kind, describeExpectation(testCase.expect), describeRow(row)]);
    let ok = false;
    try {
      const expectation = testCase.expect;
      switch (expectation.status) {
        case 'REJECTED':
          expect(row).toMatchObject({ status: 'REJECTED', reason: expectation.reason });
          if (expectation.detail) expect(row?.detail).toMatch(expectation.detail);
          expect(outcomes).toHaveLength(1);
          expect(invocations).toBe(1);
          break;
        case 'ANSWERED':
          expect(ANSWERED).toContain(row?.status);
          expect(['NORMAL', 'PNEUMONIA']).toContain(row?.label);
          expect(row).toMatchObject({
            ...(expectation.width ? { width: expectation.width } : {}),
            ...(expectation.height ? { height: expectation.height } : {}),
            ...(expectation.format ? { imageFormat: expectation.format } : {}),
          });
          expect(outcomes).toHaveLength(1);
          expect(invocations).toBe(1);
          break;
        case 'NO_ROW':
          expect(row).toBeUndefined();
          if (expectation.skip) {
            expect(outcomes).toEqual([{ kind: 'skipped', key: testCase.key, why: expectation.skip }]);
            expect(invocations).toBe(1);
          } else {
            // Not notified: classify was never handed the key, let alone invoked.
            expect(tap.seen.has(testCase.key)).toBe(false);
            expect(invocations).toBe(0);
          }
          break;
      }
      ok = true;
    } finally {
      // Lost: an upload that should have a row, or an event that should end in classify's skip, with neither that
      // nor a dead letter of its own key.
      const expectation = testCase.expect;
      const reachedEnd = expectation.status === 'NO_ROW' ? !expectation.skip || outcomes.some((outcome) => outcome.kind === 'skipped') : row !== undefined;
      tally.record(ok, reachedEnd || deadLettered ? 0 : 1);
    }
  });

  it('dead-lettered nothing', async () => {
    expect(await harness.deadLetters()).toEqual([]);
  });
});
