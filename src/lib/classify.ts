import { DetectCustomLabelsCommand } from '@aws-sdk/client-rekognition';
import type { RekognitionClient } from '@aws-sdk/client-rekognition';
import type { S3Client } from '@aws-sdk/client-s3';
import { RecordsNotProcessedError, RegistryError } from './errors.js';
import type { ImageOutcome } from './image-outcome.js';
import { inspectObject } from './image-check.js';
import type { ImageFacts, ObjectFacts } from './image-check.js';
import type { ModelRegistry } from './model-registry.js';
import { reportOutcome } from './observability.js';
import type { Telemetry } from './observability.js';
import type { FailedReason, PendingReason, RejectReason } from './result-status.js';
import { isSettled } from './tables/results.js';
import type { LabelScore, ResultRow, ResultsTable } from './tables/results.js';
import { INBOX_PREFIX, parseS3Event } from './s3-event.js';
import type { InboxObjectEvent } from './s3-event.js';
import type { ServingHook } from './serving/classify-hook.js';

export interface ClassifyDeps extends Telemetry {
  readonly s3: S3Client;
  readonly rekognition: RekognitionClient;
  readonly results: ResultsTable;
  readonly registry: ModelRegistry;
  /** Top-label confidence (0–100) below which a result needs a human look. */
  readonly reviewThreshold: number;
  readonly clock?: () => number;
  /** On-demand start and usage marks (src/lib/serving); absent, classify only stores rows. */
  readonly serving?: ServingHook;
}

/** What classification decided for one image, before it becomes a row. */
export type Verdict =
  | {
      readonly status: 'CLASSIFIED' | 'NEEDS_REVIEW';
      readonly label: string | undefined;
      readonly confidence: number | undefined;
      readonly labels: readonly LabelScore[];
      readonly modelVersionArn: string;
      readonly detail?: string;
    }
  | { readonly status: 'REJECTED'; readonly reason: RejectReason; readonly detail: string }
  | { readonly status: 'PENDING'; readonly reason: PendingReason; readonly modelVersionArn?: string; readonly detail?: string }
  | { readonly status: 'FAILED'; readonly reason: FailedReason; readonly detail: string };

const REJECTING_ERRORS: Readonly<Record<string, RejectReason>> = {
  InvalidImageFormatException: 'invalid-image-format',
  ImageTooLargeException: 'image-too-large',
  InvalidS3ObjectException: 'invalid-s3-object',
  InvalidParameterException: 'invalid-parameter',
};

/**
 * Maps a failure to the row it deserves; `undefined` means a later attempt may succeed (throttling, 5xx,
 * network, anything unknown), so the event goes back to Lambda's retries and finally the DLQ.
 */
export function verdictForError(error: unknown): Verdict | undefined {
  if (!(error instanceof Error)) return undefined;
  const rejectReason = REJECTING_ERRORS[error.name];
  if (rejectReason) return { status: 'REJECTED', reason: rejectReason, detail: error.message };
  if (error.name === 'ResourceNotReadyException') return { status: 'PENDING', reason: 'model-not-running', detail: error.message };
  if (error.name === 'ResourceNotFoundException') return { status: 'FAILED', reason: 'model-not-found', detail: error.message };
  if (error instanceof RegistryError) return { status: 'FAILED', reason: 'registry-invalid', detail: error.message };
  const httpStatus = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (error.name === 'AccessDeniedException' || error.name === 'AccessDenied' || httpStatus === 403) {
    return { status: 'FAILED', reason: 'access-denied', detail: `${error.name}: ${error.message}` };
  }
  return undefined;
}

async function detectLabels(deps: ClassifyDeps, event: InboxObjectEvent, object: ObjectFacts, modelVersionArn: string): Promise<Verdict> {
  const response = await deps.rekognition.send(
    new DetectCustomLabelsCommand({
      ProjectVersionArn: modelVersionArn,
      Image: { S3Object: { Bucket: event.bucket, Name: event.key, Version: object.versionId } },
      // Zero so every label comes back: the row keeps the full distribution, not just the winner.
      MinConfidence: 0,
    }),
  );
  const labels = (response.CustomLabels ?? [])
    .filter((label): label is { Name: string; Confidence: number } => typeof label.Name === 'string' && typeof label.Confidence === 'number')
    .map((label) => ({ name: label.Name, confidence: label.Confidence }))
    .sort((a, b) => b.confidence - a.confidence);
  const top = labels[0];
  if (!top) {
    return { status: 'NEEDS_REVIEW', label: undefined, confidence: undefined, labels, modelVersionArn, detail: 'model returned no labels' };
  }
  const status = top.confidence >= deps.reviewThreshold ? 'CLASSIFIED' : 'NEEDS_REVIEW';
  return { status, label: top.name, confidence: top.confidence, labels, modelVersionArn };
}

