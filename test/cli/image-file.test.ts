import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findImages } from '../../src/cli/file-walk.js';
import { checkImageFile } from '../../src/cli/image-file.js';
import { inspectObject } from '../../src/lib/image-check.js';
import { dicomHeader, fixtureImage, foreignHeader, largeMetadataJpeg, pngHeader } from '../fixtures/images.js';
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

/** The corpus both modes are judged on: every fixture, crafted headers and the large-metadata JPEG. */
async function corpus(): Promise<Record<string, Uint8Array>> {
  return {
    ...Object.fromEntries(FIXTURES.map((name) => [name, fixtureImage(name)])),
    'large-icc.jpeg': await largeMetadataJpeg(),
    'dicom.jpeg': dicomHeader(),
    'gif.jpg': foreignHeader('gif'),
    'webp.jpg': foreignHeader('webp'),
    'png-64.png': pngHeader(64, 64),
    'png-4097.png': pngHeader(4097, 100),
    'empty.jpg': new Uint8Array(),
  };
}

type Judgement = { verdict: string; reason?: string; detail?: string; width?: number };

describe('checkImageFile', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pneumo-image-file-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reaches exactly classify’s verdict and words, over file reads as over S3 ranges, for the whole corpus', async () => {
    const objects = await corpus();
    const s3 = mockClient(S3Client);
    serveObjects(s3, Object.fromEntries(Object.entries(objects).map(([key, bytes]) => [key, { bytes }])));
    const client = new S3Client({ region: 'eu-west-1' });
    const fromS3: Record<string, Judgement> = {};
    const fromFiles: Record<string, Judgement> = {};
    for (const [name, bytes] of Object.entries(objects)) {
      const inspected = await inspectObject(client, 'b', name, undefined);
      fromS3[name] =
        inspected.kind === 'image' ? { verdict: 'image', width: inspected.image.width }
        : inspected.kind === 'rejected' ? { verdict: 'rejected', reason: inspected.reason, detail: inspected.detail }
        : { verdict: inspected.kind };
      await writeFile(join(dir, name), bytes);
      const checked = await checkImageFile(join(dir, name));
      fromFiles[name] =
        checked.kind === 'image' ? { verdict: 'image', width: checked.image.width }
        : checked.kind === 'refused' ? { verdict: 'rejected', reason: checked.reason, detail: checked.detail }
        : { verdict: checked.kind };
      // Compared as buffers: a deep equality over 1.3 MB of elements takes seconds.
      if (checked.kind === 'image') expect(Buffer.compare(checked.body, bytes), name).toBe(0);
    }
    s3.restore();
    expect(fromFiles).toEqual(fromS3);
    expect(fromS3['large-icc.jpeg']).toEqual({ verdict: 'image', width: 224 });
    expect(fromS3['dicom.jpeg']).toEqual({ verdict: 'rejected', reason: 'dicom-not-supported', detail: 'DICOM file: export it as PNG or JPEG' });
  });

  it('refuses a FIFO and a directory from their stat, and reports a file it cannot open', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.jpeg')]);
    await mkdir(join(dir, 'folder.jpeg'));
    expect(await checkImageFile(join(dir, 'pipe.jpeg'))).toEqual({
      kind: 'unreadable',
      reason: 'not-a-regular-file',
      detail: 'a FIFO (named pipe); only regular files are uploaded',
    });
    expect(await checkImageFile(join(dir, 'folder.jpeg'))).toMatchObject({ kind: 'unreadable', reason: 'not-a-regular-file', detail: /^a directory/ });
    expect(await checkImageFile('/dev/null')).toMatchObject({ kind: 'unreadable', reason: 'not-a-regular-file', detail: /^a character device/ });
    expect(await checkImageFile(join(dir, 'absent.jpeg'))).toMatchObject({ kind: 'unreadable', reason: 'unreadable', detail: /^ENOENT/ });
  });
});

describe('findImages', () => {
  it('follows links to files and folders once, and says what it left out and why', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pneumo-walk-'));
    try {
      await mkdir(join(root, 'data/a'), { recursive: true });
      await mkdir(join(root, 'elsewhere'));
      await writeFile(join(root, 'elsewhere/x.png'), pngHeader(100, 100));
      await writeFile(join(root, 'data/a/1.jpeg'), fixtureImage('normal-1.jpeg'));
      await writeFile(join(root, 'data/notes.txt'), 'x');
      await symlink(join(root, 'elsewhere'), join(root, 'data/linked-folder'));
      await symlink(join(root, 'data'), join(root, 'data/a/up'));
      await symlink(join(root, 'nothing.png'), join(root, 'data/broken.png'));
      const { images, skipped } = await findImages(join(root, 'data'));
      expect(images).toEqual([join(root, 'data/a/1.jpeg'), join(root, 'data/linked-folder/x.png')]);
      expect(skipped).toEqual([
        { path: join(root, 'data/a/up'), why: `link back to a folder being walked (${join(root, 'data')}); not followed`, missing: false },
        { path: join(root, 'data/broken.png'), why: 'symbolic link to nothing (ENOENT)', missing: true },
        { path: join(root, 'data/notes.txt'), why: 'not .jpg/.jpeg/.png', missing: false },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
