import { createReadStream } from 'node:fs';
import type { ReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/**
 * Object bytes, one file per stored version, named by a random id: never by the key, so a key is a literal
 * string (no `..`, no aliasing, no segment length limit) and no two versions share a file. A write goes to
 * `incoming/` and is renamed into `blobs/` only once complete and flushed, so a half-written file is never
 * referenced.
 */
export class BlobStore {
  private readonly blobs: string;
  private readonly incoming: string;

  constructor(directory: string) {
    this.blobs = join(directory, 'blobs');
    this.incoming = join(directory, 'incoming');
  }

  async open(): Promise<void> {
    await mkdir(this.blobs, { recursive: true });
    // Whatever is still incoming belonged to a write a stopped process never finished.
    await rm(this.incoming, { recursive: true, force: true });
    await mkdir(this.incoming, { recursive: true });
  }

  static newId(): string {
    return randomBytes(16).toString('hex');
  }

  private path(id: string): string {
    return join(this.blobs, id.slice(0, 2), id);
  }

  /** Writes `chunks` to a new blob; `onChunk` sees each chunk (for hashing) before it is written. */
  async write(id: string, chunks: AsyncIterable<Buffer>, onChunk: (chunk: Buffer) => void): Promise<number> {
    const temporary = join(this.incoming, id);
    const file = await open(temporary, 'wx');
    let size = 0;
    try {
      for await (const chunk of chunks) {
        onChunk(chunk);
        size += chunk.length;
        await file.write(chunk);
      }
      await file.sync();
    } catch (error) {
      await file.close();
      await rm(temporary, { force: true });
      throw error;
    }
    await file.close();
    await this.place(temporary, id);
    return size;
  }

  async copy(fromId: string, toId: string): Promise<void> {
    const temporary = join(this.incoming, toId);
    await copyFile(this.path(fromId), temporary);
    const file = await open(temporary, 'r+');
    await file.sync();
    await file.close();
    await this.place(temporary, toId);
  }

  private async place(temporary: string, id: string): Promise<void> {
    await mkdir(join(this.blobs, id.slice(0, 2)), { recursive: true });
    await rename(temporary, this.path(id));
  }

  /** Bytes `start`..`end` inclusive. */
  read(id: string, range?: { readonly start: number; readonly end: number }): ReadStream {
    return createReadStream(this.path(id), range);
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  /** Every blob on disk, for removing those no stored version references. */
  async list(): Promise<string[]> {
    const ids: string[] = [];
    for (const fan of await readdir(this.blobs)) ids.push(...(await readdir(join(this.blobs, fan))));
    return ids;
  }
}
