import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { looksLikeImage } from './image-file.js';

/** Something in a folder that is not uploaded, and why: never dropped without a word. */
export interface Skipped {
  readonly path: string;
  readonly why: string;
  /** True when an image may be missing because of it (a broken link, an unreadable folder): the exit code is 1. */
  readonly missing: boolean;
}

export const NOT_AN_IMAGE = 'not .jpg/.jpeg/.png';

interface Walk {
  /** Real paths of the folders being walked: a link back to one of them is a loop, reported and not followed. */
  readonly walking: Set<string>;
  readonly images: string[];
  readonly skipped: Skipped[];
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

async function walk(state: Walk, dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    state.skipped.push({ path: dir, why: `folder not readable (${errorCode(error)})`, missing: true });
    return;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    let isFolder = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      try {
        isFolder = (await stat(path)).isDirectory();
      } catch (error) {
        state.skipped.push({ path, why: `symbolic link to nothing (${errorCode(error)})`, missing: looksLikeImage(entry.name) });
        continue;
      }
    }
    if (!isFolder) {
      if (looksLikeImage(entry.name)) state.images.push(path);
      else state.skipped.push({ path, why: NOT_AN_IMAGE, missing: false });
      continue;
    }
    const real = await realpath(path);
    if (state.walking.has(real)) {
      state.skipped.push({ path, why: `link back to a folder being walked (${real}); not followed`, missing: false });
      continue;
    }
    state.walking.add(real);
    await walk(state, path);
    state.walking.delete(real);
  }
}

/**
 * The image files under `dir`, in name order, following symbolic links to files and folders as `aws s3 cp
 * --recursive` does (paths stay as given, so keys come from the link's name). A link that leads nowhere or back
 * into a folder being walked, an unreadable folder and every non-image file are reported in `skipped`. Special
 * files with image names are listed: the file check refuses them from their stat, before any read.
 */
export async function findImages(dir: string): Promise<{ images: string[]; skipped: Skipped[] }> {
  const state: Walk = { walking: new Set([await realpath(dir)]), images: [], skipped: [] };
  await walk(state, dir);
  return { images: state.images, skipped: state.skipped };
}
