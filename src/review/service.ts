import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Target } from '../cli/target.js';
import { versionNameOfArn } from '../cli/results-view.js';
import { readResultRow } from '../lib/result-row.js';
import { looseString } from '../lib/schema.js';
import { ReviewRequestError } from './errors.js';
import { contentTypeOf, ReviewImages } from './images.js';
import type { ItemView, ModelView } from './api-types.js';
import { decidableLabels } from './labels.js';
import { modelView } from './model-view.js';
import type { Row } from './review-table.js';
import { ReviewTable, reviewOf } from './review-table.js';
import type { DecisionRequest, ReviewFields, UndoRequest, WorklistFilter, WorklistQuery } from './schemas.js';

export type { ItemView } from './api-types.js';
import { worklistQuerySchema } from './schemas.js';
import type { PlanSettings } from './worklist.js';
import { CursorCodec, DEFAULT_PLAN, InvalidCursorError, planWorklist } from './worklist.js';

export interface ReviewServiceDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly resultsTable: string;
  readonly registryTable: string;
  readonly reviewer: string;
  readonly plan: PlanSettings;
  readonly cursors: CursorCodec;
  readonly now: () => number;
}

const DECIDABLE = new Set(['CLASSIFIED', 'NEEDS_REVIEW']);
/** Rows copied to training per "add all" request; the page asks again with the cursor until done. */
const COPY_BATCH = 25;
/** How long the decidable labels are reused: a minute of page use costs no registry or bucket reads. */
const LABELS_TTL_MS = 60_000;

function filterOf(query: WorklistQuery): WorklistFilter {
  return { status: query.status, label: query.label, since: query.since, until: query.until, prefix: query.prefix, reviewed: query.reviewed };
}

export class ReviewService {
  readonly table: ReviewTable;
  private readonly images: ReviewImages;
  private labels: { readonly at: number; readonly value: string[] } | undefined;

  constructor(private readonly deps: ReviewServiceDeps) {
    this.table = new ReviewTable(deps.documents, deps.resultsTable);
    this.images = new ReviewImages(deps.s3, deps.bucket);
  }

  get reviewer(): string {
    return this.deps.reviewer;
  }

  view(row: Row): ItemView {
    const review = reviewOf(row);
    const result = readResultRow(row);
    return {
      key: String(row.imageKey),
      status: result.status ?? 'UNKNOWN',
      label: result.label ?? null,
      confidence: result.confidence ?? null,
      labels: result.labels,
      modelVersion: versionNameOfArn(result.modelVersionArn ?? null),
      arrivedAt: result.eventTime ?? null,
      answeredAt: result.processedAt ?? null,
      sequencer: result.sequencer ?? '',
      width: result.width ?? null,
      height: result.height ?? null,
      format: result.imageFormat ?? null,
      decidable: result.status !== undefined && DECIDABLE.has(result.status) && result.label !== undefined,
      review: review ? { ...review, mine: review.reviewer === this.deps.reviewer } : null,
    };
  }

  private decodeCursor(filter: WorklistFilter, cursor: string | undefined): { segment: number; startKey?: Readonly<Record<string, string>> | undefined } {
    if (cursor === undefined) return { segment: 0 };
    try {
      return this.deps.cursors.decode(filter, cursor);
    } catch (error) {
      if (error instanceof InvalidCursorError || error instanceof SyntaxError) throw new ReviewRequestError(400, 'bad-cursor', error instanceof InvalidCursorError ? error.message : 'cursor is malformed', {}, { cause: error });
      throw error;
    }
  }

  async worklist(query: WorklistQuery): Promise<{ items: ItemView[]; cursor: string | null }> {
    const filter = filterOf(query);
    const { cursor, limit } = query;
    const page = await this.table.page({ filter, segments: planWorklist(filter, this.deps.plan), from: this.decodeCursor(filter, cursor), limit });
    return { items: page.items.map((row) => this.view(row)), cursor: page.next ? this.deps.cursors.encode(filter, page.next) : null };
  }

  private async row(imageKey: string): Promise<Row> {
    const row = await this.table.get(imageKey);
    if (!row) throw new ReviewRequestError(404, 'not-found', 'there is no result for this image');
    return row;
  }