async function classifyImage(deps: ClassifyDeps, event: InboxObjectEvent, object: ObjectFacts): Promise<Verdict> {
  const lookup = await deps.registry.activeModel();
  if (lookup.kind === 'none') return { status: 'PENDING', reason: 'no-model', detail: 'no model has been promoted yet' };
  const { model } = lookup;
  if (!model.running) {
    return { status: 'PENDING', reason: 'model-not-running', modelVersionArn: model.projectVersionArn, detail: 'model is stopped' };
  }
  try {
    return await detectLabels(deps, event, object, model.projectVersionArn);
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'ResourceNotReadyException') throw error;
    // The cached version may have been replaced by a promotion that stopped it; ask the registry once more.
    deps.registry.invalidate();
    const fresh = await deps.registry.activeModel();
    if (fresh.kind === 'model' && fresh.model.running && fresh.model.projectVersionArn !== model.projectVersionArn) {
      return detectLabels(deps, event, object, fresh.model.projectVersionArn);
    }
    throw error;
  }
}

function toRow(event: InboxObjectEvent, verdict: Verdict, facts: { object?: ObjectFacts; image?: ImageFacts | undefined }, startedAt: number, now: number): ResultRow {
  const { object, image } = facts;
  return {
    ...verdict,
    imageKey: event.key,
    bucket: event.bucket,
    objectVersionId: object?.versionId ?? event.versionId,
    eTag: object?.eTag,
    size: object?.size,
    imageFormat: image?.format,
    width: image?.width,
    height: image?.height,
    sequencer: event.sequencer,
    eventTime: event.eventTime,
    processedAt: new Date(now).toISOString(),
    latencyMs: now - startedAt,
  };
}

async function store(deps: ClassifyDeps, row: ResultRow): Promise<ImageOutcome> {
  if (!(await deps.results.save(row))) return { kind: 'kept-newer', row };
  await deps.serving?.afterStore(row, (deps.clock ?? Date.now)());
  return { kind: 'written', row };
}

/** Classifies one object; never throws for a per-image problem, only reports it. */
export async function classifyObject(deps: ClassifyDeps, event: InboxObjectEvent): Promise<ImageOutcome> {
  const clock = deps.clock ?? Date.now;
  const startedAt = clock();
  const { key } = event;
  if (!key.startsWith(INBOX_PREFIX)) return { kind: 'skipped', key, why: 'outside-inbox' };
  if (key.endsWith('/')) return { kind: 'skipped', key, why: 'folder-marker' };

  let object: ObjectFacts | undefined;
  let image: ImageFacts | undefined;
  let verdict: Verdict;
  try {
    // Checked before anything is paid for: a duplicate delivery of an answered event costs one GetItem.
    if (isSettled(await deps.results.order(key), event.sequencer)) return { kind: 'skipped', key, why: 'already-settled' };
    const inspection = await inspectObject(deps.s3, event.bucket, key, event.versionId);
    switch (inspection.kind) {
      case 'deleted':
      case 'superseded':
        return { kind: 'skipped', key, why: inspection.kind };
      case 'rejected':
        ({ object, image } = inspection);
        verdict = { status: 'REJECTED', reason: inspection.reason, detail: inspection.detail };
        break;
      case 'image':
        ({ object, image } = inspection);
        verdict = await classifyImage(deps, event, object);
        break;
    }
  } catch (error) {
    const mapped = verdictForError(error);
    if (!mapped) {
      await recordRetryableFailure(deps, toRow(event, retryingVerdict(error), { object, image }, startedAt, clock()));
      return { kind: 'retryable', key, error };
    }
    verdict = mapped;
  }
  try {
    return await store(deps, toRow(event, verdict, { object, image }, startedAt, clock()));
  } catch (error) {
    return { kind: 'retryable', key, error };
  }
}

function retryingVerdict(error: unknown): Verdict {
  const name = error instanceof Error ? error.name : 'UnknownError';
  return { status: 'FAILED', reason: 'retryable-error', detail: `${name}; Lambda retries the event, then keeps it in the dead-letter queue` };
}

/** Makes an image in retry visible as FAILED; best effort, because the table may be what is failing. */
async function recordRetryableFailure(deps: ClassifyDeps, row: ResultRow): Promise<void> {
  try {
    await deps.results.save(row);
  } catch (error) {
    deps.logger.warn('could not record the FAILED row', { key: row.imageKey, errorName: error instanceof Error ? error.name : 'unknown' });
  }
}

/**
 * Handles every record of an S3 notification, reporting each outcome. Records that could not be processed
 * (retryable failures, malformed records) make the invocation fail at the end, after the others are stored,
 * so Lambda retries it and the dead-letter queue finally keeps it.
 */
export async function classifyS3Event(deps: ClassifyDeps, event: unknown): Promise<ImageOutcome[]> {
  const outcomes: ImageOutcome[] = [];
  for (const parsed of parseS3Event(event)) {
    const outcome = parsed.ok ? await classifyObject(deps, parsed.object) : { kind: 'invalid-record' as const, error: parsed.error };
    reportOutcome(deps, outcome);
    outcomes.push(outcome);
  }
  const retryable = outcomes.filter((o) => o.kind === 'retryable');
  const invalid = outcomes.filter((o) => o.kind === 'invalid-record');
  if (retryable.length > 0 || invalid.length > 0) {
    throw new RecordsNotProcessedError(
      retryable.map((o) => o.key),
      invalid.length,
      { cause: retryable[0]?.error ?? invalid[0]?.error },
    );
  }
  return outcomes;
}
