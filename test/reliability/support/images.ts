import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { fixtureImage } from '../../fixtures/images.js';

/*
 * Image generators for the reliability suite. Valid images start from real chest X-rays (the repo's sample) so
 * the emulator's trained model sees what it was trained on; invalid ones are built byte by byte where sharp
 * cannot write the format (BMP) or must not (truncations, padding).
 */

export const SAMPLE_TRAINING = resolve(import.meta.dirname, '../../../src/local/sample/training');

/** A few real X-rays of each label from the sample, decoded once. */
export async function sampleXrays(perLabel: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const label of ['NORMAL', 'PNEUMONIA']) {
    // The end of the sorted list: the first 30 of each label are the ones the suite trains on.
    const files = (await readdir(join(SAMPLE_TRAINING, label))).sort().slice(-perLabel);
    for (const file of files) out.push(new Uint8Array(await readFile(join(SAMPLE_TRAINING, label, file))));
  }
  return out;
}

const xray = (): Uint8Array => fixtureImage('normal-1.jpeg');

/** A real X-ray resized (aspect not kept) to width × height, as JPEG or PNG. */
export async function resizedXray(width: number, height: number, format: 'jpeg' | 'png', source: Uint8Array = xray()): Promise<Uint8Array> {
  const pipeline = sharp(source).greyscale().resize(width, height, { fit: 'fill' });
  const buffer = format === 'jpeg' ? await pipeline.jpeg({ quality: 80 }).toBuffer() : await pipeline.png().toBuffer();
  return new Uint8Array(buffer);
}

/** A flat grey image of any size (cheap even at 4097 px: it compresses to almost nothing). */
export async function flatImage(width: number, height: number, format: 'jpeg' | 'png'): Promise<Uint8Array> {
  const pipeline = sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 90 } } });
  const buffer = format === 'jpeg' ? await pipeline.jpeg({ quality: 70 }).toBuffer() : await pipeline.png({ compressionLevel: 9 }).toBuffer();
  return new Uint8Array(buffer);
}

export async function cmykJpeg(): Promise<Uint8Array> {
  return new Uint8Array(await sharp(xray()).resize(128, 128).toColourspace('cmyk').jpeg().toBuffer());
}

export async function sixteenBitPng(): Promise<Uint8Array> {
  return new Uint8Array(await sharp(xray()).resize(128, 128).toColourspace('rgb16').png().toBuffer());
}

export async function progressiveJpeg(): Promise<Uint8Array> {
  return new Uint8Array(await sharp(xray()).resize(160, 128, { fit: 'fill' }).jpeg({ progressive: true }).toBuffer());
}

/** Stored 160 × 96 with EXIF orientation 6 (displayed rotated, 96 × 160). */
export async function exifRotatedJpeg(): Promise<Uint8Array> {
  return new Uint8Array(await sharp(xray()).resize(160, 96, { fit: 'fill' }).withMetadata({ orientation: 6 }).jpeg().toBuffer());
}

export async function realGif(): Promise<Uint8Array> {
  return new Uint8Array(await sharp(xray()).resize(96, 96).gif().toBuffer());
}

export async function realWebp(): Promise<Uint8Array> {
  return new Uint8Array(await sharp(xray()).resize(96, 96).webp().toBuffer());
}

export async function realTiff(): Promise<Uint8Array> {
  return new Uint8Array(await sharp(xray()).resize(96, 96).tiff().toBuffer());
}

/** A complete 24-bit BMP (sharp reads BMP but cannot write it). */
export function bmp(width: number, height: number): Uint8Array {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]);
  view.setUint32(2, size, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, rowBytes * height, true);
  for (let i = 54; i < size; i++) bytes[i] = (i * 7) & 0xff;
  return bytes;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  // A CRC over a multi-megabyte chunk in plain JS takes a while; tests only need it for small chunks.
  view.setUint32(8 + data.length, data.length > 1_000_000 ? 0 : crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

/**
 * A valid PNG followed by a private ancillary chunk (`paDd`) of `padding` bytes before IEND: larger than 15 MB
 * with a normal header, so only the size check can refuse it.
 */
export async function paddedPng(totalBytes: number): Promise<Uint8Array> {
  const png = await resizedXray(128, 128, 'png');
  const iend = png.length - 12;
  const overhead = png.length + 12;
  const chunk = pngChunk('paDd', new Uint8Array(Math.max(0, totalBytes - overhead)));
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, iend));
  out.set(chunk, iend);
  out.set(png.subarray(iend), iend + chunk.length);
  return out;
}

/** An 8-bit greyscale PNG built without sharp (fast, for the burst's many distinct images). */
export function tinyPng(width: number, height: number, seed: number): Uint8Array {
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0;
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = (x * 3 + y * 5 + seed * 11) & 0xff;
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8);
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', new Uint8Array(deflateSync(raw))),
    pngChunk('IEND', new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Reads a PNG's IHDR bit depth (byte 24), to prove a generator made what it claims. */
export function pngBitDepth(png: Uint8Array): number {
  return png[24] ?? 0;
}

/** The JPEG start-of-frame marker (0xC0 baseline, 0xC2 progressive) and component count. */
export async function jpegFacts(jpeg: Uint8Array): Promise<{ isProgressive: boolean; space: string; orientation: number | undefined }> {
  const meta = await sharp(jpeg).metadata();
  return { isProgressive: meta.isProgressive, space: meta.space, orientation: meta.orientation };
}
