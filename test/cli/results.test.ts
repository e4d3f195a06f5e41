import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { result, results } from '../../src/cli/commands/results.js';
import { watch } from '../../src/cli/commands/watch.js';
import { runCli } from '../../src/cli/program.js';
import type { ResultView } from '../../src/cli/results-view.js';
import { BUCKET, captureIo, putResult, startLocalServers, testContext } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';

const at = (minute: number): string => `2026-11-25T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('pneumo results, result and watch', () => {
  let servers: LocalServers;

  beforeAll(async () => {
    servers = await startLocalServers();
    const target = servers.target();
    await putResult(target, { imageKey: 'inbox/a.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 97.2, processedAt: at(1) });
    await putResult(target, { imageKey: 'inbox/b.jpeg', status: 'NEEDS_REVIEW', label: 'PNEUMONIA', confidence: 61, processedAt: at(2) });
    await putResult(target, { imageKey: 'inbox/c.jpeg', status: 'CLASSIFIED', label: 'NORMAL', confidence: 93, processedAt: at(3) });
    await putResult(target, { imageKey: 'inbox/ward-3/d, "quoted".png', status: 'REJECTED', reason: 'dimensions-too-small', detail: '1x1 px', processedAt: at(4), modelVersionArn: undefined });
    await putResult(target, { imageKey: 'inbox/ward-3/e.jpeg', status: 'PENDING', reason: 'model-not-running', processedAt: at(5), modelVersionArn: undefined });
    await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/ward-3/e.jpeg', Body: 'x' }));
    await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/ward-4/e.jpeg', Body: 'x' }));
    await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/ward-5/waiting.jpeg', Body: 'x' }));
    target.close();
  });

  afterAll(async () => {
    await servers.stop();
  });

  const json = async (argv: string[]): Promise<{ code: number; value: unknown; stderr: string[] }> => {
    const io = captureIo();
    const code = await runCli(argv, { io, resolveTarget: () => Promise.resolve(servers.target()) });
    return { code, value: io.stdout.length > 0 ? (JSON.parse(io.text()) as unknown) : undefined, stderr: io.stderr };
  };

  it('without filters merges every status newest first, with the documented JSON fields', async () => {
    const { code, value } = await json(['results', '--format', 'json']);
    expect(code).toBe(0);
    const views = value as ResultView[];
    expect(views.map((v) => v.key)).toEqual(['inbox/ward-3/e.jpeg', 'inbox/ward-3/d, "quoted".png', 'inbox/c.jpeg', 'inbox/b.jpeg', 'inbox/a.jpeg']);
    expect(views[4]).toMatchObject({ key: 'inbox/a.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 97.2, reason: null, modelVersion: 'v1', processedAt: at(1) });
    expect(views[4]?.labels).toEqual([{ name: 'PNEUMONIA', confidence: 97.2 }, { name: 'NORMAL', confidence: expect.closeTo(2.8) as number }]);
    expect(views[0]).toMatchObject({ status: 'PENDING', label: null, confidence: null, labels: [], reason: 'model-not-running', modelVersion: null });
  });

  it('filters by label (byLabel), status (byStatus), both, and a time window; --limit keeps the newest', async () => {
    const keys = async (argv: string[]): Promise<string[]> => ((await json([...argv, '-f', 'json'])).value as ResultView[]).map((v) => v.key);
    expect(await keys(['results', '--label', 'pneumonia'])).toEqual(['inbox/b.jpeg', 'inbox/a.jpeg']);
    expect(await keys(['results', '--status', 'needs_review'])).toEqual(['inbox/b.jpeg']);
    expect(await keys(['results', '--label', 'PNEUMONIA', '--status', 'CLASSIFIED'])).toEqual(['inbox/a.jpeg']);
    expect(await keys(['results', '--since', at(2), '--until', at(4)])).toEqual(['inbox/ward-3/d, "quoted".png', 'inbox/c.jpeg', 'inbox/b.jpeg']);
    expect(await keys(['results', '--limit', '2'])).toEqual(['inbox/ward-3/e.jpeg', 'inbox/ward-3/d, "quoted".png']);
  });

  it('writes RFC 4180 CSV and an aligned table', async () => {
    const csv = captureIo();
    await results(testContext(servers.target(), csv), { status: 'REJECTED', limit: 10, format: 'csv' });
    expect(csv.stdout).toEqual([
      'key,status,label,confidence,labels,reason,detail,modelVersion,processedAt',
      `"inbox/ward-3/d, ""quoted"".png",REJECTED,,,,dimensions-too-small,1x1 px,,${at(4)}`,
    ]);
    const table = captureIo();
    await results(testContext(servers.target(), table), { label: 'PNEUMONIA', limit: 10, format: 'table' });
    expect(table.stdout[0]).toMatch(/^PROCESSED AT\s+STATUS\s+LABEL\s+CONF\s+REASON\s+MODEL\s+KEY$/);
    expect(table.stdout[1]).toMatch(/^2026-11-25 10:02:00Z\s+NEEDS_REVIEW\s+PNEUMONIA\s+61\.0%\s+-\s+v1\s+inbox\/b\.jpeg$/);
  });

  it('refuses bad filters with exit code 2 before touching the target', async () => {
    for (const argv of [
      ['results', '--status', 'DONE'],
      ['results', '--since', 'yesterday'],
      ['results', '--limit', '0'],
      ['results', '--label', 'a b'],
      ['results', '--format', 'xml'],
      ['results', '--bogus'],
      ['result'],
    ]) {
      const io = captureIo();
      const code = await runCli(argv, { io, resolveTarget: () => Promise.reject(new Error('must not resolve')) });
      expect(code, argv.join(' ')).toBe(2);
      expect(io.stderr.join('\n'), argv.join(' ')).toMatch(/error: /);
    }
    const late = await json(['results', '--since', at(5), '--until', at(1)]);
    expect(late.code).toBe(2);
    expect(late.stderr.join('\n')).toMatch(/--since .* is after --until/);
  });

  it('result finds a row by key, S3 URI or file name', async () => {
    expect(((await json(['result', 'inbox/c.jpeg', '-f', 'json'])).value as ResultView).label).toBe('NORMAL');
    expect(((await json(['result', `s3://${BUCKET}/inbox/a.jpeg`, '-f', 'json'])).value as ResultView).key).toBe('inbox/a.jpeg');
    expect(((await json(['result', './c.jpeg', '-f', 'json'])).value as ResultView).key).toBe('inbox/c.jpeg');
    expect(((await json(['result', 'ward-3/e.jpeg', '-f', 'json'])).value as ResultView).status).toBe('PENDING');
    const table = captureIo();
    await result(testContext(servers.target(), table), 'inbox/a.jpeg', { format: 'table' });
    expect(table.stdout).toContain('label         PNEUMONIA 97.2%');
  });

  it('result exits 1 for no result (saying whether the image exists) and 2 for an ambiguous or foreign reference', async () => {
    const waiting = await json(['result', 'waiting.jpeg']);
    expect(waiting.code).toBe(1);
    expect(waiting.stderr).toEqual([`pneumo: no result for inbox/ward-5/waiting.jpeg yet (the image is in s3://${BUCKET}/inbox/ward-5/waiting.jpeg; classify has not answered)`]);
    const missing = await json(['result', 'inbox/nothing.jpeg']);
    expect(missing.code).toBe(1);
    expect(missing.stderr[0]).toMatch(/no such image/);
    const ambiguous = await json(['result', 'e.jpeg']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toEqual(['pneumo: e.jpeg matches 2 images (inbox/ward-3/e.jpeg, inbox/ward-4/e.jpeg); give the key']);
    expect((await json(['result', 's3://other-bucket/inbox/a.jpeg'])).code).toBe(2);
    for (const folder of ['', ' ', 'inbox/', 'ward-3/', `s3://${BUCKET}/inbox/`]) {
      const refused = await json(['result', folder]);
      expect(refused.code, JSON.stringify(folder)).toBe(2);
      expect(refused.stderr[0]).toMatch(/names no image: give a key \(inbox\/…\), an s3:\/\/ URI or a file name/);
    }
  });

  it('--verbose adds the stack trace to the one-line error; --version prints the package version', async () => {
    const io = captureIo();
    expect(await runCli(['--verbose', 'result', 'inbox/nothing.jpeg'], { io, resolveTarget: () => Promise.resolve(servers.target()) })).toBe(1);
    expect(io.stderr[0]).toMatch(/^pneumo: no result for inbox\/nothing\.jpeg/);
    expect(io.stderr[1]).toMatch(/^OperationFailedError: no result[\s\S]*\n\s+at /);
    const version = captureIo();
    expect(await runCli(['--version'], { io: version })).toBe(0);
    const { version: expected } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version.stdout).toEqual([expected]);
  });

  it('watch prints each new row once, oldest first, as JSON Lines', async () => {
    const io = captureIo();
    const target = servers.target();
    const ctx = testContext(target, io, async (count) => {
      if (count === 1) await putResult(target, { imageKey: 'inbox/new-1.jpeg', label: 'NORMAL', confidence: 88, processedAt: at(30) });
      if (count === 2) await putResult(target, { imageKey: 'inbox/new-2.jpeg', status: 'NEEDS_REVIEW', label: 'PNEUMONIA', confidence: 55, processedAt: at(31) });
    });
    const code = await watch(ctx, { since: at(5), count: 3, format: 'json' });
    expect(code).toBe(0);
    expect(io.stdout.map((line) => (JSON.parse(line) as ResultView).key)).toEqual(['inbox/ward-3/e.jpeg', 'inbox/new-1.jpeg', 'inbox/new-2.jpeg']);
    target.close();
  });

  it('watch also prints a row that reaches the index late with an earlier processedAt, once', async () => {
    const io = captureIo();
    const target = servers.target();
    const ctx = testContext(target, io, async (count) => {
      if (count === 1) await putResult(target, { imageKey: 'inbox/late-b.jpeg', label: 'NORMAL', confidence: 80, processedAt: '2026-11-25T11:00:10.000Z' });
      // Written before late-b but visible only now.
      if (count === 2) await putResult(target, { imageKey: 'inbox/late-a.jpeg', label: 'NORMAL', confidence: 81, processedAt: '2026-11-25T11:00:05.000Z' });
    });
    expect(await watch(ctx, { since: '2026-11-25T11:00:00.000Z', count: 2, format: 'json' })).toBe(0);
    expect(io.stdout.map((entry) => (JSON.parse(entry) as ResultView).key)).toEqual(['inbox/late-b.jpeg', 'inbox/late-a.jpeg']);
    target.close();
  });

  it('watch stops cleanly when interrupted (Ctrl-C), with a CSV header first', async () => {
    const io = captureIo();
    const controller = new AbortController();
    const ctx = testContext(servers.target(), io, () => {
      controller.abort();
    });
    expect(await watch(ctx, { since: '2026-11-25T23:00:00.000Z', format: 'csv', signal: controller.signal })).toBe(0);
    expect(io.stdout).toEqual(['key,status,label,confidence,reason,modelVersion,processedAt']);
    ctx.target.close();
  });

  it('watch without --since starts from the table\'s newest row, not this machine\'s clock', async () => {
    const io = captureIo();
    const target = servers.target();
    const controller = new AbortController();
    // This machine's clock is an hour ahead of the one classify stamps rows with.
    const ctx = testContext(target, io, async (count) => {
      if (count === 1) await putResult(target, { imageKey: 'inbox/skewed.jpeg', label: 'NORMAL', confidence: 90, processedAt: '2026-11-26T00:00:00.000Z' });
      if (count === 3) controller.abort();
    }, () => Date.parse('2026-11-26T01:00:00.000Z'));
    expect(await watch(ctx, { format: 'json', signal: controller.signal })).toBe(0);
    // Rows there before the watch began are not printed again; the new one is, though its time is behind ours.
    expect(io.stdout.map((entry) => (JSON.parse(entry) as ResultView).key)).toEqual(['inbox/skewed.jpeg']);
    target.close();
  });
});
