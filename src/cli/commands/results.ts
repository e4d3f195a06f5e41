import { posix } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { INBOX_PREFIX } from '../../lib/s3-event.js';
import type { CommandContext } from '../context.js';
import { EXIT, OperationFailedError, UsageError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { bytes, percent, printJson, printLines, renderTable } from '../format.js';
import { getResult, getResults, queryResults } from '../results-store.js';
import type { ResultQuery } from '../results-store.js';
import { printResults, toView } from '../results-view.js';
import type { ResultView } from '../results-view.js';
import type { Target } from '../target.js';

export interface ResultsOptions extends Omit<ResultQuery, 'order'> {
  readonly format: Format;
}

/** `pneumo results`: newest first through the indexes. */
export async function results(ctx: CommandContext, options: ResultsOptions): Promise<ExitCode> {
  if (options.since !== undefined && options.until !== undefined && options.since > options.until) {
    throw new UsageError(`--since (${options.since}) is after --until (${options.until})`);
  }
  const rows = await queryResults(ctx.target, options);
  printResults(ctx.io, rows.map(toView), options.format);
  if (rows.length === options.limit) ctx.io.err(`showing the newest ${options.limit}; use --limit or --since/--until for more`);
  return EXIT.ok;
}

/**
 * The results-table key a reference names: a key (`inbox/…`), an S3 URI of this target's bucket, or a file name
 * (`chest.jpeg`, `ward-3/chest.jpeg`, `./scans/chest.jpeg`) looked up as `inbox/<name>` and then among the inbox's
 * objects whose key ends in `/<file name>` (an S3 listing; the results table is never scanned).
 */
export async function resolveKeys(target: Target, reference: string): Promise<string[]> {
  // A folder or nothing names no image; looked up, it would only say "no result for inbox/" (exit 1).
  if (reference.trim() === '' || /[/\\]$/.test(reference)) throw new UsageError(`${JSON.stringify(reference)} names no image: give a key (inbox/…), an s3:// URI or a file name`);
  const uri = /^s3:\/\/([^/]+)\/(.+)$/.exec(reference);
  if (uri) {
    if (uri[1] !== target.names.bucket) throw new UsageError(`${reference} is not in this target's bucket (${target.names.bucket})`);
    return [uri[2] ?? ''];
  }
  if (reference.startsWith(INBOX_PREFIX)) return [reference];
  const relativeName = reference.replace(/^\.\//, '').replace(/\\/g, '/');
  if (!relativeName.startsWith('/') && !relativeName.startsWith('../') && (await getResult(target, `${INBOX_PREFIX}${relativeName}`))) {
    return [`${INBOX_PREFIX}${relativeName}`];
  }
  const name = posix.basename(relativeName);
  const matches: string[] = [];
  let token: string | undefined;
  do {
    const page = await target.clients.s3.send(new ListObjectsV2Command({ Bucket: target.names.bucket, Prefix: INBOX_PREFIX, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (object.Key === `${INBOX_PREFIX}${name}` || object.Key?.endsWith(`/${name}`)) matches.push(object.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return matches.length > 0 ? matches : [`${INBOX_PREFIX}${relativeName}`];
}

async function objectExists(target: Target, key: string): Promise<boolean> {
  try {
    await target.clients.s3.send(new HeadObjectCommand({ Bucket: target.names.bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof Error && (error.name === 'NotFound' || error.name === 'NoSuchKey')) return false;
    throw error;
  }
}

function printOne(ctx: CommandContext, view: ResultView): void {
  const labels = view.labels.map((l) => `${l.name} ${percent(l.confidence)}`).join(', ');
  const image = [view.imageFormat, view.width !== null && view.height !== null ? `${view.width}x${view.height} px` : null, view.size !== null ? bytes(view.size) : null]
    .filter((part) => part !== null)
    .join(', ');
  const fields: [string, string][] = [
    ['key', view.key],
    ['status', view.status],
    ['label', view.label === null ? '-' : `${view.label} ${percent(view.confidence)}`],
    ['labels', labels || '-'],
    ['reason', view.reason === null ? '-' : `${view.reason}${view.detail ? ` (${view.detail})` : ''}`],
    ['model', view.modelVersion ?? '-'],
    ['processed at', view.processedAt],
    ['image', image || '-'],
  ];
  printLines(ctx.io, renderTable(fields, [{ header: 'FIELD', value: ([name]) => name }, { header: 'VALUE', value: ([, value]) => value }]).slice(1));
}

/** `pneumo result <ref>`: one result; exit 1 when there is none yet. */
export async function result(ctx: CommandContext, reference: string, options: { readonly format: Format }): Promise<ExitCode> {
  const keys = await resolveKeys(ctx.target, reference);
  if (keys.length > 1) {
    const shown = keys.slice(0, 5).join(', ');
    throw new UsageError(`${reference} matches ${keys.length} images (${shown}${keys.length > 5 ? ', …' : ''}); give the key`);
  }
  const key = keys[0] ?? '';
  const rows = await getResults(ctx.target, [key]);
  const row = rows.get(key);
  if (!row) {
    const exists = await objectExists(ctx.target, key);
    throw new OperationFailedError(
      exists
        ? `no result for ${key} yet (the image is in s3://${ctx.target.names.bucket}/${key}; classify has not answered)`
        : `no result for ${key}, and no such image in s3://${ctx.target.names.bucket}/`,
    );
  }
  const view = toView(row);
  if (options.format === 'json') printJson(ctx.io, view);
  else if (options.format === 'csv') printResults(ctx.io, [view], 'csv');
  else printOne(ctx, view);
  return EXIT.ok;
}
