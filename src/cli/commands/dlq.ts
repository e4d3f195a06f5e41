import { readFile, rename, writeFile } from 'node:fs/promises';
import { CopyObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { looseNumber, looseString } from '../../lib/schema.js';
import { decodeS3Key } from '../../lib/s3-event.js';
import type { CommandContext } from '../context.js';
import { EXIT, TargetUnavailableError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { csvField, printJson, printLines, renderTable } from '../format.js';
import type { DeadLetters, Target } from '../target.js';

export interface DeadObject {
  readonly bucket: string;
  readonly key: string;
}

/** One failed invocation as Lambda's on-failure destination records it. */
export interface DeadLetter {
  /** The SQS message id, or the line number (from 1) in the local file. */
  readonly id: string;
  readonly timestamp: string | null;
  readonly requestId: string | null;
  readonly condition: string | null;
  readonly attempts: number | null;
  readonly errorType: string | null;
  readonly errorMessage: string | null;
  /** The objects the failed S3 event named: what a redrive sends to classify again. */
  readonly objects: readonly DeadObject[];
}

interface Stored {
  readonly letter: DeadLetter;
  /** The raw line (file) or receipt handle (SQS): what removing it after a redrive needs. */
  readonly handle: string;
}

/** The object an S3 record names; records without one are left out. */
const DeadRecordSchema = z.object({ s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }) }) });
const loose = <S extends z.ZodMiniType>(schema: S): z.ZodMiniCatch<z.ZodMiniOptional<S>> => z.catch(z.optional(schema), undefined);
const records = loose(z.object({ Records: loose(z.array(z.unknown())) }));

/** A Lambda on-failure destination record, or a raw S3 event (a classic DLQ); every field is optional. */
const DeadLetterSchema = z.object({
  timestamp: looseString(),
  requestPayload: records,
  Records: loose(z.array(z.unknown())),
  requestContext: loose(z.object({ requestId: looseString(), condition: looseString(), approximateInvokeCount: looseNumber() })),
  responsePayload: loose(z.object({ errorType: looseString(), errorMessage: looseString() })),
});

/** Reads a destination record; anything unreadable is still listed (with its error) rather than hidden. */
export function parseDeadLetter(id: string, body: string): DeadLetter {
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    return { id, timestamp: null, requestId: null, condition: null, attempts: null, errorType: 'UnreadableDeadLetter', errorMessage: body.slice(0, 200), objects: [] };
  }
  const letter = DeadLetterSchema.safeParse(record);
  const fields = letter.success ? letter.data : {};
  // An on-failure destination wraps the event in requestPayload; a raw S3 event (a classic DLQ) is accepted too.
  const objects = (fields.requestPayload?.Records ?? fields.Records ?? []).flatMap((entry: unknown): DeadObject[] => {
    const parsed = DeadRecordSchema.safeParse(entry);
    if (!parsed.success) return [];
    try {
      return [{ bucket: parsed.data.s3.bucket.name, key: decodeS3Key(parsed.data.s3.object.key) }];
    } catch {
      return [];
    }
  });
  const context = fields.requestContext;
  return {
    id,
    timestamp: fields.timestamp ?? null,
    requestId: context?.requestId ?? null,
    condition: context?.condition ?? null,
    attempts: context?.approximateInvokeCount ?? null,
    errorType: fields.responsePayload?.errorType ?? null,
    errorMessage: fields.responsePayload?.errorMessage ?? null,
    objects,
  };
}

function deadLetters(target: Target): DeadLetters {
  if (!target.deadLetters) throw new TargetUnavailableError('this target has no dead-letter queue (no DeadLetterQueueUrl output)');
  return target.deadLetters;
}

async function readFileLetters(path: string): Promise<Stored[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return content
    .split('\n')
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, index }) => ({ letter: parseDeadLetter(String(index + 1), line), handle: line }));
}

/**
 * Receives every message without deleting it. SQS has no peek: each received message stays invisible for
 * `visibilitySeconds` (then it is back in the queue), which is also what keeps one pass from seeing it twice.
 */
async function receiveAll(target: Target, queueUrl: string, visibilitySeconds: number): Promise<Stored[]> {
  const found = new Map<string, Stored>();
  for (;;) {
    const { Messages = [] } = await target.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: visibilitySeconds, WaitTimeSeconds: 1 }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) {
      if (!message.MessageId || found.has(message.MessageId)) continue;
      found.set(message.MessageId, { letter: parseDeadLetter(message.MessageId, message.Body ?? ''), handle: message.ReceiptHandle ?? '' });
    }
  }
  return [...found.values()];
}

async function load(target: Target, visibilitySeconds: number): Promise<Stored[]> {
  const source = deadLetters(target);
  return source.kind === 'file' ? readFileLetters(source.path) : receiveAll(target, source.queueUrl, visibilitySeconds);
}

function where(target: Target): string {
  const source = deadLetters(target);
  return source.kind === 'file' ? source.path : source.queueUrl;
}

