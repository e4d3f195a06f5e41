import { stat } from 'node:fs/promises';
import { basename, relative, sep } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parseServingSchedule } from '../../lib/cost.js';
import { INBOX_PREFIX } from '../../lib/s3-event.js';
import type { CommandContext } from '../context.js';
import { eachLimited } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { bytes, printJson, printLines, renderCsv, renderTable } from '../format.js';
import { findImages, NOT_AN_IMAGE } from '../file-walk.js';
import type { Skipped } from '../file-walk.js';
import { checkImageFile, hasNotifiedSuffix, keyTooLong } from '../image-file.js';
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
  /** Aborted by Ctrl-C: no new upload starts, the ones in flight finish, and what was done is reported. */
  readonly signal?: AbortSignal | undefined;
}

export interface Candidate {
  readonly file: string;
  readonly key: string;
}

export interface Submission extends Candidate {
  /** refused: classify would reject it; skipped: it could not be read (not a regular file, no permission). */
  readonly outcome: 'uploaded' | 'refused' | 'skipped';
  readonly reason?: string | undefined;
  readonly detail?: string | undefined;
  readonly size?: number | undefined;
  readonly eTag?: string | undefined;
  readonly versionId?: string | undefined;
}

function toKey(prefix: string | undefined, path: string): string {
  return `${INBOX_PREFIX}${prefix ? `${prefix}/` : ''}${path.split(sep).join('/')}`;
}

/**
 * The files to send and their keys: a file goes to `inbox/[prefix/]<name>`, a directory's images (recursively) to
 * `inbox/[prefix/]<path inside the directory>`, like `aws s3 cp --recursive`.
 */
