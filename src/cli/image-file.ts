import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { checkImage } from '../lib/image-check.js';
import type { ImageFacts } from '../lib/image-check.js';
import type { ByteSource } from '../lib/image-header.js';
import type { RejectReason } from '../lib/result-status.js';

/** Why a file could not even be read: not the image's fault, and not something classify would say. */
export type UnreadableReason = 'not-a-regular-file' | 'unreadable';

export type ImageFileCheck =
  | { readonly kind: 'image'; readonly image: ImageFacts; readonly body: Uint8Array }
  /** classify would REJECT it, for this reason (the same words classify would write). */
  | { readonly kind: 'refused'; readonly reason: RejectReason; readonly detail: string; readonly size: number }
  | { readonly kind: 'unreadable'; readonly reason: UnreadableReason; readonly detail: string };

/** What a non-regular file is, in the words `ls -l` users know; undefined for a regular file. */
export function specialFileKind(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function fileSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    read: async (offset, length) => {
      const buffer = new Uint8Array(length);
      let filled = 0;
      // A read may return fewer bytes than asked; only the end of the file stops it.
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    },
  };
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message.replace(/^\w+: /, '')}` : error.message;
}

/**
 * Checks a file with classify's own checks (src/lib/image-check.ts) over file reads, and returns its bytes when it
 * passes. A FIFO, socket or device is refused from its `stat` before it is opened, so it cannot block or be drained;
 * the file is then opened without blocking and checked again, in case it was replaced in between.
 */
export async function checkImageFile(path: string): Promise<ImageFileCheck> {
  let handle: FileHandle | undefined;
  try {
    const special = specialFileKind(await stat(path));
    if (special !== undefined) return { kind: 'unreadable', reason: 'not-a-regular-file', detail: `${special}; only regular files are uploaded` };
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    const replaced = specialFileKind(info);
    if (replaced !== undefined) return { kind: 'unreadable', reason: 'not-a-regular-file', detail: `${replaced}; only regular files are uploaded` };
    const source = fileSource(handle, info.size);
    const verdict = await checkImage(source);
    if (!verdict.ok) return { kind: 'refused', reason: verdict.reason, detail: verdict.detail, size: info.size };
    return { kind: 'image', image: verdict.image, body: await source.read(0, info.size) };
  } catch (error) {
    return { kind: 'unreadable', reason: 'unreadable', detail: errorText(error) };
  } finally {
    await handle?.close();
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

/** S3's limit on a key: 1 024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

/** Why S3 would refuse this key (a file's problem, not the target's), or undefined when it is fine. */
export function keyTooLong(key: string): string | undefined {
  const size = Buffer.byteLength(key, 'utf8');
  return size > MAX_KEY_BYTES ? `the S3 key would be ${size} bytes of UTF-8 and S3 allows ${MAX_KEY_BYTES}; shorten the name or --prefix` : undefined;
}

/** Any case of an image suffix: what a directory walk picks up (and then reports if S3 would not notify it). */
export function looksLikeImage(name: string): boolean {
  return /\.(jpe?g|png)$/i.test(name);
}
