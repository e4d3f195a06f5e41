import type { InvalidEventError } from './errors.js';
import type { ResultRow } from './tables/results.js';

/** What became of one S3 record classify was given (not to be confused with how a state-machine run ended). */
export type SkipReason = 'outside-inbox' | 'folder-marker' | 'deleted' | 'superseded' | 'already-settled';

export type ImageOutcome =
  | { readonly kind: 'written'; readonly row: ResultRow }
  /** The table already held a newer event's result (or this event's final one); the row was not stored. */
  | { readonly kind: 'kept-newer'; readonly row: ResultRow }
  | { readonly kind: 'skipped'; readonly key: string; readonly why: SkipReason }
  | { readonly kind: 'invalid-record'; readonly error: InvalidEventError }
  | { readonly kind: 'retryable'; readonly key: string; readonly error: unknown };
