import { z } from 'zod';
import type { ResultStatus } from '../lib/result-status.js';
import { LABEL_NAME } from '../lib/training/dataset.js';

/*
 * Every input the review server accepts, as zod schemas: query strings of the worklist and image routes, JSON
 * bodies of the decision, undo and training routes. A request that does not parse gets a 400 naming the field.
 */

export const RESULT_STATUSES = ['CLASSIFIED', 'NEEDS_REVIEW', 'PENDING', 'REJECTED', 'FAILED'] as const satisfies readonly ResultStatus[];
export const NOTE_MAX = 500;
export const PAGE_MAX = 100;

const imageKey = z
  .string()
  .min(7)
  .max(1024)
  .refine((key) => key.startsWith('inbox/') && !key.endsWith('/'), 'must be an image key under inbox/');
const isoTime = z.iso.datetime({ offset: true });
/** A range bound, normalised to UTC: the indexes sort on processedAt's UTC strings, which an offset time would miss as text. */
const rangeBound = isoTime.transform((value) => new Date(value).toISOString());
const label = z.string().regex(LABEL_NAME, 'must be a label name (letters, digits, "_" or "-")');

export const worklistQuerySchema = z
  .strictObject({
    status: z.enum(RESULT_STATUSES).optional(),
    label: label.optional(),
    since: rangeBound.optional(),
    until: rangeBound.optional(),
    /** Folder or start of the key, with or without `inbox/`. */
    prefix: z
      .string()
      .max(1024)
      .transform((value) => value.replace(/^\/+/, ''))
      .transform((value) => (value.startsWith('inbox/') ? value : `inbox/${value}`))
      .optional(),
    reviewed: z.enum(['any', 'unreviewed', 'reviewed']).default('any'),
    cursor: z.string().max(4096).optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(24),
  })
  .refine((query) => query.since === undefined || query.until === undefined || query.since <= query.until, { message: 'since is after until', path: ['since'] });
export type WorklistQuery = z.infer<typeof worklistQuerySchema>;
/** The filter part of a worklist query: what a cursor is bound to. */
export type WorklistFilter = Omit<WorklistQuery, 'cursor' | 'limit'>;

export const imageQuerySchema = z.strictObject({ key: imageKey });

export const decisionSchema = z.strictObject({
  imageKey,
  label,
  /** The row the reviewer looked at: a re-upload of the key since then is a conflict, not a silent change. */
  sequencer: z.string().min(1).max(64),
  note: z.string().max(NOTE_MAX).optional(),
});
export type DecisionRequest = z.infer<typeof decisionSchema>;

export const undoSchema = z.strictObject({ imageKey, reviewedAt: isoTime });
export type UndoRequest = z.infer<typeof undoSchema>;

export const trainingSchema = z.strictObject({ imageKey });

export const trainingAllSchema = z.strictObject({
  filter: z.record(z.string(), z.string()).default({}),
  cursor: z.string().max(4096).optional(),
});

/** The review fields a results row holds once a clinician has decided. */
export const reviewFieldsSchema = z.object({
  reviewedLabel: label,
  reviewer: z.string(),
  reviewedAt: isoTime,
  agreement: z.enum(['AGREED', 'CORRECTED']),
  reviewNote: z.string().optional(),
  trainingKey: z.string().optional(),
  trainingCopiedAt: isoTime.optional(),
});
export type ReviewFields = z.infer<typeof reviewFieldsSchema>;

/** One line naming every field that failed and why. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'request'}: ${issue.message}`).join('; ');
}
