import { createHmac, timingSafeEqual } from 'node:crypto';
import { DEFAULT_POSITIVE_LABEL } from '../lib/config.js';
import type { ResultStatus } from '../lib/result-status.js';
import { labelPartition, statusPartition } from '../lib/tables/results.js';
import type { IndexSlice, SliceCursor } from '../lib/tables/results.js';
import type { WorklistFilter } from './schemas.js';

/*
 * The worklist order (NEEDS_REVIEW first, then PNEUMONIA by confidence, then the rest) as a list of segments,
 * each one Query of an existing index, newest first. The indexes sort by processedAt only, so "by confidence" is
 * a walk through the positive label's partition once per confidence band, highest band first, with the band as a
 * filter: every band re-reads the partition (within the date range), which is why bands are as wide as they are
 * and start at the review threshold. An exact order would need an index sorted by confidence, a third one written
 * on every result; bands give the clinician the order that matters (surest positives first) on the two there are.
 */

/** One index partition with the filter fields that belong to it (see the results table module). */
export type Segment = IndexSlice;

export interface PlanSettings {
  readonly positiveLabel: string;
  /** Top-label confidence (0–100) below which classify says NEEDS_REVIEW; CLASSIFIED rows are at or above it. */
  readonly threshold: number | undefined;
  readonly bandWidth: number;
}

export const DEFAULT_PLAN: Omit<PlanSettings, 'threshold'> = { positiveLabel: DEFAULT_POSITIVE_LABEL, bandWidth: 5 };

/** Statuses whose rows have no model answer; they come last, for completeness, and cannot be decided. */
const UNANSWERED: readonly ResultStatus[] = ['PENDING', 'REJECTED', 'FAILED'];

function bands(settings: PlanSettings): { from: number; to: number }[] {
  const floor = Math.max(0, Math.min(100, settings.threshold ?? 0));
  const result: { from: number; to: number }[] = [];
  for (let to = 100; to > floor; to -= settings.bandWidth) result.push({ from: Math.max(floor, to - settings.bandWidth), to });
  return result.length > 0 ? result : [{ from: 0, to: 100 }];
}

/** CLASSIFIED rows, positive label by confidence band first, then every other label newest first. */
function classifiedSegments(label: string | undefined, settings: PlanSettings): Segment[] {
  const positive = bands(settings).map((confidence): Segment => ({ ...labelPartition(settings.positiveLabel), status: 'CLASSIFIED', confidence }));
  if (label === settings.positiveLabel) return positive;
  if (label !== undefined) return [{ ...labelPartition(label), status: 'CLASSIFIED' }];
  return [...positive, { ...statusPartition('CLASSIFIED'), notLabel: settings.positiveLabel }];
}

export function planWorklist(filter: Pick<WorklistFilter, 'status' | 'label'>, settings: PlanSettings): Segment[] {
  const { status, label } = filter;
  const needsReview: Segment = label === undefined ? statusPartition('NEEDS_REVIEW') : { ...statusPartition('NEEDS_REVIEW'), label };
  // Rows without a model answer have no label, so a label filter leaves none of them.
  const unanswered = (statuses: readonly ResultStatus[]): Segment[] => (label === undefined ? statuses.map(statusPartition) : []);
  if (status === 'NEEDS_REVIEW') return [needsReview];
  if (status === 'CLASSIFIED') return classifiedSegments(label, settings);
  if (status !== undefined) return unanswered([status]);
  return [needsReview, ...classifiedSegments(label, settings), ...unanswered(UNANSWERED)];
}

/* ------------------------------------------------------------------ cursors */

/** The segment, and the ExclusiveStartKey of its next Query (absent at the segment's start). */
export type CursorState = SliceCursor;

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** Canonical text of a filter, so a cursor only continues the list it came from. */
function filterText(filter: WorklistFilter): string {
  const entries = Object.entries(filter as Readonly<Record<string, unknown>>).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

/**
 * Opaque, signed cursors: the page sends back what it got and cannot forge a start key or continue a different
 * filter with it. The key is per server process, so cursors end with the process, like the session.
 */
export class CursorCodec {
  constructor(private readonly key: Uint8Array) {}

  private sign(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }

  encode(filter: WorklistFilter, state: CursorState): string {
    const body = Buffer.from(JSON.stringify({ f: filterText(filter), s: state.segment, k: state.startKey ?? null })).toString('base64url');
    return `${body}.${this.sign(body).toString('base64url')}`;
  }

  decode(filter: WorklistFilter, cursor: string): CursorState {
    const [body, signature, ...rest] = cursor.split('.');
    if (body === undefined || signature === undefined || rest.length > 0) throw new InvalidCursorError('cursor is malformed');
    const expected = this.sign(body);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidCursorError('cursor was not issued by this server (or the server restarted); reload the list');
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { f: string; s: number; k: Record<string, string> | null };
    if (parsed.f !== filterText(filter)) throw new InvalidCursorError('cursor belongs to another filter; reload the list');
    return { segment: parsed.s, startKey: parsed.k ?? undefined };
  }
}
