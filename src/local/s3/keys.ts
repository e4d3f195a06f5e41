import { invalidArgument, S3Error } from './errors.js';

/** S3's limit: a key is at most 1 024 bytes of UTF-8; anything else goes (`..`, `//`, long segments). */
export const MAX_KEY_BYTES = 1024;

export function checkKey(key: string): string {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', 400, 'Your key is too long', { MaxSizeAllowed: String(MAX_KEY_BYTES) });
  return key;
}

/**
 * Orders keys as S3 lists them, by their UTF-8 bytes. JavaScript compares UTF-16 code units, which puts
 * characters above U+FFFF (surrogate pairs) before U+E000–U+FFFF; shifting those two ranges restores the
 * code-point order that UTF-8 bytes follow.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Decodes one percent-encoded path or header value as UTF-8; S3 refuses what does not decode. */
export function decodePercent(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidArgument(`${what} is not valid percent-encoded UTF-8`);
  }
}

/** S3's bucket naming rules (3–63 of a-z 0-9 . -, starting and ending with a letter or digit, not an IP). */
export function isValidBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}
