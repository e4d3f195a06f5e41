import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetUpload, planDataset } from '../../src/cli/commands/dataset.js';
import type { LabelCount, UploadReport } from '../../src/cli/commands/dataset.js';
import { runCli } from '../../src/cli/program.js';
import { BUCKET, captureIo, startLocalServers, testContext } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';
import { fixtureImage } from '../fixtures/images.js';

describe('pneumo dataset', () => {
  let servers: LocalServers;
  let root: string;

  beforeAll(async () => {
    servers = await startLocalServers();
    root = await mkdtemp(join(tmpdir(), 'pneumo-dataset-'));
    // Kaggle layout: chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}
    const kaggle = join(root, 'chest_xray');
    for (const [split, label, name, image] of [
      ['train', 'NORMAL', 'IM-1.jpeg', 'normal-1.jpeg'],
      ['train', 'NORMAL', 'IM-2.jpeg', 'normal-2.jpeg'],
      ['train', 'PNEUMONIA', 'person1.jpeg', 'pneumonia-1.jpeg'],
      ['val', 'PNEUMONIA', 'person2.jpeg', 'pneumonia-2.jpeg'],
      ['test', 'NORMAL', 'IM-3.jpeg', 'normal-fullres.jpeg'],
      ['test', 'PNEUMONIA', 'bad.jpeg', 'truncated-header.jpeg'],
    ] as const) {
      await mkdir(join(kaggle, split, label), { recursive: true });
      await writeFile(join(kaggle, split, label, name), fixtureImage(image));
    }
    await writeFile(join(kaggle, 'train', 'NORMAL', '.DS_Store'), 'x');
    await mkdir(join(root, 'flat', 'NORMAL'), { recursive: true });
    await mkdir(join(root, 'flat', 'PNEUMONIA'), { recursive: true });
    await writeFile(join(root, 'flat', 'NORMAL', 'a.png'), fixtureImage('normal-1.jpeg'));
    await writeFile(join(root, 'flat', 'PNEUMONIA', 'b.jpg'), fixtureImage('pneumonia-1.jpeg'));
    await mkdir(join(root, 'bad-label', 'NOT OK'), { recursive: true });
    await writeFile(join(root, 'bad-label', 'NOT OK', 'x.jpeg'), fixtureImage('normal-1.jpeg'));
    await mkdir(join(root, 'empty', 'NORMAL'), { recursive: true });
  });

  afterAll(async () => {
    await servers.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('maps both Kaggle layouts to training/<LABEL>/ (and test/ to testing/<LABEL>/)', async () => {
    const splits = await planDataset(join(root, 'chest_xray'));
    expect(splits.layout).toBe('splits');
    expect(splits.files.map((f) => f.key)).toEqual([
      'testing/NORMAL/IM-3.jpeg',
      'testing/PNEUMONIA/bad.jpeg',
      'training/NORMAL/IM-1.jpeg',
      'training/NORMAL/IM-2.jpeg',
      'training/PNEUMONIA/person1.jpeg',
      'training/PNEUMONIA/person2.jpeg',
    ]);
    expect(splits.ignored).toEqual([join(root, 'chest_xray/train/NORMAL/.DS_Store')]);
    const flat = await planDataset(join(root, 'flat'));
    expect(flat.files.map((f) => f.key)).toEqual(['training/NORMAL/a.png', 'training/PNEUMONIA/b.jpg']);
    await expect(planDataset(join(root, 'bad-label'))).rejects.toThrow(/not a usable label name/);
    await expect(planDataset(join(root, 'empty'))).rejects.toThrow(/no images found/);
    await expect(planDataset(join(root, 'missing'))).rejects.toMatchObject({ name: 'UsageError' });
  });

  it('uploads, refuses what is not a usable image (exit 1), and a second run skips every image already there', async () => {
    const first = captureIo();
    const code = await datasetUpload(testContext(servers.target(), first), join(root, 'chest_xray'), { concurrency: 3, dryRun: false, format: 'json' });
    expect(code).toBe(1);
    const report = JSON.parse(first.text()) as UploadReport;
    expect(report).toMatchObject({ layout: 'splits', uploaded: 5, skipped: 0, refused: [{ file: join(root, 'chest_xray/test/PNEUMONIA/bad.jpeg'), reason: 'corrupt-image' }] });
    expect(report.byLabel).toEqual([
      { prefix: 'testing/', label: 'NORMAL', uploaded: 1, skipped: 0, refused: 0 },
      { prefix: 'testing/', label: 'PNEUMONIA', uploaded: 0, skipped: 0, refused: 1 },
      { prefix: 'training/', label: 'NORMAL', uploaded: 2, skipped: 0, refused: 0 },
      { prefix: 'training/', label: 'PNEUMONIA', uploaded: 2, skipped: 0, refused: 0 },
    ]);
    expect(first.stderr.join('\n')).toMatch(/uploaded 5 image\(s\) .* skipped 0 already there with the same content; refused 1 .*; ignored 1 non-image file/);

    const target = servers.target();
    const head = await target.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'training/NORMAL/IM-1.jpeg' }));
    expect(head.Metadata?.md5).toBe(createHash('md5').update(fixtureImage('normal-1.jpeg')).digest('hex'));
    // Changed bytes under the same name are uploaded again.
    await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'training/NORMAL/IM-2.jpeg', Body: 'stale' }));
    target.close();

    const second = captureIo();
    await datasetUpload(testContext(servers.target(), second), join(root, 'chest_xray'), { concurrency: 3, dryRun: false, format: 'json' });
    expect(JSON.parse(second.text())).toMatchObject({ uploaded: 1, skipped: 4 });
  });

  it('recognises an object whose ETag is not its MD5 (SSE-KMS) by the md5 metadata, without uploading it again', async () => {
    const target = servers.target();
    const body = fixtureImage('normal-1.jpeg');
    const s3 = mockClient(target.clients.s3);
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'training/NORMAL/a.png', ETag: '"kms-opaque-etag"', Size: body.length }] });
    s3.on(HeadObjectCommand).resolves({ Metadata: { md5: createHash('md5').update(body).digest('hex') } });
    s3.on(PutObjectCommand).resolves({});
    const io = captureIo();
    await datasetUpload(testContext(target, io), join(root, 'flat'), { concurrency: 1, dryRun: false, format: 'json' });
    expect(JSON.parse(io.text())).toMatchObject({ uploaded: 1, skipped: 1 });
    expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key)).toEqual(['training/PNEUMONIA/b.jpg']);
    s3.restore();
    target.close();
  });

  it('on Ctrl-C starts no new upload, reports what it did and exits 130; the next run continues', async () => {
    const target = servers.target();
    const s3 = mockClient(target.clients.s3);
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).callsFake(() => {
      process.emit('SIGINT');
      return {};
    });
    const io = captureIo();
    const code = await runCli(['dataset', 'upload', join(root, 'flat'), '-c', '1', '-f', 'json'], { io, resolveTarget: () => Promise.resolve(target) });
    expect(code).toBe(130);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(JSON.parse(io.text())).toMatchObject({ uploaded: 1, skipped: 0 });
    expect(io.stderr.join('\n')).toMatch(/interrupted after 1 of 2 image\(s\); run the command again to continue \(images already there are skipped\)/);
    s3.restore();
    target.close();
  });

  it('--dry-run uploads nothing; stats counts images per prefix and label', async () => {
    const dry = captureIo();
    expect(await runCli(['dataset', 'upload', join(root, 'flat'), '--dry-run'], { io: dry, resolveTarget: () => Promise.resolve(servers.target()) })).toBe(0);
    expect(dry.stdout[0]).toMatch(/^PREFIX\s+TO UPLOAD\s+ALREADY THERE\s+REFUSED$/);
    expect(dry.stderr.join('\n')).toMatch(/would upload 2 image\(s\)/);

    const stats = captureIo();
    expect(await runCli(['dataset', 'stats', '-f', 'json'], { io: stats, resolveTarget: () => Promise.resolve(servers.target()) })).toBe(0);
    const rows = JSON.parse(stats.text()) as LabelCount[];
    expect(rows.map((r) => [r.prefix, r.label, r.images])).toEqual([
      ['testing/', 'NORMAL', 1],
      ['training/', 'NORMAL', 2],
      ['training/', 'PNEUMONIA', 2],
    ]);
    expect(rows[0]?.bytes).toBe(fixtureImage('normal-fullres.jpeg').length);
  });

  it('refuses an image whose key would pass S3\'s 1 024 bytes and uploads the rest (exit 1)', async () => {
    const deep = join(root, 'deep');
    const far = join(deep, 'NORMAL', ...Array.from({ length: 5 }, () => 'd'.repeat(200)));
    await mkdir(far, { recursive: true });
    await writeFile(join(far, 'a.jpeg'), fixtureImage('normal-1.jpeg'));
    await writeFile(join(deep, 'NORMAL', 'b.jpeg'), fixtureImage('normal-2.jpeg'));
    const io = captureIo();
    const code = await runCli(['dataset', 'upload', deep, '-f', 'json'], { io, resolveTarget: () => Promise.resolve(servers.target()) });
    expect(code).toBe(1);
    const report = JSON.parse(io.text()) as UploadReport;
    expect(report).toMatchObject({ uploaded: 1, refused: [{ file: join(far, 'a.jpeg'), reason: 'key-too-long' }] });
    await rm(deep, { recursive: true, force: true });
  });

  it('follows a linked label folder, refuses a FIFO without reading it, reports a broken link, uploads the rest and exits 1', async () => {
    const odd = join(root, 'odd');
    await mkdir(join(root, 'disk', 'LINKED'), { recursive: true });
    await writeFile(join(root, 'disk', 'LINKED', 'l.jpeg'), fixtureImage('normal-2.jpeg'));
    await mkdir(join(odd, 'ODD'), { recursive: true });
    await symlink(join(root, 'disk', 'LINKED'), join(odd, 'LINKED'));
    await writeFile(join(odd, 'ODD', 'ok.jpeg'), fixtureImage('pneumonia-2.jpeg'));
    await symlink(join(root, 'nowhere.jpeg'), join(odd, 'ODD', 'gone.jpeg'));
    execFileSync('mkfifo', [join(odd, 'ODD', 'pipe.jpeg')]);
    const io = captureIo();
    const code = await runCli(['dataset', 'upload', odd, '-f', 'json'], { io, resolveTarget: () => Promise.resolve(servers.target()) });
    const report = JSON.parse(io.text()) as UploadReport;
    expect(report.byLabel.map((t) => [t.label, t.uploaded, t.refused])).toEqual([
      ['LINKED', 1, 0],
      ['ODD', 1, 1],
    ]);
    expect(report.refused).toEqual([{ file: join(odd, 'ODD', 'pipe.jpeg'), reason: 'not-a-regular-file', detail: 'a FIFO (named pipe); only regular files are uploaded' }]);
    expect(io.stderr).toContain(`skipped ${join(odd, 'ODD', 'gone.jpeg')}: symbolic link to nothing (ENOENT)`);
    expect(code).toBe(1);
  });
});
