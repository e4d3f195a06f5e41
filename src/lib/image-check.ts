import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { readImageHeader } from './image-header.js';
import type { ByteSource, ImageFormat } from './image-header.js';
import { IMAGE_LIMITS } from './image-limits.js';
import type { RejectReason } from './result-status.js';

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

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || status === 404;
}

/** An object version as a byte source: each read is one ranged GET. */
function objectSource(s3: S3Client, bucket: string, key: string, versionId: string | undefined, size: number): ByteSource {
  return {
    size,
    read: async (offset, length) => {
      const response = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, Range: `bytes=${offset}-${offset + length - 1}` }),
      );
      return response.Body ? response.Body.transformToByteArray() : new Uint8Array();
    },
  };
}

export type ImageVerdict =
  | { readonly ok: true; readonly image: ImageFacts }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string; readonly image?: ImageFacts };

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
 * Classify's checks before inference, over any byte source: an S3 object here, a file in `pneumo submit` and
 * `pneumo dataset upload`, so a file the CLI accepts is one classify accepts and the reasons read the same.
 */
export async function checkImage(source: ByteSource): Promise<ImageVerdict> {
  if (source.size === 0) return { ok: false, reason: 'empty-object', detail: '0 bytes' };
  if (source.size > IMAGE_LIMITS.maxBytes) {
    return { ok: false, reason: 'object-too-large', detail: `${source.size} bytes; the limit is ${IMAGE_LIMITS.maxBytes}` };
  }
  const scan = await readImageHeader(source);
  switch (scan.kind) {
    case 'dicom':
      return { ok: false, reason: 'dicom-not-supported', detail: 'DICOM file: export it as PNG or JPEG' };
    case 'unsupported':
      return { ok: false, reason: 'unsupported-format', detail: `content is ${scan.detected}, not JPEG or PNG` };
    case 'corrupt':
      return { ok: false, reason: 'corrupt-image', detail: scan.detail };
    case 'image': {
      const image: ImageFacts = { format: scan.format, width: scan.width, height: scan.height };
      const outOfRange = checkDimensions(image);
      return outOfRange ? { ok: false, ...outOfRange, image } : { ok: true, image };
    }
  }
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
  let verdict: ImageVerdict;
  try {
    verdict = await checkImage(objectSource(s3, bucket, key, object.versionId, object.size));
  } catch (error) {
    if (isNotFound(error)) return { kind: 'deleted' };
    throw error;
  }
  if (verdict.ok) return { kind: 'image', object, image: verdict.image };
  const { reason, detail, image } = verdict;
  return image ? { kind: 'rejected', reason, detail, object, image } : { kind: 'rejected', reason, detail, object };
}
