import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { INBOX_PREFIX } from '../../lib/s3-event.js';
import { IMAGE_LIMITS } from '../../lib/outcomes.js';
import type { CommandContext } from '../context.js';
import { eachLimited } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { bytes, printJson, printLines, renderCsv, renderTable } from '../format.js';
import { checkImageBytes, hasNotifiedSuffix, looksLikeImage } from '../image-file.js';
import { ProgressBar } from '../progress.js';
import { getResults } from '../results-store.js';
import { printResults, toView } from '../results-view.js';
import type { ResultView } from '../results-view.js';

export interface SubmitOptions {
  /** Folder under `inbox/` the files go to. */
  readonly prefix?: string | undefined;
  readonly concurrency: number;
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly pollMs?: number | undefined;
  readonly format: Format;
}

export interface Candidate {
  readonly file: string;
  readonly key: string;
}

export interface Submission extends Candidate {
  readonly outcome: 'uploaded' | 'refused';
  readonly reason?: string | undefined;
  readonly detail?: string | undefined;
  readonly size?: number | undefined;
  readonly eTag?: string | undefined;
  readonly versionId?: string | undefined;
  /** When the upload finished, to tell this upload's result from an earlier one of the same bytes. */
  readonly uploadedAt?: string | undefined;
}

function toKey(prefix: string | undefined, path: string): string {
  return `${INBOX_PREFIX}${prefix ? `${prefix}/` : ''}${path.split(sep).join('/')}`;
}

/**
 * The files to send and their keys: a file goes to `inbox/[prefix/]<name>`, a directory's images (recursively) to
 * `inbox/[prefix/]<path inside the directory>`, like `aws s3 cp --recursive`.
 */
export async function collectCandidates(paths: readonly string[], prefix: string | undefined): Promise<{ candidates: Candidate[]; skipped: string[] }> {
  const candidates: Candidate[] = [];
  const skipped: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new UsageError(`no such file or directory: ${path}`);
    }
    if (info.isDirectory()) {
      const entries = await readdir(path, { withFileTypes: true, recursive: true });
      const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name)).sort();
      for (const file of files) {
        if (looksLikeImage(file)) candidates.push({ file, key: toKey(prefix, relative(path, file)) });
        else skipped.push(file);
      }
    } else {
      candidates.push({ file: path, key: toKey(prefix, basename(path)) });
    }
  }
  const seen = new Map<string, string>();
  for (const candidate of candidates) {
    const earlier = seen.get(candidate.key);
    if (earlier !== undefined) throw new UsageError(`${earlier} and ${candidate.file} would both be uploaded as ${candidate.key}; submit them separately or with --prefix`);
    seen.set(candidate.key, candidate.file);
  }
  return { candidates, skipped };
}

function contentType(key: string): string {
  return /\.png$/i.test(key) ? 'image/png' : 'image/jpeg';
}

/** Checks one file as classify would, so a file that could only be REJECTED is not uploaded (and paid for). */
async function check(candidate: Candidate): Promise<{ refused: Submission } | { body: Uint8Array }> {
  if (!hasNotifiedSuffix(candidate.key)) {
    return {
      refused: { ...candidate, outcome: 'refused', reason: 'suffix-not-notified', detail: 'the bucket notifies classify only for .jpg/.jpeg/.png or .JPG/.JPEG/.PNG; rename it' },
    };
  }
  const { size } = await stat(candidate.file);
  if (size > IMAGE_LIMITS.maxBytes) {
    return { refused: { ...candidate, outcome: 'refused', reason: 'object-too-large', detail: `${size} bytes; the limit is ${IMAGE_LIMITS.maxBytes}`, size } };
  }
  const body = new Uint8Array(await readFile(candidate.file));
  const verdict = checkImageBytes(body);
  if (!verdict.ok) return { refused: { ...candidate, outcome: 'refused', reason: verdict.reason, detail: verdict.detail, size } };
  return { body };
}

/** True when this row answers this upload (not an earlier upload of the key) and is not a retry in progress. */
export function answersUpload(row: Readonly<Record<string, unknown>>, upload: Submission): boolean {
  if (row.status === 'FAILED' && row.reason === 'retryable-error') return false;
  if (upload.versionId !== undefined) return row.objectVersionId === upload.versionId;
  // Without versions (the local S3), the same bytes give the same ETag: the row must also be newer than the upload.
  return row.eTag === upload.eTag && typeof row.processedAt === 'string' && row.processedAt >= (upload.uploadedAt ?? '');
}

