import { createHash } from 'node:crypto';

export const DURABILITY_BUCKET = 'durable';

/** Distinct, checkable bytes for a key: 16 KiB from its hash, so a torn or swapped object is seen. */
export function bodyFor(key: string): Buffer {
  const seed = createHash('sha256').update(key).digest();
  return Buffer.concat(Array.from({ length: 512 }, () => seed));
}
