import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_TRAINING } from './images.js';

/** The batch the kill-and-restart child uploads: key i gets body i mod 20 (real PNEUMONIA X-rays, 224 px JPEG). */
export const KILL_PREFIX = 'inbox/kill/';

export function batchKey(index: number): string {
  return `${KILL_PREFIX}${String(index).padStart(4, '0')}.jpeg`;
}

export function batchIndex(key: string): number {
  return Number(key.slice(KILL_PREFIX.length, KILL_PREFIX.length + 4));
}

/**
 * Keys whose notification the child journals but never hands to classify, so the kill certainly leaves
 * acknowledged uploads unanswered for the restart to re-deliver (every third key, interleaved with the others).
 */
export function heldInChild(key: string): boolean {
  return batchIndex(key) % 3 === 0;
}

export async function batchBodies(): Promise<Uint8Array[]> {
  const folder = join(SAMPLE_TRAINING, 'PNEUMONIA');
  const files = (await readdir(folder)).sort().slice(-20);
  return Promise.all(files.map(async (file) => new Uint8Array(await readFile(join(folder, file)))));
}