async function waitForResults(ctx: CommandContext, uploads: readonly Submission[], options: SubmitOptions): Promise<{ views: ResultView[]; missing: Submission[] }> {
  const pending = new Map(uploads.map((upload) => [upload.key, upload]));
  const answered = new Map<string, ResultView>();
  const bar = new ProgressBar(ctx.io, 'results', uploads.length, ctx.now);
  const deadline = ctx.now() + options.timeoutMs;
  for (;;) {
    const rows = await getResults(ctx.target, [...pending.keys()]);
    for (const [key, row] of rows) {
      const upload = pending.get(key);
      if (upload && answersUpload(row, upload)) {
        answered.set(key, toView(row));
        pending.delete(key);
      }
    }
    bar.update(answered.size);
    if (pending.size === 0 || ctx.now() >= deadline) break;
    await ctx.sleep(options.pollMs ?? ctx.target.pollMs);
  }
  bar.finish();
  // In upload order, so the output lines up with the files given.
  return { views: uploads.flatMap((upload) => answered.get(upload.key) ?? []), missing: [...pending.values()] };
}

function printSubmissions(ctx: CommandContext, submissions: readonly Submission[], format: Format, bucket: string): void {
  if (format === 'json') {
    printJson(ctx.io, submissions);
  } else if (format === 'csv') {
    printLines(
      ctx.io,
      renderCsv(submissions, [
        { header: 'file', value: (s) => s.file },
        { header: 'key', value: (s) => s.key },
        { header: 'outcome', value: (s) => s.outcome },
        { header: 'reason', value: (s) => s.reason },
        { header: 'detail', value: (s) => s.detail },
        { header: 'eTag', value: (s) => s.eTag },
        { header: 'versionId', value: (s) => s.versionId },
      ]),
    );
  } else if (submissions.length > 0) {
    printLines(
      ctx.io,
      renderTable(submissions, [
        { header: 'OUTCOME', value: (s) => s.outcome },
        { header: 'FILE', value: (s) => s.file },
        { header: 'S3 OBJECT / REASON', value: (s) => (s.outcome === 'uploaded' ? `s3://${bucket}/${s.key}` : `${s.reason ?? ''}: ${s.detail ?? ''}`) },
      ]),
    );
  }
}

/** `pneumo submit`: check, upload, and with --wait follow each image to its result. */
export async function submit(ctx: CommandContext, paths: readonly string[], options: SubmitOptions): Promise<ExitCode> {
  const { io, target } = ctx;
  const { candidates, skipped } = await collectCandidates(paths, options.prefix);
  if (skipped.length > 0) io.err(`skipped ${skipped.length} file(s) that are not .jpg/.jpeg/.png (first: ${skipped[0] ?? ''})`);
  if (candidates.length === 0) throw new UsageError('no JPEG or PNG files to submit');

  const submissions: Submission[] = new Array<Submission>(candidates.length);
  const bar = new ProgressBar(io, 'uploading', candidates.length, ctx.now);
  let sent = 0;
  let uploadedCount = 0;
  const uploading = eachLimited(candidates, options.concurrency, async (candidate, index) => {
    const checked = await check(candidate);
    if ('refused' in checked) {
      submissions[index] = checked.refused;
      bar.log(`refused ${candidate.file}: ${checked.refused.reason ?? ''} (${checked.refused.detail ?? ''})`);
    } else {
      const response = await target.clients.s3.send(
        new PutObjectCommand({ Bucket: target.names.bucket, Key: candidate.key, Body: checked.body, ContentType: contentType(candidate.key) }),
      );
      sent += checked.body.length;
      submissions[index] = {
        ...candidate,
        outcome: 'uploaded',
        size: checked.body.length,
        eTag: response.ETag?.replace(/"/g, ''),
        versionId: response.VersionId,
        uploadedAt: new Date(ctx.now()).toISOString(),
      };
      uploadedCount += 1;
    }
    bar.tick(1, bytes(sent));
  });
  try {
    await uploading;
  } catch (error) {
    bar.finish();
    // Say what already changed before reporting the failure.
    io.err(`uploaded ${uploadedCount} of ${candidates.length} image(s) to s3://${target.names.bucket}/ before an error stopped the rest`);
    throw error;
  }
  bar.finish();
  const uploads = submissions.filter((s) => s.outcome === 'uploaded');
  const refused = submissions.length - uploads.length;
  io.err(`uploaded ${uploads.length} image(s) (${bytes(sent)}) to s3://${target.names.bucket}/${INBOX_PREFIX}${options.prefix ? `${options.prefix}/` : ''}` +
    (refused > 0 ? `; refused ${refused} that classify would reject` : ''));

  if (!options.wait) {
    printSubmissions(ctx, submissions, options.format, target.names.bucket);
    return refused > 0 ? EXIT.failed : EXIT.ok;
  }
  // Refused files were named on stderr above; stdout carries the results.
  const { views, missing } = await waitForResults(ctx, uploads, options);
  printResults(io, views, options.format);
  for (const upload of missing) io.err(`no result for ${upload.key} after ${Math.round(options.timeoutMs / 1000)} s`);
  const pending = views.filter((view) => view.status === 'PENDING').length;
  if (pending > 0) io.err(`${pending} image(s) are PENDING: no model is running; they are classified when one starts (pneumo model start)`);
  return refused > 0 || missing.length > 0 ? EXIT.failed : EXIT.ok;
}
