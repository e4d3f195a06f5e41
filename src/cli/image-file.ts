import { scanImageHeader, scanJpegSegments } from '../lib/image-header.js';
import type { ImageFormat } from '../lib/image-header.js';
import { IMAGE_LIMITS } from '../lib/outcomes.js';
import type { RejectReason } from '../lib/outcomes.js';

export type ImageVerdict =
  | { readonly ok: true; readonly format: ImageFormat; readonly width: number; readonly height: number }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

/**
 * The checks classify makes before inference (src/lib/image-check.ts), applied to a whole file in memory with the
 * same header scanner and limits and the same reason strings, so a file refused here would be REJECTED there.
 */
export function checkImageBytes(bytes: Uint8Array): ImageVerdict {
  if (bytes.length === 0) return { ok: false, reason: 'empty-object', detail: 'file is 0 bytes' };
  if (bytes.length > IMAGE_LIMITS.maxBytes) {
    return { ok: false, reason: 'object-too-large', detail: `${bytes.length} bytes; the limit is ${IMAGE_LIMITS.maxBytes}` };
  }
  let scan = scanImageHeader(bytes);
  // classify reads further windows while the scan asks for bytes; here every byte is present, so asking for
  // bytes past the end means the file ends before its frame header.
  while (scan.kind === 'need-bytes') {
    if (scan.from >= bytes.length) return { ok: false, reason: 'corrupt-image', detail: 'file ends before the image dimensions' };
    scan = scanJpegSegments(bytes.subarray(scan.from), scan.from);
  }
  switch (scan.kind) {
    case 'unsupported':
      return { ok: false, reason: 'unsupported-format', detail: `content is ${scan.detected}, not JPEG or PNG` };
    case 'corrupt':
      return { ok: false, reason: 'corrupt-image', detail: scan.detail };
    case 'image': {
      const { width, height } = scan;
      const size = `${width}x${height} px`;
      if (width < IMAGE_LIMITS.minSide || height < IMAGE_LIMITS.minSide) {
        return { ok: false, reason: 'dimensions-too-small', detail: `${size}; each side must be at least ${IMAGE_LIMITS.minSide} px` };
      }
      if (width > IMAGE_LIMITS.maxSide || height > IMAGE_LIMITS.maxSide) {
        return { ok: false, reason: 'dimensions-too-large', detail: `${size}; each side must be at most ${IMAGE_LIMITS.maxSide} px` };
      }
      return { ok: true, format: scan.format, width, height };
    }
  }
}

/**
 * Suffixes the bucket notifies classify for. S3 suffix filters are case-sensitive and the stack registers the
 * lower- and upper-case forms only, so `x.Jpg` would sit in the inbox without ever being classified.
 */
const NOTIFIED_SUFFIXES = ['.jpg', '.jpeg', '.png', '.JPG', '.JPEG', '.PNG'];

export function hasNotifiedSuffix(name: string): boolean {
  return NOTIFIED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** Any case of an image suffix: what a directory walk picks up (and then reports if S3 would not notify it). */
export function looksLikeImage(name: string): boolean {
  return /\.(jpe?g|png)$/i.test(name);
}
