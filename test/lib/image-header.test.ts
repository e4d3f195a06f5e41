import { describe, expect, it } from 'vitest';
import { MAX_READS, READ_BYTES, readImageHeader, scanImageHeader, scanJpegSegments } from '../../src/lib/image-header.js';
import type { ByteSource } from '../../src/lib/image-header.js';
import { dicomHeader, fixtureImage, foreignHeader, pngHeader } from '../fixtures/images.js';

describe('scanImageHeader', () => {
  it.each([
    ['normal-1.jpeg', 224, 224],
    ['pneumonia-2.jpeg', 224, 224],
    ['normal-fullres.jpeg', 1040, 747],
    ['huge-5000px.png', 5000, 5000],
    ['one-pixel.png', 1, 1],
  ] as const)('reads the dimensions of %s', (name, width, height) => {
    const scan = scanImageHeader(fixtureImage(name));
    expect(scan).toMatchObject({ kind: 'image', width, height });
  });

  it('reads PNG width and height in the right order', () => {
    expect(scanImageHeader(pngHeader(300, 70))).toEqual({ kind: 'image', format: 'png', width: 300, height: 70 });
  });

  it.each(['gif', 'webp', 'bmp', 'tiff'] as const)('names %s as unsupported', (format) => {
    expect(scanImageHeader(foreignHeader(format))).toEqual({ kind: 'unsupported', detected: format });
  });

  it('calls text unknown', () => {
    expect(scanImageHeader(fixtureImage('text-named.jpg'))).toEqual({ kind: 'unsupported', detected: 'unknown' });
  });

  it('asks for more bytes when a JPEG ends before its frame header', () => {
    expect(scanImageHeader(fixtureImage('truncated-header.jpeg'))).toMatchObject({ kind: 'need-bytes' });
  });

  it('calls a PNG cut inside its header corrupt', () => {
    expect(scanImageHeader(pngHeader(100, 100).subarray(0, 20))).toMatchObject({ kind: 'corrupt' });
  });

  it('skips large metadata segments and resumes where the next marker starts', () => {
    const file = fixtureImage('metadata-heavy.jpeg');
    const first = scanImageHeader(file.subarray(0, 65536));
    expect(first).toEqual({ kind: 'need-bytes', from: 2 + 60004 + 60004 });
    if (first.kind !== 'need-bytes') return;
    // The next 64 KiB hold the third segment and the frame header after it.
    expect(scanJpegSegments(file.subarray(first.from, first.from + 65536), first.from)).toEqual({
      kind: 'image',
      format: 'jpeg',
      width: 224,
      height: 224,
    });
  });

  it('refuses a JPEG whose image data starts before any frame header', () => {
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0, 0, 0, 0, 0, 0]);
    expect(scanImageHeader(bytes)).toMatchObject({ kind: 'corrupt', detail: expect.stringMatching(/no frame header/) as unknown });
  });

  it('refuses bytes that are not a marker where one must be', () => {
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0, 0x12, 0x34, 0, 0]);
    expect(scanImageHeader(bytes)).toEqual({ kind: 'corrupt', detail: 'no JPEG marker at byte 8' });
  });
});

/** A JPEG start, `count` APP15 segments of `length` bytes each, then a 300x200 frame header. */
function segmentedJpeg(count: number, length: number): Uint8Array {
  const segment = new Uint8Array(2 + length);
  segment.set([0xff, 0xef, length >> 8, length & 0xff]);
  const frame = [0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 200, 0x01, 0x2c, 0x01, 0x01, 0x11, 0x00];
  const bytes = new Uint8Array(2 + count * segment.length + frame.length + 2);
  bytes.set([0xff, 0xd8]);
  for (let i = 0; i < count; i += 1) bytes.set(segment, 2 + i * segment.length);
  bytes.set([...frame, 0xff, 0xd9], 2 + count * segment.length);
  return bytes;
}

function counted(bytes: Uint8Array): { source: ByteSource; reads: number[] } {
  const reads: number[] = [];
  return {
    reads,
    source: {
      size: bytes.length,
      read: (offset, length) => {
        reads.push(offset);
        return Promise.resolve(bytes.subarray(offset, offset + length));
      },
    },
  };
}

describe('readImageHeader', () => {
  it('answers a normal image with one read', async () => {
    const { source, reads } = counted(fixtureImage('normal-fullres.jpeg'));
    expect(await readImageHeader(source)).toEqual({ kind: 'image', format: 'jpeg', width: 1040, height: 747 });
    expect(reads).toEqual([0]);
  });

  it.each([
    ['maximal segments', 239, 65535],
    ['segments a little over half a window', 450, 33_000],
    ['tiny segments', 100_000, 100],
  ] as const)('finds the frame header behind nearly 15 MB of %s, within the read bound', async (_name, count, length) => {
    const bytes = segmentedJpeg(count, length);
    expect(bytes.length).toBeLessThanOrEqual(15 * 1024 * 1024);
    const { source, reads } = counted(bytes);
    expect(await readImageHeader(source)).toEqual({ kind: 'image', format: 'jpeg', width: 300, height: 200 });
    expect(reads.length).toBeLessThanOrEqual(MAX_READS);
    expect(reads.length).toBeLessThanOrEqual(Math.ceil(bytes.length / (READ_BYTES - 8)) + 1);
  });

  it('calls a JPEG cut inside a segment header corrupt instead of asking again', async () => {
    const whole = segmentedJpeg(2, 65535);
    const { source, reads } = counted(whole.subarray(0, 65539 + 2));
    expect(await readImageHeader(source)).toEqual({ kind: 'corrupt', detail: 'file ends before the image dimensions' });
    expect(reads).toHaveLength(2);
  });

  it('names a DICOM Part 10 file by its preamble', async () => {
    expect(await readImageHeader(counted(dicomHeader()).source)).toEqual({ kind: 'dicom' });
  });
});
