import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answersUpload, collectCandidates, submit } from '../../src/cli/commands/submit.js';
import type { Submission } from '../../src/cli/commands/submit.js';
import type { Target, TargetNames } from '../../src/cli/target.js';
import { eachLimited } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';
import type { ResultView } from '../../src/cli/results-view.js';
import { BUCKET, captureIo, putResult, SERVING_SCHEDULE, startLocalServers, testContext } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';
import { dicomHeader, fixtureImage } from '../fixtures/images.js';

describe('pneumo submit', () => {
  let servers: LocalServers;
  let dir: string;

  beforeAll(async () => {
    servers = await startLocalServers();
    dir = await mkdtemp(join(tmpdir(), 'pneumo-submit-'));
    await mkdir(join(dir, 'scans/ward-3'), { recursive: true });
    await writeFile(join(dir, 'scans/a.jpeg'), fixtureImage('normal-1.jpeg'));
    await writeFile(join(dir, 'scans/ward-3/b.png'), fixtureImage('one-pixel.png'));
    await writeFile(join(dir, 'scans/ward-3/c.JPG'), fixtureImage('pneumonia-1.jpeg'));
    await writeFile(join(dir, 'scans/notes.txt'), 'not an image');
    await writeFile(join(dir, 'single.jpeg'), fixtureImage('pneumonia-2.jpeg'));
    await writeFile(join(dir, 'Mixed.Jpg'), fixtureImage('normal-2.jpeg'));
  });

  afterAll(async () => {
    await servers.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('maps files and directory trees to inbox keys and refuses two files for one key', async () => {
    const { candidates, skipped } = await collectCandidates([join(dir, 'scans'), join(dir, 'single.jpeg')], 'ward-9');
    expect(candidates.map((c) => c.key)).toEqual(['inbox/ward-9/a.jpeg', 'inbox/ward-9/ward-3/b.png', 'inbox/ward-9/ward-3/c.JPG', 'inbox/ward-9/single.jpeg']);
    expect(skipped).toEqual([{ path: join(dir, 'scans/notes.txt'), why: 'not .jpg/.jpeg/.png', missing: false }]);
    await expect(collectCandidates([join(dir, 'single.jpeg'), join(dir, 'single.jpeg')], undefined)).rejects.toThrow(/both be uploaded as inbox\/single.jpeg/);
    await expect(collectCandidates([join(dir, 'missing')], undefined)).rejects.toMatchObject({ name: 'UsageError' });
  });

  it('uploads what classify would accept, refuses the rest with its reason, says what it did and exits 1', async () => {
    const io = captureIo();
    const target = servers.target();
    const code = await submit(testContext(target, io), [join(dir, 'scans'), join(dir, 'Mixed.Jpg')], { concurrency: 2, wait: false, timeoutMs: 1000, format: 'json' });
    expect(code).toBe(1);
    const out = JSON.parse(io.text()) as Submission[];
    expect(out.map((s) => [s.key, s.outcome, s.reason])).toEqual([
      ['inbox/a.jpeg', 'uploaded', undefined],
      ['inbox/ward-3/b.png', 'refused', 'dimensions-too-small'],
      ['inbox/ward-3/c.JPG', 'uploaded', undefined],
      ['inbox/Mixed.Jpg', 'refused', 'suffix-not-notified'],
    ]);
    expect(out[0]?.eTag).toMatch(/^[0-9a-f]{32}$/);
    expect(io.stderr.join('\n')).toMatch(/uploaded 2 image\(s\) .* to s3:\/\/pneumo-test-inbox\/inbox\/; refused 2/);
    const head = await target.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'inbox/ward-3/c.JPG' }));
    expect(head.ContentType).toBe('image/jpeg');
    await expect(target.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'inbox/ward-3/b.png' }))).rejects.toMatchObject({ name: 'NotFound' });
    target.close();
  });

  it('--wait follows each upload to its own result (not an older row of the same key) and prints it', async () => {
    const io = captureIo();
    const target = servers.target();
    // An answer to an earlier upload: same key, older processedAt; it must not count.
    await putResult(target, { imageKey: 'inbox/w/single.jpeg', processedAt: '2020-01-01T00:00:00.000Z', eTag: 'old', label: 'NORMAL', confidence: 99 });
    const ctx = testContext(target, io, async (count) => {
      if (count === 2) {
        const head = await target.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'inbox/w/single.jpeg' }));
        await putResult(target, { imageKey: 'inbox/w/single.jpeg', eTag: head.ETag?.replace(/"/g, ''), objectVersionId: head.VersionId, sequencer: '0000000000000002', label: 'PNEUMONIA', confidence: 91.5 });
      }
    });
    const code = await submit(ctx, [join(dir, 'single.jpeg')], { prefix: 'w', concurrency: 1, wait: true, timeoutMs: 60_000, format: 'json' });
    expect(code).toBe(0);
    const [view] = JSON.parse(io.text()) as ResultView[];
    expect(view).toMatchObject({ key: 'inbox/w/single.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 91.5, modelVersion: 'v1' });
    expect(view?.labels).toEqual([{ name: 'PNEUMONIA', confidence: 91.5 }, { name: 'NORMAL', confidence: 8.5 }]);
    target.close();
  });

  it('--wait gives up after --timeout, names what has no result and exits 1', async () => {
    const io = captureIo();
    const target = servers.target();
    let clock = 0;
    const ctx = testContext(target, io, () => {
      clock += 1000;
    }, () => clock);
    const code = await submit(ctx, [join(dir, 'scans/a.jpeg')], { prefix: 'never', concurrency: 1, wait: true, timeoutMs: 3000, format: 'table' });
    expect(code).toBe(1);
    expect(io.stderr).toContain('no result for inbox/never/a.jpeg after 3 s');
    target.close();
  });

  it('stops starting uploads after a failure, says how many went up, and exits 1', async () => {
    const io = captureIo();
    const code = await runCli(['submit', join(dir, 'scans/a.jpeg'), join(dir, 'single.jpeg'), join(dir, 'scans/ward-3/c.JPG'), '-c', '1'], {
      io,
      resolveTarget: () => {
        const target = servers.target();
        mockClient(target.clients.s3)
          .on(PutObjectCommand)
          .resolvesOnce({ ETag: '"e1"' })
          .rejects(Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' }));
        return Promise.resolve(target);
      },
    });
    expect(code).toBe(1);
    expect(io.stderr).toEqual([`uploaded 1 of 3 image(s) to s3://${BUCKET}/ before an error stopped the rest`, 'pneumo: SlowDown: Please reduce your request rate.']);
  });

  it('on Ctrl-C starts no new upload, lists what went up, says what was not sent and exits 130', async () => {
    const io = captureIo();
    let puts = 0;
    const code = await runCli(['submit', join(dir, 'scans/a.jpeg'), join(dir, 'single.jpeg'), join(dir, 'scans/ward-3/c.JPG'), '-c', '1', '--wait', '-f', 'json'], {
      io,
      resolveTarget: () => {
        const target = servers.target();
        mockClient(target.clients.s3)
          .on(PutObjectCommand)
          .callsFake(() => {
            puts += 1;
            // The user presses Ctrl-C while the first upload is in flight.
            if (puts === 1) process.emit('SIGINT');
            return { ETag: `"e${puts}"` };
          });
        return Promise.resolve(target);
      },
    });
    expect(code).toBe(130);
    expect(puts).toBe(1);
    expect((JSON.parse(io.text()) as Submission[]).map((s) => [s.key, s.outcome])).toEqual([['inbox/a.jpeg', 'uploaded']]);
    expect(io.stderr.join('\n')).toMatch(/interrupted: 2 of 3 file\(s\) were not sent; submit them again/);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});

describe('pneumo submit with files that are not plain images', () => {
  let servers: LocalServers;
  let dir: string;

  beforeAll(async () => {
    servers = await startLocalServers();
    dir = await mkdtemp(join(tmpdir(), 'pneumo-submit-odd-'));
    await writeFile(join(dir, 'good.jpeg'), fixtureImage('normal-1.jpeg'));
    await writeFile(join(dir, 'next.jpeg'), fixtureImage('normal-2.jpeg'));
    await writeFile(join(dir, 'scan.dcm.jpeg'), dicomHeader());
    execFileSync('mkfifo', [join(dir, 'pipe.jpeg')]);
    await mkdir(join(dir, 'tree/sub'), { recursive: true });
    await writeFile(join(dir, 'tree/own.jpeg'), fixtureImage('pneumonia-1.jpeg'));
    await symlink(join(dir, 'good.jpeg'), join(dir, 'tree/linked.jpeg'));
    await symlink(join(dir, 'missing.jpeg'), join(dir, 'tree/gone.jpeg'));
    await symlink(join(dir, 'tree'), join(dir, 'tree/sub/loop'));
  });

  afterAll(async () => {
    await servers.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(args: string[], target: Target = servers.target()): Promise<{ code: number; out: Submission[]; err: string }> {
    const io = captureIo();
    const code = await runCli(['submit', ...args, '-f', 'json'], { io, resolveTarget: () => Promise.resolve(target) });
    return { code, out: io.stdout.length ? (JSON.parse(io.text()) as Submission[]) : [], err: io.stderr.join('\n') };
  }

  it('refuses a FIFO and a socket from their stat, without reading or hanging, and uploads the rest', async () => {
    const socketPath = join(dir, 'sock.jpeg');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const { code, out, err } = await run([join(dir, 'pipe.jpeg'), join(dir, 'sock.jpeg'), join(dir, 'good.jpeg')]);
      expect(code).toBe(1);
      expect(out.map((s) => [s.key, s.outcome, s.reason])).toEqual([
        ['inbox/pipe.jpeg', 'skipped', 'not-a-regular-file'],
        ['inbox/sock.jpeg', 'skipped', 'not-a-regular-file'],
        ['inbox/good.jpeg', 'uploaded', undefined],
      ]);
      expect(out[0]?.detail).toMatch(/FIFO/);
      expect(out[1]?.detail).toMatch(/socket/);
      expect(err).toMatch(/skipped .*pipe\.jpeg: not-a-regular-file \(a FIFO \(named pipe\)/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    }
  });

  it('follows a link to a file, reports a broken link and a folder loop, and exits 1 for the missing image', async () => {
    const { code, out, err } = await run([join(dir, 'tree')]);
    expect(out.map((s) => [s.key, s.outcome])).toEqual([
      ['inbox/linked.jpeg', 'uploaded'],
      ['inbox/own.jpeg', 'uploaded'],
    ]);
    expect(err).toContain(`skipped ${join(dir, 'tree/gone.jpeg')}: symbolic link to nothing (ENOENT)`);
    expect(err).toContain(`skipped ${join(dir, 'tree/sub/loop')}: link back to a folder being walked`);
    expect(code).toBe(1);
  });

  it('refuses a file whose key would pass S3\'s 1 024 bytes instead of stopping the batch, and uploads the rest (exit 1)', async () => {
    const prefix = Array.from({ length: 5 }, () => 'd'.repeat(200)).join('/');
    const longer = join(dir, `${'n'.repeat(20)}.jpeg`);
    await writeFile(longer, fixtureImage('normal-2.jpeg'));
    // inbox/ + 1 004 bytes of prefix + /good.jpeg is 1 020 bytes: it fits; the longer name does not.
    const { code, out } = await run([longer, join(dir, 'good.jpeg'), '--prefix', prefix, '-c', '1']);
    expect(code).toBe(1);
    expect(out.map((s) => [s.outcome, s.reason])).toEqual([
      ['refused', 'key-too-long'],
      ['uploaded', undefined],
    ]);
    expect(out[0]?.detail).toBe('the S3 key would be 1036 bytes of UTF-8 and S3 allows 1024; shorten the name or --prefix');
    await unlink(longer);
  });

  it('names a DICOM file as such before uploading it', async () => {
    const { code, out } = await run([join(dir, 'scan.dcm.jpeg')]);
    expect(code).toBe(1);
    expect(out).toEqual([expect.objectContaining({ outcome: 'refused', reason: 'dicom-not-supported', detail: 'DICOM file: export it as PNG or JPEG' })]);
  });

  it('skips a file it cannot read, uploads the others and exits 1 at the end', async () => {
    const vanishing = join(dir, 'vanishing.jpeg');
    await writeFile(vanishing, fixtureImage('pneumonia-2.jpeg'));
    const target = servers.target();
    // The first upload removes the second file before it is read: a file that is there when listed and not when read.
    mockClient(target.clients.s3).on(PutObjectCommand).callsFakeOnce(async () => {
      await unlink(vanishing);
      return { ETag: '"e1"' };
    }).resolves({ ETag: '"e2"' });
    const { code, out, err } = await run([join(dir, 'good.jpeg'), vanishing, join(dir, 'next.jpeg'), '-c', '1'], target);
    expect(out.map((s) => [s.key, s.outcome, s.reason])).toEqual([
      ['inbox/good.jpeg', 'uploaded', undefined],
      ['inbox/vanishing.jpeg', 'skipped', 'unreadable'],
      ['inbox/next.jpeg', 'uploaded', undefined],
    ]);
    expect(out[1]?.detail).toMatch(/^ENOENT/);
    expect(err).toMatch(/uploaded 2 image\(s\) .*; skipped 1 that could not be read/);
    expect(code).toBe(1);
  });

  it('stops at a missing bucket with exit 3: the target, not a file, is what failed', async () => {
    const { code, err } = await run([join(dir, 'good.jpeg'), join(dir, 'next.jpeg')], servers.target({ names: { bucket: 'no-such-bucket' } }));
    expect(code).toBe(3);
    expect(err).toMatch(/no-such-bucket/);
  });
});

describe('pneumo submit --wait matches its own row', () => {
  let servers: LocalServers;
  let dir: string;
  const start = Date.parse('2026-12-01T10:00:00.000Z');

  beforeAll(async () => {
    servers = await startLocalServers();
    dir = await mkdtemp(join(tmpdir(), 'pneumo-submit-wait-'));
    await writeFile(join(dir, 'chest.jpeg'), fixtureImage('normal-1.jpeg'));
  });

  afterAll(async () => {
    await servers.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * classify answers before PutObject has returned to the CLI, with a processedAt from its own clock, which is
   * behind the CLI's: the race that made --wait miss its result.
   */
  async function raceUpload(key: string, response: { ETag: string; VersionId?: string }, row: Record<string, unknown>, names?: Partial<TargetNames>): Promise<{ code: number; views: ResultView[]; err: string }> {
    const target = servers.target({ names });
    const io = captureIo();
    let clock = start;
    mockClient(target.clients.s3).on(PutObjectCommand).callsFake(async () => {
      await putResult(target, { imageKey: key, processedAt: new Date(start - 500).toISOString(), label: 'NORMAL', confidence: 97, ...row });
      return response;
    });
    const ctx = testContext(target, io, () => {
      clock += 1000;
    }, () => clock);
    const code = await submit(ctx, [join(dir, 'chest.jpeg')], { prefix: key.split('/')[1], concurrency: 1, wait: true, timeoutMs: 5000, format: 'json' });
    target.close();
    return { code, views: io.stdout.length ? (JSON.parse(io.text()) as ResultView[]) : [], err: io.stderr.join('\n') };
  }

  it('says what becomes of PENDING images on this stage: an on-demand start, a start by hand, or a first retrain', async () => {
    const pending = { status: 'PENDING', label: undefined, confidence: undefined, reason: 'model-not-running', eTag: 'p' };
    const onDemand = { servingSchedule: { ...SERVING_SCHEDULE, classifyConcurrency: 5, serving: { onDemandStart: true, idleStopMinutes: 5, checkRate: 'rate(1 minute)', quietHours: 'off', dailyCapHours: 0 } } };
    const started = await raceUpload('inbox/od/chest.jpeg', { ETag: '"p"' }, { ...pending, sequencer: '01' }, onDemand);
    expect(started.code).toBe(0);
    expect(started.err).toMatch(/1 image\(s\) are PENDING: the model is stopped and the stage starts it on demand .*they are classified once it runs/);
    expect(started.err).not.toMatch(/pneumo model start/);
    const byHand = await raceUpload('inbox/hand/chest.jpeg', { ETag: '"p"' }, { ...pending, sequencer: '01' }, { servingSchedule: { ...onDemand.servingSchedule, serving: { ...onDemand.servingSchedule.serving, onDemandStart: false } } });
    expect(byHand.err).toMatch(/no model is running; they are classified when one starts \(pneumo model start\)/);
    const untrained = await raceUpload('inbox/new/chest.jpeg', { ETag: '"p"' }, { ...pending, reason: 'no-model', sequencer: '01' }, onDemand);
    expect(untrained.err).toMatch(/no model has been promoted yet; they are classified after the first retrain \(pneumo retrain --wait\)/);
  });

  it('by ETag and a newer S3 event than the row the key had, when the bucket returns no version id', async () => {
    const target = servers.target();
    // The same bytes uploaded before: same ETag, an older event. It must not count as this upload's answer.
    await putResult(target, { imageKey: 'inbox/etag/chest.jpeg', eTag: 'same', sequencer: '0000000000000001', processedAt: '2026-11-30T00:00:00.000Z', label: 'PNEUMONIA', confidence: 60 });
    target.close();
    const { code, views } = await raceUpload('inbox/etag/chest.jpeg', { ETag: '"same"' }, { eTag: 'same', sequencer: '0000000000000002' });
    expect(code).toBe(0);
    expect(views).toEqual([expect.objectContaining({ key: 'inbox/etag/chest.jpeg', label: 'NORMAL', confidence: 97 })]);
  });

  it('never takes the earlier row of the same bytes for the answer', async () => {
    const target = servers.target();
    await putResult(target, { imageKey: 'inbox/stale/chest.jpeg', eTag: 'same', sequencer: '0000000000000005', label: 'PNEUMONIA', confidence: 60 });
    mockClient(target.clients.s3).on(PutObjectCommand).resolves({ ETag: '"same"' });
    let clock = start;
    const io = captureIo();
    const ctx = testContext(target, io, () => {
      clock += 1000;
    }, () => clock);
    expect(await submit(ctx, [join(dir, 'chest.jpeg')], { prefix: 'stale', concurrency: 1, wait: true, timeoutMs: 3000, format: 'json' })).toBe(1);
    expect(io.stderr).toContain('no result for inbox/stale/chest.jpeg after 3 s');
    target.close();
  });

  it('by the version id PutObject returned, on a versioned bucket', async () => {
    const target = servers.target();
    await putResult(target, { imageKey: 'inbox/versioned/chest.jpeg', eTag: 'same', objectVersionId: 'v1', sequencer: '0000000000000009', label: 'PNEUMONIA', confidence: 60 });
    target.close();
    const { code, views } = await raceUpload('inbox/versioned/chest.jpeg', { ETag: '"same"', VersionId: 'v2' }, { eTag: 'same', objectVersionId: 'v2', sequencer: '0000000000000003' });
    expect(code).toBe(0);
    expect(views).toEqual([expect.objectContaining({ key: 'inbox/versioned/chest.jpeg', label: 'NORMAL' })]);
  });
});

describe('answersUpload', () => {
  const upload: Submission = { file: 'f.jpeg', key: 'inbox/f.jpeg', outcome: 'uploaded', eTag: 'e1' };
  const row = (fields: Record<string, unknown>): Record<string, unknown> => ({ status: 'CLASSIFIED', eTag: 'e1', ...fields });

  it('compares S3\'s own values only: the sequencer, else the event time, and never a processedAt', () => {
    const earlier = { sequencer: '0000000000000005', eventTime: '2026-12-01T10:00:00.000Z' };
    expect(answersUpload(row({ sequencer: '0000000000000006', processedAt: '2000-01-01T00:00:00.000Z' }), upload, earlier)).toBe(true);
    expect(answersUpload(row({ sequencer: '0000000000000005', processedAt: '2999-01-01T00:00:00.000Z' }), upload, earlier)).toBe(false);
    expect(answersUpload(row({ eventTime: '2026-12-01T10:00:01.000Z' }), upload, { eventTime: earlier.eventTime })).toBe(true);
    expect(answersUpload(row({ eventTime: earlier.eventTime }), upload, { eventTime: earlier.eventTime })).toBe(false);
    expect(answersUpload(row({ eTag: 'other', sequencer: '0000000000000009' }), upload, earlier)).toBe(false);
    expect(answersUpload(row({ sequencer: '0000000000000001' }), upload, undefined)).toBe(true);
  });

  it('waits past a retry in progress, and decides by version id when the bucket gave one', () => {
    expect(answersUpload(row({ status: 'FAILED', reason: 'retryable-error' }), upload, undefined)).toBe(false);
    const versioned: Submission = { ...upload, versionId: 'v2' };
    expect(answersUpload(row({ objectVersionId: 'v2' }), versioned, { sequencer: 'FFFFFFFFFFFFFFFF' })).toBe(true);
    expect(answersUpload(row({ objectVersionId: 'v1', sequencer: 'FFFFFFFFFFFFFFFFFF' }), versioned, undefined)).toBe(false);
  });
});

describe('eachLimited', () => {
  it('keeps at most `limit` in flight, starts nothing after a failure and throws it once the rest finished', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const failure = eachLimited([1, 2, 3, 4, 5, 6], 2, async (item) => {
      started.push(item);
      running += 1;
      peak = Math.max(peak, running);
      await Promise.resolve();
      running -= 1;
      if (item === 3) throw new Error('boom');
    });
    await expect(failure).rejects.toThrow('boom');
    expect(peak).toBe(2);
    expect(started).toEqual([1, 2, 3, 4]);
    expect(running).toBe(0);
  });
});