/** `pneumo dlq list`. */
export async function dlqList(ctx: CommandContext, options: { readonly format: Format }): Promise<ExitCode> {
  const letters = (await load(ctx.target, 30)).map((stored) => stored.letter);
  if (options.format === 'json') printJson(ctx.io, letters);
  else if (options.format === 'csv') {
    ctx.io.out('id,timestamp,errorType,errorMessage,attempts,keys');
    for (const l of letters) ctx.io.out([l.id, l.timestamp, l.errorType, l.errorMessage, l.attempts, l.objects.map((o) => o.key).join(';')].map(csvField).join(','));
  } else if (letters.length === 0) {
    ctx.io.err(`the dead-letter queue is empty (${where(ctx.target)})`);
  } else {
    printLines(ctx.io, renderTable(letters, [
      { header: 'ID', value: (l) => (l.id.length > 12 ? `${l.id.slice(0, 12)}…` : l.id) },
      { header: 'TIME', value: (l) => l.timestamp ?? '-' },
      { header: 'ATTEMPTS', value: (l) => (l.attempts === null ? '-' : String(l.attempts)), align: 'right' },
      { header: 'ERROR', value: (l) => `${l.errorType ?? '?'}: ${(l.errorMessage ?? '').slice(0, 60)}` },
      { header: 'IMAGES', value: (l) => l.objects.map((o) => o.key).join(', ') || '-' },
    ]));
  }
  if (ctx.target.deadLetters?.kind === 'sqs' && letters.length > 0) ctx.io.err('(listing receives the messages: they are back in the queue after 30 s)');
  return EXIT.ok;
}

type RedriveOutcome = 'redriven' | 'gone' | 'failed';

export interface RedriveResult {
  readonly id: string;
  readonly bucket: string;
  readonly key: string;
  readonly outcome: RedriveOutcome;
  readonly detail: string;
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Sends one image through classify again by copying the object onto itself: S3 then emits a fresh ObjectCreated
 * event, the same path an upload takes, on AWS and locally alike. Metadata is replaced with itself plus the time
 * of the redrive (S3 refuses a self-copy that changes nothing), content type kept.
 */
async function redriveObject(ctx: CommandContext, object: DeadObject): Promise<{ outcome: RedriveOutcome; detail: string }> {
  const s3 = ctx.target.clients.s3;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key }));
  } catch (error) {
    if (error instanceof Error && (error.name === 'NotFound' || error.name === 'NoSuchKey')) return { outcome: 'gone', detail: 'the object no longer exists; nothing to classify' };
    return { outcome: 'failed', detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  try {
    const redrivenAt = new Date(ctx.now()).toISOString();
    await s3.send(
      new CopyObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        CopySource: copySource(object.bucket, object.key),
        MetadataDirective: 'REPLACE',
        ContentType: head.ContentType,
        Metadata: { ...head.Metadata, 'pneumo-redriven-at': redrivenAt },
      }),
    );
    return { outcome: 'redriven', detail: `copied onto itself at ${redrivenAt}: a new ObjectCreated event for classify` };
  } catch (error) {
    return { outcome: 'failed', detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** Rewrites the file without the lines handled, re-reading it first so lines appended meanwhile are kept. */
async function removeLines(path: string, lines: readonly string[]): Promise<void> {
  const remaining = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  for (const line of lines) {
    const index = remaining.indexOf(line);
    if (index >= 0) remaining.splice(index, 1);
  }
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, remaining.map((line) => `${line}\n`).join(''));
  await rename(temporary, path);
}

/** `pneumo dlq redrive`: each dead letter's images are sent to classify again; a letter fully handled is removed. */
export async function dlqRedrive(ctx: CommandContext, options: { readonly dryRun: boolean; readonly format: Format }): Promise<ExitCode> {
  const source = deadLetters(ctx.target);
  // Long enough to copy the images before SQS would hand the message to anyone else.
  const stored = await load(ctx.target, 300);
  const results: RedriveResult[] = [];
  const handled: Stored[] = [];
  for (const entry of stored) {
    const outcomes: RedriveResult[] = [];
    for (const object of entry.letter.objects) {
      const outcome = options.dryRun ? { outcome: 'redriven' as const, detail: 'dry run: would copy onto itself' } : await redriveObject(ctx, object);
      outcomes.push({ id: entry.letter.id, bucket: object.bucket, key: object.key, ...outcome });
    }
    results.push(...outcomes);
    const complete = entry.letter.objects.length > 0 && outcomes.every((outcome) => outcome.outcome !== 'failed');
    if (complete) handled.push(entry);
    else if (entry.letter.objects.length === 0) ctx.io.err(`kept dead letter ${entry.letter.id}: it names no S3 object to re-drive (${entry.letter.errorType ?? 'unknown error'})`);
  }
  if (!options.dryRun && handled.length > 0) {
    if (source.kind === 'file') await removeLines(source.path, handled.map((entry) => entry.handle));
    else {
      for (const entry of handled) await ctx.target.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: source.queueUrl, ReceiptHandle: entry.handle }));
    }
  }
  const count = (outcome: RedriveOutcome): number => results.filter((r) => r.outcome === outcome).length;
  if (options.format === 'json') printJson(ctx.io, results);
  else {
    for (const r of results) ctx.io.out(`${r.outcome.padEnd(8)}  s3://${r.bucket}/${r.key}  ${r.detail}`);
  }
  const verb = options.dryRun ? 'would re-drive' : 're-drove';
  ctx.io.err(
    stored.length === 0
      ? `the dead-letter queue is empty (${where(ctx.target)})`
      : `${verb} ${count('redriven')} image(s); ${count('gone')} no longer exist; ${count('failed')} failed; ` +
          `${options.dryRun ? 'would remove' : 'removed'} ${handled.length} of ${stored.length} dead letter(s) from ${where(ctx.target)}`,
  );
  return count('failed') > 0 ? EXIT.failed : EXIT.ok;
}