export async function collectCandidates(paths: readonly string[], prefix: string | undefined): Promise<{ candidates: Candidate[]; skipped: Skipped[] }> {
  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new UsageError(`no such file or directory: ${path}`);
    }
    if (info.isDirectory()) {
      const found = await findImages(path);
      for (const file of found.images) candidates.push({ file, key: toKey(prefix, relative(path, file)) });
      skipped.push(...found.skipped);
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
async function check(candidate: Candidate): Promise<{ done: Submission } | { body: Uint8Array }> {
  if (!hasNotifiedSuffix(candidate.key)) {
    return {
      done: { ...candidate, outcome: 'refused', reason: 'suffix-not-notified', detail: 'the bucket notifies classify only for .jpg/.jpeg/.png or .JPG/.JPEG/.PNG; rename it' },
    };
  }
  const tooLong = keyTooLong(candidate.key);
  if (tooLong !== undefined) return { done: { ...candidate, outcome: 'refused', reason: 'key-too-long', detail: tooLong } };
  const checked = await checkImageFile(candidate.file);
  switch (checked.kind) {
    case 'unreadable':
      return { done: { ...candidate, outcome: 'skipped', reason: checked.reason, detail: checked.detail } };
    case 'refused':
      return { done: { ...candidate, outcome: 'refused', reason: checked.reason, detail: checked.detail, size: checked.size } };
    case 'image':
      return { body: checked.body };
  }
}

/** What identifies the row a key had before this upload, so `--wait` never takes it for the new answer. */
export interface EarlierRow {
  readonly sequencer?: unknown;
  readonly eventTime?: unknown;
}

function isLater(row: Readonly<Record<string, unknown>>, earlier: EarlierRow): boolean {
  // Both values come from S3 (the event's sequencer and time), so they compare one clock, never ours with Lambda's.
  if (typeof row.sequencer === 'string' && typeof earlier.sequencer === 'string') return row.sequencer > earlier.sequencer;
  return typeof row.eventTime === 'string' && typeof earlier.eventTime === 'string' && row.eventTime > earlier.eventTime;
}

/**
 * True when this row answers this upload (not an earlier upload of the key) and is not a retry in progress: by
 * the version id PutObject returned (a versioned bucket), otherwise by the ETag and an S3 event later than the
 * row the key had before the upload was sent, which also holds when classify writes the row before PutObject
 * has returned.
 */
export function answersUpload(row: Readonly<Record<string, unknown>>, upload: Submission, earlier: EarlierRow | undefined): boolean {
  if (row.status === 'FAILED' && row.reason === 'retryable-error') return false;
  if (upload.versionId !== undefined) return row.objectVersionId === upload.versionId;
  return row.eTag === upload.eTag && (earlier === undefined || isLater(row, earlier));
}

async function waitForResults(
  ctx: CommandContext,
  uploads: readonly Submission[],
  earlier: ReadonlyMap<string, EarlierRow>,
  options: SubmitOptions,
): Promise<{ views: ResultView[]; missing: Submission[] }> {
  const pending = new Map(uploads.map((upload) => [upload.key, upload]));
  const answered = new Map<string, ResultView>();
  const bar = new ProgressBar(ctx.io, 'results', uploads.length, ctx.now);
  const deadline = ctx.now() + options.timeoutMs;
  for (;;) {
    const rows = await getResults(ctx.target, [...pending.keys()]);
    for (const [key, row] of rows) {
      const upload = pending.get(key);
      if (upload && answersUpload(row, upload, earlier.get(key))) {
        answered.set(key, toView(row));
        pending.delete(key);
      }
    }
    bar.update(answered.size);
    if (pending.size === 0 || ctx.now() >= deadline || options.signal?.aborted === true) break;
    await ctx.sleep(options.pollMs ?? ctx.target.pollMs);
  }
  bar.finish();
  // In upload order, so the output lines up with the files given.
  return { views: uploads.flatMap((upload) => answered.get(upload.key) ?? []), missing: [...pending.values()] };
}

/** What happens next to images that wait for a model, and what the user can do: it depends on the stage. */
function pendingNote(target: CommandContext['target'], pending: readonly ResultView[]): string {
  if (pending.every((view) => view.reason === 'no-model')) return `${pending.length} image(s) are PENDING: no model has been promoted yet; they are classified after the first retrain (pneumo retrain --wait)`;
  let onDemand = false;
  try {
    onDemand = parseServingSchedule(target.names.servingSchedule).serving?.onDemandStart === true;
  } catch {
    // A stage without a readable serving schedule: say what holds on every stage.
  }
  return onDemand
    ? `${pending.length} image(s) are PENDING: the model is stopped and the stage starts it on demand (not in quiet hours, past the daily cap or soon after a failed start); they are classified once it runs (pneumo watch; pneumo model status shows the start in flight)`
    : `${pending.length} image(s) are PENDING: no model is running; they are classified when one starts (pneumo model start)`;
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

function reportSkipped(ctx: CommandContext, skipped: readonly Skipped[]): void {
  const others = skipped.filter((entry) => entry.why === NOT_AN_IMAGE);
  if (others.length > 0) ctx.io.err(`skipped ${others.length} file(s) that are not .jpg/.jpeg/.png (first: ${others[0]?.path ?? ''})`);
  for (const entry of skipped) if (entry.why !== NOT_AN_IMAGE) ctx.io.err(`skipped ${entry.path}: ${entry.why}`);
}

/**
 * `pneumo submit`: check, upload, and with --wait follow each image to its result. A file that cannot be read or
 * would be rejected is reported and the others still go up (exit 1 at the end); a failure of the target itself
 * (credentials, bucket, throttling past the SDK's retries) stops the batch, after saying what was uploaded.
 */
export async function submit(ctx: CommandContext, paths: readonly string[], options: SubmitOptions): Promise<ExitCode> {
  const { io, target } = ctx;
  const { candidates, skipped } = await collectCandidates(paths, options.prefix);
  reportSkipped(ctx, skipped);
  if (candidates.length === 0) throw new UsageError('no JPEG or PNG files to submit');
  // Read before anything is sent, so a row classify writes for this upload (even before PutObject returns) is new.
  const earlier: ReadonlyMap<string, EarlierRow> = options.wait ? await getResults(target, candidates.map((c) => c.key)) : new Map();

  const submissions: Submission[] = new Array<Submission>(candidates.length);
  const bar = new ProgressBar(io, 'uploading', candidates.length, ctx.now);
  let sent = 0;
  let uploadedCount = 0;
  const uploading = eachLimited(candidates, options.concurrency, async (candidate, index) => {
    const checked = await check(candidate);
    if ('done' in checked) {
      submissions[index] = checked.done;
      bar.log(`${checked.done.outcome} ${candidate.file}: ${checked.done.reason ?? ''} (${checked.done.detail ?? ''})`);
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
      };
      uploadedCount += 1;
    }
    bar.tick(1, bytes(sent));
  }, options.signal);
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
  const refused = submissions.filter((s) => s.outcome === 'refused').length;
  const unread = submissions.filter((s) => s.outcome === 'skipped').length;
  io.err(`uploaded ${uploads.length} image(s) (${bytes(sent)}) to s3://${target.names.bucket}/${INBOX_PREFIX}${options.prefix ? `${options.prefix}/` : ''}` +
    (refused > 0 ? `; refused ${refused} that classify would reject` : '') +
    (unread > 0 ? `; skipped ${unread} that could not be read` : ''));
  const incomplete = refused > 0 || unread > 0 || skipped.some((entry) => entry.missing);

  if (options.signal?.aborted) {
    // The slots of files never started are holes, which Object.values leaves out.
    const done = Object.values(submissions);
    printSubmissions(ctx, done, options.format, target.names.bucket);
    io.err(`interrupted: ${candidates.length - done.length} of ${candidates.length} file(s) were not sent; submit them again (what was done is listed on stdout)`);
    return EXIT.interrupted;
  }
  if (!options.wait) {
    printSubmissions(ctx, submissions, options.format, target.names.bucket);
    return incomplete ? EXIT.failed : EXIT.ok;
  }
  // Refused files were named on stderr above; stdout carries the results.
  const { views, missing } = await waitForResults(ctx, uploads, earlier, options);
  printResults(io, views, options.format);
  if (options.signal?.aborted) {
    io.err(`interrupted: ${missing.length} of ${uploads.length} uploaded image(s) have no result yet; classify still answers them (pneumo result <key>, pneumo watch)`);
    return EXIT.interrupted;
  }
  for (const upload of missing) io.err(`no result for ${upload.key} after ${Math.round(options.timeoutMs / 1000)} s`);
  const pending = views.filter((view) => view.status === 'PENDING');
  if (pending.length > 0) io.err(pendingNote(target, pending));
  return incomplete || missing.length > 0 ? EXIT.failed : EXIT.ok;
}
