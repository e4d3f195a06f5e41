import { closeSync, existsSync, fdatasync, fsyncSync, openSync, readFileSync, renameSync, write, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compareKeys } from './keys.js';

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

export type VersioningStatus = 'Unversioned' | 'Enabled' | 'Suspended';

/** One stored version of a key, or a delete marker. */
export interface ObjectVersion {
  /** `null` for the version a bucket never versioned (or suspended) keeps; 32 URL-safe characters otherwise. */
  readonly versionId: string;
  readonly deleteMarker: boolean;
  /** The BlobStore id of the bytes; absent for a delete marker. */
  readonly blob?: string | undefined;
  readonly size: number;
  /** MD5 hex of the bytes, without quotes. */
  readonly etag: string;
  readonly lastModified: number;
  /** Content-Type, Cache-Control…, SSE and storage class, as S3 returns them on GET/HEAD. */
  readonly headers: Readonly<Record<string, string>>;
  /** x-amz-meta-* without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly checksum?: { readonly algorithm: string; readonly value: string } | undefined;
}

export interface BucketState {
  readonly name: string;
  readonly createdAt: number;
  versioning: VersioningStatus;
  /** Versions of each key, newest first. */
  readonly keys: Map<string, ObjectVersion[]>;
  /** Every key with at least one version (or marker), in S3's listing order. */
  readonly sorted: string[];
}

type LogRecord =
  | { readonly op: 'bucket'; readonly bucket: string; readonly createdAt: number; readonly versioning: VersioningStatus }
  | { readonly op: 'versioning'; readonly bucket: string; readonly status: VersioningStatus }
  | { readonly op: 'drop-bucket'; readonly bucket: string }
  | { readonly op: 'put'; readonly bucket: string; readonly key: string; readonly version: ObjectVersion }
  | { readonly op: 'remove'; readonly bucket: string; readonly key: string; readonly versionId: string }
  /** Written (not flushed) when an upload starts, so a restart can name the upload a kill cut short. */
  | { readonly op: 'begin'; readonly bucket: string; readonly key: string; readonly blob: string }
  | { readonly op: 'abort'; readonly blob: string };

export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

const VERSION_ID = /^[A-Za-z0-9_-]{32}$/;

export function isWellFormedVersionId(id: string): boolean {
  return id === 'null' || VERSION_ID.test(id);
}

/** An upload a stopped process left unfinished: its PUT was never answered, so it did not happen. */
export interface CutShortUpload {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Buckets, keys and versions in memory, made durable by an append-only log (`objects.jsonl`) that is flushed
 * to disk before a change is applied and answered: an acknowledged PUT survives a SIGKILL, and an upload the
 * process never acknowledged leaves no trace a client can see. Concurrent changes share one flush.
 */
export class Catalog {
  private readonly buckets = new Map<string, BucketState>();
  private queue: { line: string; apply: () => void; done: (error?: Error) => void }[] = [];
  private flushing = false;
  private closed = false;

  private constructor(private readonly fd: number) {}

  /**
   * Replays the log in `directory`, drops a last line a kill cut short, compacts the log to the current state
   * and returns the uploads that were begun and never committed, with the blob ids still referenced.
   */
  static open(directory: string): { readonly catalog: Catalog; readonly cutShort: CutShortUpload[]; readonly referenced: Set<string> } {
    const file = join(directory, 'objects.jsonl');
    const state = new Map<string, BucketState>();
    const begun = new Map<string, CutShortUpload>();
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      const tail = lines.pop() ?? '';
      if (tail !== '') process.emitWarning(`${file}: dropped an incomplete last line (${tail.length} bytes) left by a stopped process`);
      lines.forEach((text, index) => {
        if (text === '') return;
        let record: LogRecord;
        try {
          record = JSON.parse(text) as LogRecord;
        } catch {
          throw new CatalogError(`${file}:${index + 1} is not JSON; the object log is damaged`);
        }
        if (record.op === 'begin') begun.set(record.blob, { bucket: record.bucket, key: record.key });
        else if (record.op === 'abort') begun.delete(record.blob);
        else {
          if (record.op === 'put' && record.version.blob) begun.delete(record.version.blob);
          applyRecord(state, record);
        }
      });
    }
    const referenced = new Set<string>();
    const compacted: string[] = [];
    for (const bucket of state.values()) {
      compacted.push(JSON.stringify({ op: 'bucket', bucket: bucket.name, createdAt: bucket.createdAt, versioning: bucket.versioning }));
      for (const key of bucket.sorted) {
        for (const version of [...(bucket.keys.get(key) ?? [])].reverse()) {
          if (version.blob) referenced.add(version.blob);
          compacted.push(JSON.stringify({ op: 'put', bucket: bucket.name, key, version }));
        }
      }
    }
    // Rewritten through a temporary file: a kill during the rewrite leaves the old log, not half a new one.
    const temporary = `${file}.tmp`;
    const out = openSync(temporary, 'w');
    writeSync(out, compacted.map((line) => `${line}\n`).join(''));
    fsyncSync(out);
    closeSync(out);
    renameSync(temporary, file);
    const catalog = new Catalog(openSync(file, 'a'));
    for (const [name, bucket] of state) catalog.buckets.set(name, bucket);
    return { catalog, cutShort: [...begun.values()], referenced };
  }

