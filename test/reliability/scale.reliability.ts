import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RetrainReport } from '../../src/cli/commands/retrain.js';
import type { UploadReport } from '../../src/cli/commands/dataset.js';
import { runCli } from '../../src/cli/program.js';
import type { ResultView } from '../../src/cli/results-view.js';
import { writeEndpointsFile } from '../../src/local/endpoints-file.js';
import { captureIo } from '../fixtures/cli.js';
import type { CapturedIo } from '../fixtures/cli.js';
import { startTestStack } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * The whole Kaggle training split (1 341 NORMAL + 3 875 PNEUMONIA images, 224 px) through the product's CLI
 * against the local stack, as a user with the real dataset would run it: `pneumo dataset upload`, `pneumo
 * retrain --wait` (PrepareDataset lists training/ past 1 000 keys per label), then `pneumo submit --wait` of a
 * batch. Needs /work/shared/data/chest-xray/train (or DATA_DIR); without it the test fails saying so.
 */
const DATA = process.env.DATA_DIR ?? '/work/shared/data/chest-xray/train';
const LABELS = ['NORMAL', 'PNEUMONIA'] as const;
const BATCH = 24;

let testStack: TestStack;
const timings: Record<string, number> = {};

beforeAll(async () => {
  testStack = await startTestStack(inject('localPackageDir'));
  await writeEndpointsFile(testStack.stack, testStack.dataDir, 'eu-west-1');
});
afterAll(async () => {
  console.log(`scale run (${Object.entries(timings).map(([step, seconds]) => `${step} ${seconds.toFixed(1)} s`).join(', ')})`);
  await testStack.stop();
});

async function cli(argv: string[]): Promise<{ code: number; io: CapturedIo }> {
  const io = captureIo();
  const started = performance.now();
  const code = await runCli(['--data-dir', testStack.dataDir, ...argv], { io, sleep: () => testStack.stack.idle() });
  timings[argv[0] === 'dataset' ? 'dataset upload' : (argv[0] ?? '')] = (performance.now() - started) / 1000;
  return { code, io };
}

async function listAll(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await testStack.s3.send(new ListObjectsV2Command({ Bucket: testStack.stack.names.bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

describe('the full training split through the CLI on the local stack', () => {
  it('needs the chest X-ray training split', () => {
    expect(existsSync(DATA), `${DATA} is missing: this scale test cannot run without the chest-xray training split (set DATA_DIR)`).toBe(true);
  });

  it('uploads every image, trains on all of them, and classifies a batch', async () => {
    const files = Object.fromEntries(LABELS.map((label) => [label, readdirSync(join(DATA, label)).filter((file) => /\.jpe?g$/i.test(file))]));
    const counts = Object.fromEntries(LABELS.map((label) => [label, files[label]?.length ?? 0]));
    expect(counts.PNEUMONIA).toBeGreaterThanOrEqual(2500);
    const total = (counts.NORMAL ?? 0) + (counts.PNEUMONIA ?? 0);
    const wall = performance.now();

    const upload = await cli(['dataset', 'upload', DATA, '-c', '16', '-f', 'json']);
    expect(upload.code, upload.io.stderr.join('\n')).toBe(0);
    const report = JSON.parse(upload.io.text()) as UploadReport;
    expect([report.uploaded, report.refused]).toEqual([total, []]);
    // Every listing complete: each label's folder, past 1 000 keys, holds exactly its images.
    for (const label of LABELS) expect((await listAll(`training/${label}/`)).length, label).toBe(counts[label]);

    const versionName = 'scale-1';
    const retrain = await cli(['retrain', '--wait', '--version-name', versionName, '--min-f1', '0.5', '--min-recall', '0.5', '-f', 'json']);
    const trained = JSON.parse(retrain.io.text()) as RetrainReport;
    expect(trained, retrain.io.stderr.join('\n')).toMatchObject({ status: 'SUCCEEDED' });
    expect(retrain.code).toBe(0);
    // The manifest PrepareDataset wrote counts every image uploaded, once.
    const { Body } = await testStack.s3.send(new GetObjectCommand({ Bucket: testStack.stack.names.bucket, Key: `manifests/${versionName}/training.manifest` }));
    const lines = ((await Body?.transformToString()) ?? '').split('\n').filter((line) => line.trim() !== '');
    const refs = new Set(lines.map((line) => (JSON.parse(line) as { 'source-ref': string })['source-ref']));
    expect([lines.length, refs.size]).toEqual([total, total]);
    expect(trained.f1).toBeGreaterThan(0.8);

    const batch = LABELS.flatMap((label) => (files[label] ?? []).slice(0, BATCH / 2).map((file) => join(DATA, label, file)));
    const submit = await cli(['submit', ...batch, '--prefix', 'scale', '--wait', '-c', '8', '-f', 'json']);
    expect(submit.code, submit.io.stderr.join('\n')).toBe(0);
    const views = JSON.parse(submit.io.text()) as ResultView[];
    expect(views).toHaveLength(BATCH);
    expect(views.every((view) => view.status === 'CLASSIFIED' || view.status === 'NEEDS_REVIEW')).toBe(true);
    expect((await listAll('inbox/scale/')).length).toBe(BATCH);
    expect(testStack.stack.invokers.ClassifyLambdaFunction?.stats).toMatchObject({ deadLettered: 0, lost: 0 });
    timings.wall = (performance.now() - wall) / 1000;
    console.log(`scale: ${total} images (${counts.PNEUMONIA} under training/PNEUMONIA/) uploaded, trained (F1 ${trained.f1?.toFixed(3) ?? '?'}), ${BATCH} classified in ${timings.wall.toFixed(1)} s`);
  }, 900_000);
});
