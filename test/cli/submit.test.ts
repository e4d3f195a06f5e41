import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectCandidates, submit } from '../../src/cli/commands/submit.js';
import type { Submission } from '../../src/cli/commands/submit.js';
import { eachLimited } from '../../src/cli/context.js';
import { checkImageBytes } from '../../src/cli/image-file.js';
import { runCli } from '../../src/cli/program.js';
import type { ResultView } from '../../src/cli/results-view.js';
import { inspectObject } from '../../src/lib/image-check.js';
import { BUCKET, captureIo, putResult, startLocalServers, testContext } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';
import { fixtureImage, foreignHeader, pngHeader } from '../fixtures/images.js';
import type { FixtureImage } from '../fixtures/images.js';
import { serveObjects } from '../fixtures/s3-objects.js';

const FIXTURES: FixtureImage[] = [
  'normal-1.jpeg',
  'pneumonia-1.jpeg',
  'normal-fullres.jpeg',
  'truncated-header.jpeg',
  'truncated-body.jpeg',
  'text-named.jpg',
  'one-pixel.png',
  'huge-5000px.png',
  'metadata-heavy.jpeg',
];

describe('checkImageBytes', () => {
  it('reaches the same verdict as classify’s object inspection for every fixture', async () => {
    const objects: Record<string, { bytes: Uint8Array }> = {
      ...Object.fromEntries(FIXTURES.map((name) => [name, { bytes: fixtureImage(name) }])),
      'gif.jpg': { bytes: foreignHeader('gif') },
      'webp.jpg': { bytes: foreignHeader('webp') },
      'png-64.png': { bytes: pngHeader(64, 64) },
      'png-4097.png': { bytes: pngHeader(4097, 100) },
      'empty.jpg': { bytes: new Uint8Array() },
    };
    const s3 = mockClient(S3Client);
    serveObjects(s3, objects);
    const client = new S3Client({ region: 'eu-west-1' });
    for (const [key, { bytes }] of Object.entries(objects)) {
      const inspected = await inspectObject(client, 'b', key, undefined);
      const local = checkImageBytes(bytes);
      const expected = inspected.kind === 'rejected' ? inspected.reason : 'image';
      expect(local.ok ? 'image' : local.reason, key).toBe(expected);
    }
    s3.restore();
  });

  it('says why a file is refused', () => {
    expect(checkImageBytes(fixtureImage('one-pixel.png'))).toEqual({ ok: false, reason: 'dimensions-too-small', detail: '1x1 px; each side must be at least 64 px' });
    expect(checkImageBytes(fixtureImage('normal-1.jpeg'))).toEqual({ ok: true, format: 'jpeg', width: 224, height: 224 });
  });
});

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
    expect(skipped).toEqual([join(dir, 'scans/notes.txt')]);
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
        await putResult(target, { imageKey: 'inbox/w/single.jpeg', eTag: head.ETag?.replace(/"/g, ''), label: 'PNEUMONIA', confidence: 91.5 });
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
