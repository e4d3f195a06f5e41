import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** One parsed S3 request: path-style bucket and literal (decoded) key. */
export interface S3Request {
  readonly method: string;
  readonly bucket: string;
  /** Decoded key; '' for a bucket-level request. */
  readonly key: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: AsyncIterable<Buffer>;
}

/** What to answer: status, headers, and an XML document or a stream of object bytes. */
export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Readable;
}

export function headerOf(request: Pick<S3Request, 'headers'>, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export const XML = { 'content-type': 'application/xml' } as const;
