import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { scanImageHeader, scanJpegSegments } from './image-header.js';
import type { HeaderScan, ImageFormat } from './image-header.js';
import { IMAGE_LIMITS } from './outcomes.js';
import type { RejectReason } from './outcomes.js';

export interface ObjectFacts {
  readonly size: number;
  readonly eTag: string | undefined;
  readonly versionId: string | undefined;
}

export interface ImageFacts {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

export type ObjectInspection =
  | { readonly kind: 'deleted' }
  | { readonly kind: 'superseded'; readonly currentVersionId: string }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly detail: string; readonly object: ObjectFacts; readonly image?: ImageFacts }
  | { readonly kind: 'image'; readonly object: ObjectFacts; readonly image: ImageFacts };

// A JPEG segment is at most 64 KiB, so every read moves past at least one segment; 16 reads cover the
// EXIF, ICC and XMP blocks cameras and PACS exports put before the frame header.
const HEADER_WINDOW = 64 * 1024;
const MAX_HEADER_READS = 16;

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || status === 404;
}

async function readRange(s3: S3Client, bucket: string, key: string, versionId: string | undefined, from: number, size: number): Promise<Uint8Array> {
  const to = Math.min(from + HEADER_WINDOW, size) - 1;
  const response = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, Range: `bytes=${from}-${to}` }),
  );
  if (!response.Body) return new Uint8Array();
  return response.Body.transformToByteArray();
}

async function readHeader(s3: S3Client, bucket: string, key: string, versionId: string | undefined, size: number): Promise<HeaderScan> {
  let scan = scanImageHeader(await readRange(s3, bucket, key, versionId, 0, size));
  for (let reads = 1; scan.kind === 'need-bytes'; reads += 1) {
    if (scan.from >= size) return { kind: 'corrupt', detail: 'file ends before the image dimensions' };
    if (reads >= MAX_HEADER_READS) return { kind: 'corrupt', detail: `no frame header in the first ${scan.from} bytes` };
    scan = scanJpegSegments(await readRange(s3, bucket, key, versionId, scan.from, size), scan.from);
  }
  return scan;
}

function checkDimensions(image: ImageFacts): { reason: RejectReason; detail: string } | undefined {
  const { width, height } = image;
  const size = `${width}x${height} px`;
  if (width < IMAGE_LIMITS.minSide || height < IMAGE_LIMITS.minSide) {
    return { reason: 'dimensions-too-small', detail: `${size}; each side must be at least ${IMAGE_LIMITS.minSide} px` };
  }
  if (width > IMAGE_LIMITS.maxSide || height > IMAGE_LIMITS.maxSide) {
    return { reason: 'dimensions-too-large', detail: `${size}; each side must be at most ${IMAGE_LIMITS.maxSide} px` };
  }
  return undefined;
}

/**
 * Decides whether an object is worth an inference call, reading only its metadata and header bytes.
 * The current version is checked first: a deleted object needs no row, and an older version's event is
 * superseded by the event of the version that replaced it.
 */
export async function inspectObject(s3: S3Client, bucket: string, key: string, eventVersionId: string | undefined): Promise<ObjectInspection> {
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (isNotFound(error)) return { kind: 'deleted' };
    throw error;
  }
  if (eventVersionId && head.VersionId && head.VersionId !== eventVersionId) {
    return { kind: 'superseded', currentVersionId: head.VersionId };
  }
  const object: ObjectFacts = {
    size: head.ContentLength ?? 0,
    eTag: head.ETag?.replace(/"/g, ''),
    versionId: head.VersionId ?? eventVersionId,
  };
  if (object.size === 0) return { kind: 'rejected', reason: 'empty-object', detail: 'object is 0 bytes', object };
  if (object.size > IMAGE_LIMITS.maxBytes) {
    return { kind: 'rejected', reason: 'object-too-large', detail: `${object.size} bytes; the limit is ${IMAGE_LIMITS.maxBytes}`, object };
  }

  let scan: HeaderScan;
  try {
    scan = await readHeader(s3, bucket, key, object.versionId, object.size);
  } catch (error) {
    if (isNotFound(error)) return { kind: 'deleted' };
    throw error;
  }
  switch (scan.kind) {
    case 'unsupported':
      return { kind: 'rejected', reason: 'unsupported-format', detail: `content is ${scan.detected}, not JPEG or PNG`, object };
    case 'corrupt':
    case 'need-bytes':
      return { kind: 'rejected', reason: 'corrupt-image', detail: scan.kind === 'corrupt' ? scan.detail : 'header incomplete', object };
    case 'image': {
      const image: ImageFacts = { format: scan.format, width: scan.width, height: scan.height };
      const outOfRange = checkDimensions(image);
      return outOfRange ? { kind: 'rejected', ...outOfRange, object, image } : { kind: 'image', object, image };
    }
  }
}
