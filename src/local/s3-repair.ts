import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** An object s3rver left half-written, removed before it serves again. */
export interface TornObject {
  readonly bucket: string;
  readonly key: string;
  readonly why: string;
}

const OBJECT = '._S3rver_object';

async function md5Of(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Every complete write ends with the metadata file (PUT: data, checksum, metadata; copy: data, then metadata),
 * so a missing or unreadable one means the write was cut. A checksum that does not match means the data was.
 * A missing checksum alone is normal: s3rver does not write one when a copy replaces metadata, and computes it
 * on the next read.
 */
async function whyTorn(objectFile: string): Promise<string | undefined> {
  const base = objectFile.slice(0, -OBJECT.length);
  const md5File = `${objectFile}.md5`;
  const metadataFile = `${base}._S3rver_metadata.json`;
  if (!existsSync(metadataFile)) return 'no metadata file';
  try {
    JSON.parse(await readFile(metadataFile, 'utf8'));
  } catch {
    return 'metadata file is not JSON';
  }
  if (existsSync(md5File) && (await md5Of(objectFile)) !== (await readFile(md5File, 'utf8')).trim()) return 'data does not match its checksum';
  return undefined;
}

/**
 * s3rver writes an object's data, checksum and metadata as three files, one after the other, and answers the
 * PUT after the last: a process killed in between leaves an object whose GET, and every listing of its folder,
 * fails with InternalError. Such a PUT was never acknowledged, so, as on S3, it did not happen: its files are
 * removed before s3rver starts on the folder again, and the client that saw no answer sends it again.
 */
export async function removeTornObjects(directory: string, buckets: readonly string[]): Promise<TornObject[]> {
  const torn: TornObject[] = [];
  for (const bucket of buckets) {
    const root = join(directory, bucket);
    if (!existsSync(root)) continue;
    const files = (await readdir(root, { recursive: true })).map(String).filter((file) => file.endsWith(OBJECT));
    for (const file of files) {
      const objectFile = join(root, file);
      const why = await whyTorn(objectFile);
      if (why === undefined) continue;
      const base = objectFile.slice(0, -OBJECT.length);
      await Promise.all([objectFile, `${objectFile}.md5`, `${base}._S3rver_metadata.json`].map((path) => rm(path, { force: true })));
      torn.push({ bucket, key: relative(root, base).split(sep).join('/'), why });
    }
  }
  return torn;
}
