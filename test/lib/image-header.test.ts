import { describe, expect, it } from 'vitest';
import { scanImageHeader, scanJpegSegments } from '../../src/lib/image-header.js';
import { fixtureImage, foreignHeader, pngHeader } from '../fixtures/images.js';

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
