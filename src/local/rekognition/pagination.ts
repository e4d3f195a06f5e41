import { createHash } from 'node:crypto';
import { ApiError } from './errors.js';

/*
 * Paging for the Describe* listings, as the service pages them: MaxResults 1–100 (default 100), an opaque NextToken
 * while more results remain, InvalidPaginationTokenException for a token the query did not issue.
 *
 * The token holds the sort key of the last item it returned rather than an offset: a version created or deleted
 * between two calls would shift an offset, so a caller walking every page (the stop machine) could miss a running
 * version. It also holds a fingerprint of the operation and its filters, so a token cannot be replayed against
 * another query.
 */

const MAX_PAGE = 100;

export interface Page<T> {
  readonly items: T[];
  readonly nextToken: string | undefined;
}

interface TokenBody {
  readonly v: 1;
  /** Fingerprint of the operation and its filters. */
  readonly q: string;
  /** Sort key of the last item returned. */
  readonly after: string;
}

const invalidToken = (): ApiError => new ApiError('InvalidPaginationTokenException', 'Invalid pagination token');

function fingerprint(operation: string, filters: unknown): string {
  return createHash('sha256').update(JSON.stringify([operation, filters])).digest('base64url').slice(0, 22);
}

function encode(body: TokenBody): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

function decode(token: string, query: string): string {
  if (token.length === 0 || token.length > 1024) throw invalidToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidToken();
  const { v, q, after } = parsed as Partial<Record<keyof TokenBody, unknown>>;
  if (v !== 1 || q !== query || typeof after !== 'string') throw invalidToken();
  return after;
}

/**
 * One page of `items`, listed in ascending order of `keyOf` (keys must be unique). `filters` are the request fields
 * that select the items; MaxResults (checked to be 1–100 by the request schemas, 100 when absent) may differ from
 * page to page, as the SDK paginators allow.
 */
export function paginate<T>(
  operation: string,
  request: { readonly MaxResults?: number | undefined; readonly NextToken?: string | undefined; readonly filters: unknown },
  items: readonly T[],
  keyOf: (item: T) => string,
): Page<T> {
  const size = request.MaxResults ?? MAX_PAGE;
  const query = fingerprint(operation, request.filters);
  const after = request.NextToken === undefined ? undefined : decode(request.NextToken, query);
  const ordered = items.map((item) => ({ key: keyOf(item), item })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const start = after === undefined ? 0 : ordered.findIndex((entry) => entry.key > after);
  const rest = start === -1 ? [] : ordered.slice(start);
  const page = rest.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map((entry) => entry.item),
    nextToken: rest.length > size && last ? encode({ v: 1, q: query, after: last.key }) : undefined,
  };
}

/** Zero-padded so that string order is numeric order for any epoch-milliseconds value. */
export const sortableTime = (ms: number): string => String(ms).padStart(16, '0');

/** A key that lists newer first: a later time gives a smaller key. */
export const newestFirst = (ms: number, tieBreak: string): string => `${sortableTime(Number.MAX_SAFE_INTEGER - ms)}|${tieBreak}`;

export const oldestFirst = (ms: number, tieBreak: string): string => `${sortableTime(ms)}|${tieBreak}`;
