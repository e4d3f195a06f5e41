import { IMAGE_LIMITS } from './image-limits.js';

export type ImageFormat = 'jpeg' | 'png';

export type HeaderScan =
  | { readonly kind: 'image'; readonly format: ImageFormat; readonly width: number; readonly height: number }
  | { readonly kind: 'unsupported'; readonly detected: string }
  /** A DICOM Part 10 file (preamble and "DICM"): a format people can export from, so it is named on its own. */
  | { readonly kind: 'dicom' }
  | { readonly kind: 'corrupt'; readonly detail: string };

/** One step of the scan over the bytes in hand: a verdict, or the absolute offset where the scan resumes. */
export type HeaderStep = HeaderScan | { readonly kind: 'need-bytes'; readonly from: number };

/** Random access to a file or an object: S3 ranged GETs in classify, file reads in the CLI. */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `offset`, fewer only where the source ends. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return prefix.every((byte, i) => bytes[at + i] === byte);
}

function ascii(bytes: Uint8Array, from: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(from, from + length));
}

/** Names formats Rekognition refuses, so a rejection says what the file really was. */
function detectOther(bytes: Uint8Array): string {
  if (ascii(bytes, 0, 4) === 'GIF8') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  if (ascii(bytes, 0, 4) === 'II*\0' || ascii(bytes, 0, 4) === 'MM\0*') return 'tiff';
  if (ascii(bytes, 4, 4) === 'ftyp') return 'heif-or-mp4';
  if (ascii(bytes, 0, 5) === '%PDF-') return 'pdf';
  return 'unknown';
}

function readUint16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
}

function readUint32(bytes: Uint8Array, at: number): number {
  return readUint16(bytes, at) * 0x10000 + readUint16(bytes, at + 2);
}

function scanPng(bytes: Uint8Array): HeaderStep {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
  if (bytes.length < 24) return { kind: 'corrupt', detail: 'file ends inside the PNG header' };
  if (ascii(bytes, 12, 4) !== 'IHDR') return { kind: 'corrupt', detail: 'PNG does not start with an IHDR chunk' };
  return { kind: 'image', format: 'png', width: readUint32(bytes, 16), height: readUint32(bytes, 20) };
}

// Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Walks JPEG marker segments in `chunk`, which holds the file's bytes from absolute offset `chunkStart`.
 * Each segment states its length, so large EXIF/ICC segments are skipped without being read.
 */
export function scanJpegSegments(chunk: Uint8Array, chunkStart: number): HeaderStep {
  let at = 0;
  for (;;) {
    if (at + 4 > chunk.length) return { kind: 'need-bytes', from: chunkStart + at };
    if (chunk[at] !== 0xff) return { kind: 'corrupt', detail: `no JPEG marker at byte ${chunkStart + at}` };
    const marker = chunk[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte before a marker
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) {
      return { kind: 'corrupt', detail: 'JPEG has no frame header before its image data' };
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2; // markers without a length field
      continue;
    }
    const length = readUint16(chunk, at + 2);
    if (length < 2) return { kind: 'corrupt', detail: `JPEG segment at byte ${chunkStart + at} has length ${length}` };
    if (isStartOfFrame(marker)) {
      if (at + 9 > chunk.length) return { kind: 'need-bytes', from: chunkStart + at };
      return { kind: 'image', format: 'jpeg', height: readUint16(chunk, at + 5), width: readUint16(chunk, at + 7) };
    }
    at += 2 + length;
  }
}

/** Identifies the format from the file's first bytes and reads its dimensions when they are in reach. */
export function scanImageHeader(head: Uint8Array): HeaderStep {
  if (startsWith(head, PNG_SIGNATURE)) return scanPng(head);
  if (startsWith(head, [0xff, 0xd8, 0xff])) return scanJpegSegments(head.subarray(2), 2);
  if (ascii(head, 128, 4) === 'DICM') return { kind: 'dicom' };
  return { kind: 'unsupported', detected: detectOther(head) };
}

/**
 * Every read fetches this much: the whole header of a normal image (one read answers it), and from a segment's
 * marker always the next marker too (a segment is at most 65 537 bytes), so each read moves at least a window
 * on. Smaller hops were measured to cost more requests (3 instead of 2 on metadata-heavy.jpeg) for bytes that
 * are free to move within a region; requests are what the caller waits for.
 */
export const READ_BYTES = 64 * 1024;
/** Enough reads for the frame header to be anywhere in a file within the 15 MB limit (each moves a window on). */
export const MAX_READS = 1 + Math.ceil(IMAGE_LIMITS.maxBytes / (READ_BYTES - 8));

/**
 * Reads an image's format and dimensions from `source`, jumping from JPEG marker to marker by the segment
 * lengths (segment bodies beyond the window are never fetched), so the frame header is found wherever metadata
 * puts it. Bounded by a number of reads, each past at least one segment, not by a byte offset: a large ICC or
 * XMP block costs about one read per 64 KiB segment, not a refusal.
 */
export async function readImageHeader(source: ByteSource): Promise<HeaderScan> {
  let step = scanImageHeader(await source.read(0, Math.min(READ_BYTES, source.size)));
  for (let reads = 1; step.kind === 'need-bytes'; reads += 1) {
    const { from } = step;
    if (from >= source.size) return { kind: 'corrupt', detail: 'file ends before the image dimensions' };
    if (reads >= MAX_READS) return { kind: 'corrupt', detail: `no frame header after ${MAX_READS} reads of JPEG segments` };
    const chunk = await source.read(from, Math.min(READ_BYTES, source.size - from));
    step = scanJpegSegments(chunk, from);
    // A read that reached the end without completing the segment header means the file stops inside it.
    if (step.kind === 'need-bytes' && step.from === from && from + chunk.length >= source.size) {
      return { kind: 'corrupt', detail: 'file ends before the image dimensions' };
    }
  }
  return step;
}
