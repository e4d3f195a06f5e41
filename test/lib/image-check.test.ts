import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectObject } from '../../src/lib/image-check.js';
import { dicomHeader, fixtureImage, foreignHeader, largeMetadataJpeg, pngHeader } from '../fixtures/images.js';
import type { FixtureImage } from '../fixtures/images.js';
import { BUCKET } from '../fixtures/s3-events.js';
import { serveObjects } from '../fixtures/s3-objects.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'eu-west-1' });

afterEach(() => {
  s3Mock.reset();
});

function serveFixture(name: FixtureImage): { ranges: string[] } {
  return serveObjects(s3Mock, { 'inbox/x': { bytes: fixtureImage(name), versionId: 'v1' } });
}

describe('inspectObject', () => {
  it('accepts a real chest X-ray after one header read', async () => {
    const { ranges } = serveFixture('normal-1.jpeg');
    const inspection = await inspectObject(s3, BUCKET, 'inbox/x', 'v1');
    expect(inspection).toEqual({
      kind: 'image',
      object: { size: 6970, eTag: 'etag-1', versionId: 'v1' },
      image: { format: 'jpeg', width: 224, height: 224 },
    });
    expect(ranges).toEqual(['bytes=0-6969']);
  });

  it('accepts an original-size X-ray without reading all of it', async () => {
    const { ranges } = serveFixture('normal-fullres.jpeg');
    const inspection = await inspectObject(s3, BUCKET, 'inbox/x', 'v1');
    expect(inspection).toMatchObject({ kind: 'image', image: { width: 1040, height: 747 } });
    expect(ranges).toEqual(['bytes=0-65535']);
  });

  it('follows metadata segments with further ranged reads', async () => {
    const { ranges } = serveFixture('metadata-heavy.jpeg');
    expect(await inspectObject(s3, BUCKET, 'inbox/x', 'v1')).toMatchObject({ kind: 'image', image: { width: 224 } });
    expect(ranges).toEqual(['bytes=0-65535', 'bytes=120010-185545']);
  });

  it('classifies a JPEG whose 1.3 MB ICC profile puts the frame header past the first MB, hopping segment to segment', async () => {
    const bytes = await largeMetadataJpeg();
    const { ranges } = serveObjects(s3Mock, { 'inbox/x': { bytes, versionId: 'v1' } });
    expect(await inspectObject(s3, BUCKET, 'inbox/x', 'v1')).toMatchObject({ kind: 'image', image: { format: 'jpeg', width: 224, height: 224 } });
    // One read per 64 KiB APP2 segment, each starting at a marker: 20 reads for 20 segments, never the whole file.
    const starts = ranges.map((range) => Number(/^bytes=(\d+)-/.exec(range)?.[1]));
    expect(ranges[0]).toBe('bytes=0-65535');
    expect(ranges).toHaveLength(20);
    for (const start of starts.slice(1)) expect([bytes[start], bytes[start + 1]]).toEqual([0xff, 0xe2]);
  });

  it('names a DICOM file under an image name, in words a person can act on', async () => {
    serveObjects(s3Mock, { 'inbox/x.jpeg': { bytes: dicomHeader() } });
    expect(await inspectObject(s3, BUCKET, 'inbox/x.jpeg', undefined)).toMatchObject({
      kind: 'rejected',
      reason: 'dicom-not-supported',
      detail: 'DICOM file: export it as PNG or JPEG',
    });
  });

  it.each([
    ['text-named.jpg', 'unsupported-format', 'content is unknown, not JPEG or PNG'],
    ['truncated-header.jpeg', 'corrupt-image', 'file ends before the image dimensions'],
    ['one-pixel.png', 'dimensions-too-small', '1x1 px; each side must be at least 64 px'],
    ['huge-5000px.png', 'dimensions-too-large', '5000x5000 px; each side must be at most 4096 px'],
  ] as const)('rejects %s as %s', async (name, reason, detail) => {
    serveFixture(name);
    expect(await inspectObject(s3, BUCKET, 'inbox/x', 'v1')).toMatchObject({ kind: 'rejected', reason, detail });
  });

  it('lets a JPEG with intact header and cut body through (the service judges the pixels)', async () => {
    serveFixture('truncated-body.jpeg');
    expect(await inspectObject(s3, BUCKET, 'inbox/x', 'v1')).toMatchObject({ kind: 'image' });
  });

  it.each([
    [63, 100, 'dimensions-too-small'],
    [100, 63, 'dimensions-too-small'],
    [4097, 100, 'dimensions-too-large'],
    [100, 4097, 'dimensions-too-large'],
  ] as const)('rejects %ix%i px', async (width, height, reason) => {
    serveObjects(s3Mock, { 'inbox/x': { bytes: pngHeader(width, height) } });
    expect(await inspectObject(s3, BUCKET, 'inbox/x', undefined)).toMatchObject({ kind: 'rejected', reason });
  });

  it.each([
    [64, 64],
    [4096, 4096],
  ])('accepts the limits %ix%i px', async (width, height) => {
    serveObjects(s3Mock, { 'inbox/x': { bytes: pngHeader(width, height) } });
    expect(await inspectObject(s3, BUCKET, 'inbox/x', undefined)).toMatchObject({ kind: 'image', image: { width, height } });
  });

  it.each(['gif', 'webp', 'bmp', 'tiff'] as const)('rejects a %s named like an image', async (format) => {
    serveObjects(s3Mock, { 'inbox/x': { bytes: foreignHeader(format) } });
    expect(await inspectObject(s3, BUCKET, 'inbox/x', undefined)).toMatchObject({
      kind: 'rejected',
      reason: 'unsupported-format',
      detail: `content is ${format}, not JPEG or PNG`,
    });
  });

  it('rejects an empty object without reading it', async () => {
    const { ranges } = serveObjects(s3Mock, { 'inbox/x': { bytes: new Uint8Array() } });
    expect(await inspectObject(s3, BUCKET, 'inbox/x', undefined)).toMatchObject({ kind: 'rejected', reason: 'empty-object' });
    expect(ranges).toEqual([]);
  });

  it('rejects an object over 15 MB from its size alone', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 15 * 1024 * 1024 + 1, ETag: '"e"' });
    expect(await inspectObject(s3, BUCKET, 'inbox/x', undefined)).toMatchObject({
      kind: 'rejected',
      reason: 'object-too-large',
      object: { size: 15 * 1024 * 1024 + 1 },
    });
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(1);
  });

  it('reports an object deleted before the event was handled', async () => {
    serveObjects(s3Mock, {});
    expect(await inspectObject(s3, BUCKET, 'inbox/x', 'v1')).toEqual({ kind: 'deleted' });
  });

  it('reports an event whose version was replaced by a newer upload', async () => {
    serveObjects(s3Mock, { 'inbox/x': { bytes: fixtureImage('normal-1.jpeg'), versionId: 'v2' } });
    expect(await inspectObject(s3, BUCKET, 'inbox/x', 'v1')).toEqual({ kind: 'superseded', currentVersionId: 'v2' });
  });

  it('pins the header read to the version it checked', async () => {
    serveFixture('normal-1.jpeg');
    await inspectObject(s3, BUCKET, 'inbox/x', 'v1');
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: BUCKET, Key: 'inbox/x' });
    expect(s3Mock.calls()[1]?.args[0].input).toMatchObject({ VersionId: 'v1', Range: 'bytes=0-6969' });
  });

  it('lets other S3 errors through for the caller to map', async () => {
    const error = new S3ServiceException({ name: 'InternalError', $fault: 'server', message: 'boom', $metadata: { httpStatusCode: 500 } });
    s3Mock.on(HeadObjectCommand).rejects(error);
    await expect(inspectObject(s3, BUCKET, 'inbox/x', 'v1')).rejects.toThrow('boom');
  });
});