  /** Only images that have a result row are served: the page is no general window on the bucket. */
  async image(imageKey: string): Promise<{ body: Readable; length: number | undefined; contentType: string }> {
    const row = await this.row(imageKey);
    const contentType = contentTypeOf(row);
    if (!contentType) throw new ReviewRequestError(404, 'not-an-image', 'this result is not a JPEG or PNG image classify could read');
    try {
      return { ...(await this.images.open(row)), contentType };
    } catch (error) {
      if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NoSuchVersion' || error.name === 'NotFound')) {
        throw new ReviewRequestError(404, 'image-gone', 'the image is no longer in the bucket', {}, { cause: error });
      }
      throw error;
    }
  }

  async decide(request: DecisionRequest): Promise<ItemView> {
    const row = await this.row(request.imageKey);
    const view = this.view(row);
    if (!view.decidable) throw new ReviewRequestError(400, 'not-decidable', `a ${view.status} result has no model answer to confirm or correct`);
    // The result's own labels count too: a row answered by an older model may carry one no longer trained.
    const known = new Set([...(await this.labelChoices()), ...view.labels.map((l) => l.name)]);
    if (!known.has(request.label)) throw new ReviewRequestError(400, 'bad-label', `label must be one of ${[...known].sort().join(', ')}, not "${request.label}" (the active model's labels, the training/ folders and this result's own)`);
    const review: ReviewFields = {
      reviewedLabel: request.label,
      reviewer: this.deps.reviewer,
      reviewedAt: new Date(this.deps.now()).toISOString(),
      agreement: request.label === view.label ? 'AGREED' : 'CORRECTED',
      ...(request.note !== undefined && request.note.trim() !== '' ? { reviewNote: request.note.trim() } : {}),
    };
    const outcome = await this.table.decide({ imageKey: request.imageKey, sequencer: request.sequencer, review });
    switch (outcome.kind) {
      case 'decided':
        return this.view(outcome.row);
      case 'missing':
        throw new ReviewRequestError(404, 'not-found', 'the result was deleted');
      case 'replaced':
        throw new ReviewRequestError(409, 'replaced', 'the image was uploaded again and has a new result; look at it again', { item: this.view(outcome.row) });
      case 'conflict': {
        const current = this.view(outcome.row);
        const by = current.review ? `${current.review.mine ? 'you' : current.review.reviewer} (${current.review.reviewedLabel}, ${current.review.reviewedAt})` : 'someone else';
        throw new ReviewRequestError(409, 'conflict', `already decided by ${by}; nothing was overwritten`, { item: current });
      }
    }
  }

  async undo(request: UndoRequest): Promise<ItemView> {
    const outcome = await this.table.undo({ imageKey: request.imageKey, reviewer: this.deps.reviewer, reviewedAt: request.reviewedAt });
    if (outcome.kind === 'refused') {
      if (!outcome.row) throw new ReviewRequestError(404, 'not-found', 'there is no result for this image');
      throw new ReviewRequestError(409, 'not-yours', 'only your own latest decision on this image can be undone', { item: this.view(outcome.row) });
    }
    // The copy belonged to the decision just removed: it must not train the next model.
    const trainingKey = looseString().parse(outcome.previous.trainingKey);
    if (trainingKey) await this.images.remove(trainingKey);
    return this.view(await this.row(request.imageKey));
  }

  /** Copies a decided image to `training/<reviewed label>/from-review/`; again on the same decision is a no-op. */
  async addToTraining(imageKey: string): Promise<ItemView> {
    const row = await this.row(imageKey);
    const review = reviewOf(row);
    if (!review) throw new ReviewRequestError(400, 'not-reviewed', 'decide the label first; only reviewed images are added to training');
    if (review.trainingKey !== undefined) return this.view(row);
    const trainingKey = await this.images.copyToTraining(row, review);
    const recorded = await this.table.recordTrainingCopy({ imageKey, reviewedAt: review.reviewedAt, trainingKey, copiedAt: new Date(this.deps.now()).toISOString() });
    if (!recorded) {
      // The decision changed while copying: the copy would carry a label nobody stands by.
      await this.images.remove(trainingKey);
      throw new ReviewRequestError(409, 'decision-changed', 'the decision changed while the image was being copied; nothing was added', { item: this.view(await this.row(imageKey)) });
    }
    return this.view(await this.row(imageKey));
  }

  /** One batch of "add every reviewed image in this view to training"; the page repeats with the cursor. */
  async addAllToTraining(filterInput: Readonly<Record<string, string>>, cursor: string | undefined): Promise<{ added: number; cursor: string | null }> {
    const parsed = worklistQuerySchema.safeParse(filterInput);
    if (!parsed.success) throw new ReviewRequestError(400, 'bad-request', `filter: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const filter = filterOf(parsed.data);
    const page = await this.table.page({ filter, segments: planWorklist(filter, this.deps.plan), from: this.decodeCursor(filter, cursor), limit: COPY_BATCH, onlyCopyable: true });
    let added = 0;
    for (const row of page.items) {
      try {
        await this.addToTraining(String(row.imageKey));
        added += 1;
      } catch (error) {
        // Someone changed that decision meanwhile: it is left out, the rest goes on.
        if (!(error instanceof ReviewRequestError)) throw error;
      }
    }
    return { added, cursor: page.next ? this.deps.cursors.encode(filter, page.next) : null };
  }

  /** The decidable labels (see labels.ts), read again at most every LABELS_TTL_MS so a promotion shows up. */
  async labelChoices(): Promise<string[]> {
    const now = this.deps.now();
    if (this.labels && now - this.labels.at < LABELS_TTL_MS) return this.labels.value;
    const value = await decidableLabels({ ...this.deps, results: this.table, positiveLabel: this.deps.plan.positiveLabel });
    this.labels = { at: now, value };
    return value;
  }

  async model(): Promise<ModelView> {
    return modelView({ documents: this.deps.documents, s3: this.deps.s3, registryTable: this.deps.registryTable, results: this.table, threshold: this.deps.plan.threshold, now: this.deps.now });
  }
}

/** The review service of one reviewer on a target's bucket and tables, with cursors signed by a fresh key. */
export function reviewServiceFor(
  target: Target,
  options: { readonly reviewer: string; readonly threshold: number | undefined; readonly positiveLabel?: string; readonly now: () => number },
): ReviewService {
  return new ReviewService({
    documents: target.clients.documents,
    s3: target.clients.s3,
    bucket: target.names.bucket,
    resultsTable: target.names.resultsTable,
    registryTable: target.names.registryTable,
    reviewer: options.reviewer,
    plan: { ...DEFAULT_PLAN, ...(options.positiveLabel ? { positiveLabel: options.positiveLabel } : {}), threshold: options.threshold },
    cursors: new CursorCodec(randomBytes(32)),
    now: options.now,
  });
}
