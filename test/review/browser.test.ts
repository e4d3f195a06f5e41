import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localTarget } from '../../src/cli/target.js';
import type { Target } from '../../src/cli/target.js';
import type { ReviewServer } from '../../src/review/server.js';
import { startReviewPage } from '../fixtures/review.js';
import { startTestStack, TEST_REGION } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * The review page in a real browser (Debian's chromium driven by playwright-core, no browser download) against
 * the local stack: a model trained on the bundled sample classifies six inbox images, then two reviewers work.
 * REVIEW_SCREENSHOTS_DIR=docs writes the README's screenshots.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SAMPLE = resolve(import.meta.dirname, '../../src/local/sample');
const VIEWPORT = { width: 1280, height: 800 };

let testStack: TestStack;
let target: Target;
let alice: ReviewServer;
let bob: ReviewServer;
const contexts: BrowserContext[] = [];
const folders: string[] = [];
/** Script errors and CSP violations of every page; the tests end by expecting none (beyond the refused request). */
const pageErrors: string[] = [];
let screenshots: string;

async function browserPage(): Promise<Page> {
  const profile = await mkdtemp(join(tmpdir(), 'pneumo-review-chromium-'));
  folders.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: VIEWPORT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  return page;
}

async function row(key: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await testStack.documents.send(new GetCommand({ TableName: target.names.resultsTable, Key: { imageKey: key } }));
  return Item;
}

/*
 * Page-side scripts as text: this test compiles without the DOM library, the browser runs them as they are.
 */
const FITS = `(() => {
  const inside = (selector) => {
    const box = document.querySelector(selector)?.getBoundingClientRect();
    return box !== undefined && box.width > 0 && box.right <= window.innerWidth && box.bottom <= window.innerHeight;
  };
  return { sideways: document.documentElement.scrollWidth > window.innerWidth, image: inside('.xray img'), undo: inside('#undo'), train: inside('#train'), notice: inside('.notice') };
})()`;

/** Waits until the shown X-ray has loaded and decoded; its natural width (0 if it could not be shown). */
async function decodedWidth(page: Page): Promise<number> {
  await page.locator('.xray img').waitFor();
  return page.evaluate<number>("(() => { const img = document.querySelector('.xray img'); return img.decode().then(() => img.naturalWidth, () => 0); })()");
}

async function selectedKey(page: Page): Promise<string> {
  return (await page.locator('#items li.selected').getAttribute('data-key')) ?? '';
}

async function modelLabel(page: Page): Promise<string> {
  return (await page.locator('.choice.model').getAttribute('data-label')) ?? '';
}

describe.skipIf(!HAVE_CHROMIUM)(`review page in chromium${HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is not installed; apt-get install -y chromium, as .ci/run does)`}`, () => {
  beforeAll(async () => {
    testStack = await startTestStack(inject('localPackageDir'));
    const { stack, s3, sfn } = testStack;
    for (const label of ['NORMAL', 'PNEUMONIA']) {
      for (const file of (await readdir(join(SAMPLE, 'training', label))).sort().slice(0, 40)) {
        await s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: `training/${label}/${file}`, Body: await readFile(join(SAMPLE, 'training', label, file)) }));
      }
    }
    // A small training set: the gate is not what this test is about.
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: stack.names.stateMachines.TrainAndDeployStateMachine, name: 'train-v1', input: JSON.stringify({ versionName: 'v1', minF1: 0.5, minPneumoniaRecall: 0.5 }) }),
    );
    await stack.idle();
    const trained = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(trained.status, trained.cause).toBe('SUCCEEDED');
    for (const label of ['NORMAL', 'PNEUMONIA']) {
      for (const file of (await readdir(join(SAMPLE, 'inbox', label))).sort().slice(0, 3)) {
        await s3.send(new PutObjectCommand({ Bucket: stack.names.bucket, Key: `inbox/ward-3/${file}`, Body: await readFile(join(SAMPLE, 'inbox', label, file)) }));
      }
    }
    await stack.idle();
    target = localTarget({ pid: process.pid, region: TEST_REGION, endpoints: stack.endpoints, names: stack.names }, testStack.dataDir);
    alice = await startReviewPage(target, 'dr-alice', { threshold: stack.names.reviewThreshold });
    bob = await startReviewPage(target, 'dr-bob', { threshold: stack.names.reviewThreshold });
    screenshots = process.env.REVIEW_SCREENSHOTS_DIR ?? (await mkdtemp(join(tmpdir(), 'pneumo-review-shots-')));
    if (process.env.REVIEW_SCREENSHOTS_DIR === undefined) folders.push(screenshots);
    else await mkdir(screenshots, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await alice.close();
    await bob.close();
    target.close();
    await testStack.stop();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('is refused without the secret, then reviewed with the keyboard alone: confirm, correct, undo, add to training; a second reviewer sees the conflict', async () => {
    const page = await browserPage();
    const refused = await page.goto(`${alice.origin}/`);
    expect(refused?.status()).toBe(401);
    expect(await page.textContent('body')).toMatch(/open the link `pneumo review` printed/);

    // Bob's page is open on the same worklist before Alice decides anything.
    const bobPage = await browserPage();
    await bobPage.goto(bob.url);
    await bobPage.locator('#items li[data-key]').first().waitFor();

    await page.goto(alice.url);
    expect(new URL(page.url()).search).toBe('');
    await expect.poll(() => page.locator('#items li[data-key]').count()).toBe(6);
    expect(await page.locator('.notice').textContent()).toMatch(/Not a diagnosis/);
    expect(await decodedWidth(page)).toBeGreaterThan(0);

    const decided: { key: string; label: string; model: string }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const key = await selectedKey(page);
      const model = await modelLabel(page);
      const label = i === 2 ? (model === 'PNEUMONIA' ? 'NORMAL' : 'PNEUMONIA') : model;
      await page.keyboard.press(label === 'PNEUMONIA' ? 'p' : 'n');
      await page.locator('#message.ok', { hasText: `Saved for ${key.replace(/^inbox\//, '')}` }).waitFor();
      decided.push({ key, label, model });
    }
    for (const { key, label, model } of decided) {
      expect(await row(key), key).toMatchObject({ reviewedLabel: label, reviewer: 'dr-alice', agreement: label === model ? 'AGREED' : 'CORRECTED' });
    }

    // Back to the second image: undo it and decide it again.
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    expect(await selectedKey(page)).toBe(decided[1]?.key);
    await page.keyboard.press('u');
    await page.locator('#message.ok', { hasText: 'undone' }).waitFor();
    expect((await row(decided[1]?.key ?? ''))?.reviewedAt).toBeUndefined();
    await page.keyboard.press(decided[1]?.label === 'PNEUMONIA' ? 'p' : 'n');
    await page.locator('#message.ok', { hasText: 'Saved for' }).waitFor();
    expect(await row(decided[1]?.key ?? '')).toMatchObject({ reviewedLabel: decided[1]?.label, reviewer: 'dr-alice' });

    // The corrected image goes to the training data under the reviewer's label.
    expect(await selectedKey(page)).toBe(decided[2]?.key);
    await page.keyboard.press('t');
    await page.locator('#message.ok', { hasText: 'added to the training data' }).waitFor();
    const copied = await row(decided[2]?.key ?? '');
    expect(copied?.trainingKey).toMatch(new RegExp(`^training/${decided[2]?.label ?? ''}/from-review/[0-9a-f]{32}\\.jpeg$`));
    const head = await testStack.s3.send(new HeadObjectCommand({ Bucket: target.names.bucket, Key: String(copied?.trainingKey) }));
    expect(head.Metadata).toMatchObject({ 'source-key': encodeURIComponent(decided[2]?.key ?? ''), reviewer: 'dr-alice', origin: 'review' });

    // Usable at 1 280 × 800: nothing scrolls sideways, the image and every action are on screen.
    expect(await decodedWidth(page)).toBeGreaterThan(0);
    const fits = await page.evaluate<Record<string, boolean>>(FITS);
    await page.screenshot({ path: join(screenshots, 'review-worklist.png') });
    expect(fits).toEqual({ sideways: false, image: true, undo: true, train: true, notice: true });

    // Bob still sees the first image undecided; deciding it shows Alice's decision instead of overwriting it.
    expect(await selectedKey(bobPage)).toBe(decided[0]?.key);
    await bobPage.keyboard.press(decided[0]?.label === 'PNEUMONIA' ? 'n' : 'p');
    const conflict = bobPage.locator('#message.error');
    await conflict.waitFor();
    expect(await conflict.textContent()).toMatch(/^Conflict: already decided by dr-alice \((NORMAL|PNEUMONIA), /);
    expect(await bobPage.locator('.decision').textContent()).toMatch(/by dr-alice/);
    expect(await row(decided[0]?.key ?? '')).toMatchObject({ reviewedLabel: decided[0]?.label, reviewer: 'dr-alice' });
    // The page without its cookie asked twice (page and favicon); the conflict answered 409. Nothing else failed.
    expect(pageErrors.filter((error) => !/status of (401|409)/.test(error))).toEqual([]);
  }, 90_000);

  it('shows the model: evaluation, confusion matrix, confidence histogram with the threshold, agreement per day', async () => {
    const page = await browserPage();
    const carol = await startReviewPage(target, 'dr-carol', { threshold: testStack.stack.names.reviewThreshold });
    try {
      await page.goto(carol.url);
      await page.locator('#items li[data-key]').first().waitFor();
      await page.click('#tab-model');
      await page.locator('table[aria-label="Confusion matrix"]').waitFor();
      expect(await page.locator('table[aria-label="Confusion matrix"] tbody tr').count()).toBe(2);
      expect(await page.locator('table[aria-label="Per-label precision and recall"] tbody tr').count()).toBe(2);
      expect(await page.locator('.model-view').textContent()).toMatch(/Active version v1, RUNNING/);
      expect(await page.locator('svg[aria-label="Confidence histogram"] rect').count()).toBeGreaterThan(0);
      expect(await page.locator('svg[aria-label="Confidence histogram"] text', { hasText: 'review threshold 80' }).count()).toBe(1);
      expect(await page.locator('.model-view').textContent()).toMatch(/3 decision\(s\) in the last 30 days: the reviewer agreed with the model on 2 \(67%\)/);
      await page.screenshot({ path: join(screenshots, 'review-model.png') });
      expect(pageErrors.filter((error) => !/status of (401|409)/.test(error))).toEqual([]);
    } finally {
      await carol.close();
    }
  }, 60_000);
});