  bucket(name: string): BucketState | undefined {
    return this.buckets.get(name);
  }

  bucketNames(): BucketState[] {
    return [...this.buckets.values()].sort((a, b) => compareKeys(a.name, b.name));
  }

  /** The version a new write gets in this bucket now. */
  static newVersionId(bucket: BucketState): string {
    return bucket.versioning === 'Enabled' ? randomBytes(24).toString('base64url') : 'null';
  }

  createBucket(name: string, versioning: VersioningStatus): Promise<void> {
    return this.commit({ op: 'bucket', bucket: name, createdAt: Date.now(), versioning });
  }

  setVersioning(bucket: string, status: VersioningStatus): Promise<void> {
    return this.commit({ op: 'versioning', bucket, status });
  }

  dropBucket(bucket: string): Promise<void> {
    return this.commit({ op: 'drop-bucket', bucket });
  }

  /** Notes an upload's start (not flushed: only a restart's report of what was cut short needs it). */
  begin(bucket: string, key: string, blob: string): void {
    this.writeNow({ op: 'begin', bucket, key, blob });
  }

  abort(blob: string): void {
    this.writeNow({ op: 'abort', blob });
  }

  /** Adds `version` as the newest of `key`, replacing a null version if it is one; returns what it replaced. */
  async put(bucket: string, key: string, version: ObjectVersion): Promise<ObjectVersion | undefined> {
    let replaced: ObjectVersion | undefined;
    await this.commit({ op: 'put', bucket, key, version }, () => {
      if (version.versionId === 'null') replaced = this.buckets.get(bucket)?.keys.get(key)?.find((v) => v.versionId === 'null');
    });
    return replaced;
  }

  async remove(bucket: string, key: string, versionId: string): Promise<void> {
    await this.commit({ op: 'remove', bucket, key, versionId });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private writeNow(record: LogRecord): void {
    if (this.closed) throw new CatalogError('the object log is closed');
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  /** `before` runs just before the record is applied, in commit order (to see what it replaces). */
  private commit(record: LogRecord, before?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new CatalogError('the object log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({
        line: `${JSON.stringify(record)}\n`,
        apply: () => {
          before?.();
          applyRecord(this.buckets, record);
        },
        done: (error) => {
          if (error) reject(error);
          else resolve();
        },
      });
      if (!this.flushing) void this.flush();
    });
  }

  /** Writes and flushes everything queued in one go, then applies it in order; repeats while more arrived. */
  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const bytes = Buffer.from(batch.map((entry) => entry.line).join(''));
        await writeAsync(this.fd, bytes);
        await fdatasyncAsync(this.fd);
        for (const entry of batch) {
          entry.apply();
          entry.done();
        }
      } catch (error) {
        for (const entry of batch) entry.done(error instanceof Error ? error : new CatalogError(String(error)));
      }
    }
    this.flushing = false;
  }
}

/** Index of the first key in `sorted` that is not before `key`. */
export function lowerBound(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(sorted[middle] as string, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function applyRecord(buckets: Map<string, BucketState>, record: LogRecord): void {
  switch (record.op) {
    case 'bucket':
      if (!buckets.has(record.bucket)) buckets.set(record.bucket, { name: record.bucket, createdAt: record.createdAt, versioning: record.versioning, keys: new Map(), sorted: [] });
      return;
    case 'versioning': {
      const bucket = buckets.get(record.bucket);
      if (bucket) bucket.versioning = record.status;
      return;
    }
    case 'drop-bucket':
      buckets.delete(record.bucket);
      return;
    case 'put': {
      const bucket = buckets.get(record.bucket);
      if (!bucket) return;
      const versions = bucket.keys.get(record.key);
      if (!versions) {
        bucket.keys.set(record.key, [record.version]);
        bucket.sorted.splice(lowerBound(bucket.sorted, record.key), 0, record.key);
        return;
      }
      const kept = record.version.versionId === 'null' ? versions.filter((v) => v.versionId !== 'null') : versions;
      bucket.keys.set(record.key, [record.version, ...kept]);
      return;
    }
    case 'remove': {
      const bucket = buckets.get(record.bucket);
      const versions = bucket?.keys.get(record.key);
      if (!bucket || !versions) return;
      const kept = versions.filter((v) => v.versionId !== record.versionId);
      if (kept.length > 0) {
        bucket.keys.set(record.key, kept);
        return;
      }
      bucket.keys.delete(record.key);
      const at = lowerBound(bucket.sorted, record.key);
      if (bucket.sorted[at] === record.key) bucket.sorted.splice(at, 1);
      return;
    }
    case 'begin':
    case 'abort':
      return;
  }
}
