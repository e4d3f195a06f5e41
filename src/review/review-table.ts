import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResultStatus } from '../lib/result-status.js';
import { ResultsTable, statusPartition } from '../lib/tables/results.js';
import type { ReviewFields, WorklistFilter } from './schemas.js';
import { reviewFieldsSchema } from './schemas.js';
import type { CursorState, Segment } from './worklist.js';

/*
 * The review page's view of the results table (src/lib/tables/results.ts owns its queries and writes): the
 * worklist as pages of index slices, never a scan, and decisions as conditional updates of the row, with a
 * refused write explained from the row as it is now.
 */

export type Row = Readonly<Record<string, unknown>>;

export interface PageRequest {
  readonly filter: WorklistFilter;
  readonly segments: readonly Segment[];
  readonly from: CursorState;
  readonly limit: number;
  /** Only rows decided and not yet copied to training (the "add all" action). */
  readonly onlyCopyable?: boolean;
}

export interface Page {
  readonly items: readonly Row[];
  /** Where the next page starts; absent at the end of the list. */
  readonly next: CursorState | undefined;
}

export type DecideOutcome =
  | { readonly kind: 'decided'; readonly row: Row }
  | { readonly kind: 'conflict'; readonly row: Row }
  | { readonly kind: 'replaced'; readonly row: Row }
  | { readonly kind: 'missing' };

export type UndoOutcome = { readonly kind: 'undone'; readonly previous: Row } | { readonly kind: 'refused'; readonly row: Row | undefined };

/** The review fields of a row, or undefined while it has no (valid) decision. */
export function reviewOf(row: Row): ReviewFields | undefined {
  const parsed = reviewFieldsSchema.safeParse(row);
  return parsed.success ? parsed.data : undefined;
}

function reviewFilter(request: PageRequest): 'reviewed' | 'unreviewed' | 'copyable' | undefined {
  if (request.onlyCopyable === true) return 'copyable';
  return request.filter.reviewed === 'any' ? undefined : request.filter.reviewed;
}

export class ReviewTable {
  private readonly results: ResultsTable;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.results = new ResultsTable(documents, table);
  }

  /** One page of the worklist from `from`: segments in order, each newest first, every request bounded. */
  async page(request: PageRequest): Promise<Page> {
    const { filter } = request;
    return this.results.slicesPage({
      slices: request.segments,
      since: filter.since,
      until: filter.until,
      filter: { prefix: filter.prefix, review: reviewFilter(request) },
      from: request.from,
      limit: request.limit,
    });
  }

  async get(imageKey: string): Promise<Row | undefined> {
    return this.results.get(imageKey);
  }

  /** Newest rows of one status, for the confidence histogram. */
  async newest(status: ResultStatus, limit: number): Promise<Row[]> {
    return this.results.queryIndex(statusPartition(status), { limit, order: 'newest' });
  }

  /** Decided rows of one status processed since `since`, reading at most `budget` items; `complete` says whether all were read. */
  async reviewedSince(status: ResultStatus, since: string, budget: number): Promise<{ rows: Row[]; complete: boolean }> {
    return this.results.reviewedSince(status, since, budget);
  }

  /**
   * Records a decision only on the row the reviewer saw (same sequencer: not a re-upload) and only if nobody has
   * decided yet. A refused write is explained from the row as it is now.
   */
  async decide(request: { imageKey: string; sequencer: string; review: ReviewFields }): Promise<DecideOutcome> {
    const written = await this.results.recordDecision(request.imageKey, request.sequencer, request.review);
    if (written) return { kind: 'decided', row: written };
    const row = await this.get(request.imageKey);
    if (!row) return { kind: 'missing' };
    if (row.sequencer !== request.sequencer) return { kind: 'replaced', row };
    return { kind: 'conflict', row };
  }

  /** Removes a decision, only the reviewer's own and only the one they made (not a later one). */
  async undo(request: { imageKey: string; reviewer: string; reviewedAt: string }): Promise<UndoOutcome> {
    const previous = await this.results.removeDecision(request.imageKey, request.reviewer, request.reviewedAt);
    if (previous) return { kind: 'undone', previous };
    return { kind: 'refused', row: await this.get(request.imageKey) };
  }

  /** Notes the training copy on the row, only while the decision it was made from stands. */
  async recordTrainingCopy(request: { imageKey: string; reviewedAt: string; trainingKey: string; copiedAt: string }): Promise<boolean> {
    return this.results.recordTrainingCopy(request);
  }
}
