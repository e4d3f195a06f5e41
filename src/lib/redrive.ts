import { classifyObject } from './classify.js';
import type { ClassifyDeps } from './classify.js';
import type { ImageOutcome } from './image-outcome.js';
import { InvalidEventError } from './errors.js';
import { reportOutcome } from './observability.js';
import type { FailedReason } from './result-status.js';
import type { InboxObjectEvent } from './s3-event.js';
import * as z from 'zod/mini';
import { looseString, parseWith, shown } from './schema.js';

/** FAILED rows whose cause a newly started model may have removed; other failures are the image's or IAM's. */
export const REDRIVEN_FAILURES: readonly FailedReason[] = ['model-not-found', 'registry-invalid', 'retryable-error'];

const PHASES = ['PENDING', 'FAILED'] as const;

export interface RedriveDeps extends ClassifyDeps {
  readonly pageSize: number;
}

export interface RedriveTotals {
  readonly examined: number;
  readonly answered: number;
  readonly stillPending: number;
  readonly failed: number;
  readonly rejected: number;
  readonly skipped: number;
  readonly retryable: number;
}

export interface RedriveProgress {
  /** Rows written at or after this instant are not looked at again, so a row still PENDING cannot loop. */
  readonly cutoff: string;
  readonly cursor: string | null;
  readonly done: boolean;
  readonly totals: RedriveTotals;
}

const ZERO: RedriveTotals = { examined: 0, answered: 0, stillPending: 0, failed: 0, rejected: 0, skipped: 0, retryable: 0 };

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

const CursorSchema = z.object({ phase: z.enum(PHASES), key: z.optional(z.record(z.string(), z.unknown())) });
type Cursor = z.output<typeof CursorSchema>;

function decodeCursor(text: string): Cursor {
  try {
    const parsed = CursorSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // Reported below.
  }
  throw new InvalidEventError(`redrive cursor "${text}" was not produced by redrive`);
}

const MALFORMED_TOTALS = 'redrive totals are malformed';
const TotalsSchema = z.object(
  Object.fromEntries(Object.keys(ZERO).map((name) => [name, z.number({ error: MALFORMED_TOTALS })])) as Record<keyof RedriveTotals, z.ZodMiniNumber>,
  { error: MALFORMED_TOTALS },
);

/** One call of the loop; `cutoff`, `cursor` and `totals` are null on the first call. */
const RedriveRequestSchema = z.pipe(
  z.transform((event: unknown) => event ?? {}),
  z.object(
    {
      cutoff: z.nullish(
        z.string({ error: (issue) => `redrive cutoff must be a timestamp, got ${shown(issue.input)}` }).check(
          z.refine((value) => !Number.isNaN(Date.parse(value)), { error: (issue) => `redrive cutoff must be a timestamp, got ${shown(issue.input)}` }),
        ),
      ),
      cursor: z.nullish(z.string({ error: 'redrive cursor must be a string' })),
      totals: z.nullish(TotalsSchema),
    },
    { error: 'Redrive expects an object payload' },
  ),
);

export interface RedriveRequest {
  readonly cutoff: string | null;
  readonly cursor: string | null;
  readonly totals: RedriveTotals | null;
}

export function parseRedriveRequest(event: unknown): RedriveRequest {
  const { cutoff, cursor, totals } = parseWith(RedriveRequestSchema, event, (message) => new InvalidEventError(message));
  return { cutoff: cutoff ?? null, cursor: cursor ?? null, totals: totals ?? null };
}

/** The S3 event facts a row keeps, so a re-drive is a late delivery of that event. */
const RowEventSchema = z.object({ imageKey: z.string(), bucket: z.string(), sequencer: z.string(), eventTime: z.string(), objectVersionId: looseString() });

/** The S3 event a row came from, rebuilt so classify treats the re-drive as a late delivery of that event. */
export function eventFromRow(row: Record<string, unknown>): InboxObjectEvent | undefined {
  const parsed = RowEventSchema.safeParse(row);
  if (!parsed.success) return undefined;
  const { imageKey, bucket, sequencer, eventTime, objectVersionId } = parsed.data;
  return { bucket, key: imageKey, sequencer, eventTime, versionId: objectVersionId };
}

function count(totals: RedriveTotals, outcome: ImageOutcome): RedriveTotals {
  const next = { ...totals, examined: totals.examined + 1 };
  switch (outcome.kind) {
    case 'written':
    case 'kept-newer': {
      const status = outcome.row.status;
      if (status === 'CLASSIFIED' || status === 'NEEDS_REVIEW') return { ...next, answered: next.answered + 1 };
      if (status === 'PENDING') return { ...next, stillPending: next.stillPending + 1 };
      if (status === 'REJECTED') return { ...next, rejected: next.rejected + 1 };
      return { ...next, failed: next.failed + 1 };
    }
    case 'skipped':
    case 'invalid-record':
      return { ...next, skipped: next.skipped + 1 };
    case 'retryable':
      return { ...next, retryable: next.retryable + 1 };
  }
}

async function fullRow(deps: RedriveDeps, item: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  if (eventFromRow(item)) return item;
  // The index may project keys only; the table has the whole row.
  const imageKey = looseString().parse(item.imageKey);
  return imageKey === undefined ? undefined : deps.results.get(imageKey);
}

/**
 * Classifies one page of waiting rows (PENDING, then FAILED for a model or registry reason) and says where to go
 * on. Rows are handled one after the other so a re-drive of thousands of images does not throttle the model.
 */
export async function redrivePage(deps: RedriveDeps, request: RedriveRequest): Promise<RedriveProgress> {
  const cutoff = request.cutoff ?? new Date((deps.clock ?? Date.now)()).toISOString();
  const cursor: Cursor = request.cursor ? decodeCursor(request.cursor) : { phase: 'PENDING', key: undefined };
  let totals = request.totals ?? ZERO;
  deps.registry.invalidate();

  const page = await deps.results.waitingPage(cursor.phase, cutoff, cursor.phase === 'FAILED' ? REDRIVEN_FAILURES : undefined, cursor.key, deps.pageSize);

  for (const item of page.items) {
    const row = await fullRow(deps, item);
    const event = row ? eventFromRow(row) : undefined;
    if (!event) {
      deps.logger.warn('redrive: row without its S3 event facts', { key: looseString().parse(item.imageKey) });
      totals = { ...totals, examined: totals.examined + 1, skipped: totals.skipped + 1 };
      continue;
    }
    const outcome = await classifyObject(deps, event);
    reportOutcome(deps, outcome);
    totals = count(totals, outcome);
  }

  let next: Cursor | undefined;
  if (page.lastKey) next = { phase: cursor.phase, key: page.lastKey };
  else if (cursor.phase === 'PENDING') next = { phase: 'FAILED', key: undefined };
  return { cutoff, cursor: next ? encodeCursor(next) : null, done: next === undefined, totals };
}
