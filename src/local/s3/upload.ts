import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { BlobStore } from './blobs.js';
import { checksumAlgorithm, CHECKSUM_ALGORITHMS, runningChecksum } from './checksums.js';
import type { ChecksumAlgorithm } from './checksums.js';
import { invalidRequest, S3Error } from './errors.js';

/** S3's limit for one PUT (larger objects need a multipart upload). */
const MAX_PUT_BYTES = 5 * 1024 ** 3;

const incompleteBody = (): S3Error => new S3Error('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header');

/**
 * Decodes an `aws-chunked` body (what the SDK and the CLI send with STREAMING-* payload hashes and checksum
 * trailers): `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0…\r\n`, then trailer lines and an empty line.
 * Chunk signatures are not checked (the local S3 does not verify signatures).
 */
async function* decodeAwsChunked(source: AsyncIterable<Buffer>, trailers: Map<string, string>): AsyncGenerator<Buffer> {
  let buffer: Buffer = Buffer.alloc(0);
  let remaining = -1;
  let state = 'size' as 'size' | 'data' | 'crlf' | 'trailer' | 'done';
  for await (const piece of source) {
    buffer = buffer.length === 0 ? piece : Buffer.concat([buffer, piece]);
    for (;;) {
      if (state === 'size' || state === 'trailer' || state === 'crlf') {
        const end = buffer.indexOf('\r\n');
        if (end < 0) {
          if (buffer.length > 8192) throw invalidRequest('the aws-chunked body has a line longer than 8 KiB');
          break;
        }
        const line = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 2);
        if (state === 'crlf') {
          if (line !== '') throw invalidRequest('an aws-chunked chunk is longer than its declared size');
          state = 'size';
        } else if (state === 'size') {
          const size = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(line)?.[1];
          if (size === undefined) throw invalidRequest('the aws-chunked body has a malformed chunk header');
          remaining = Number.parseInt(size, 16);
          state = remaining === 0 ? 'trailer' : 'data';
        } else if (line === '') {
          state = 'done';
        } else {
          const colon = line.indexOf(':');
          if (colon <= 0) throw invalidRequest('the aws-chunked body has a malformed trailer');
          trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
        continue;
      }
      if (state === 'data') {
        if (buffer.length === 0) break;
        const take = Math.min(remaining, buffer.length);
        yield buffer.subarray(0, take);
        buffer = buffer.subarray(take);
        remaining -= take;
        if (remaining === 0) state = 'crlf';
        continue;
      }
      if (buffer.length > 0) throw invalidRequest('the aws-chunked body has bytes after its final chunk');
      break;
    }
  }
  // A body whose trailer section ends without its empty line is still complete (some clients omit it).
  if (state !== 'done' && !(state === 'trailer' && buffer.length === 0)) throw incompleteBody();
}

export interface StoredBody {
  readonly size: number;
  readonly md5: string;
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly value: string } | undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The checksum the client asks S3 to verify (header or trailer) or to compute (x-amz-sdk-checksum-algorithm). */
function requestedChecksum(headers: IncomingHttpHeaders): { algorithm: ChecksumAlgorithm; sent: string | undefined; trailer: boolean } | undefined {
  const named = CHECKSUM_ALGORITHMS.filter((algorithm) => header(headers, `x-amz-checksum-${algorithm.toLowerCase()}`) !== undefined);
  if (named.length > 1) throw invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const [inHeader] = named;
  if (inHeader) return { algorithm: inHeader, sent: header(headers, `x-amz-checksum-${inHeader.toLowerCase()}`), trailer: false };
  const trailer = header(headers, 'x-amz-trailer');
  if (trailer !== undefined) {
    const algorithm = /^x-amz-checksum-(\w+)$/i.exec(trailer.trim())?.[1];
    const known = algorithm === undefined ? undefined : checksumAlgorithm(algorithm);
    if (!known) throw invalidRequest(`The value specified in the x-amz-trailer header is not supported: ${trailer}`);
    return { algorithm: known, sent: undefined, trailer: true };
  }
  const sdk = header(headers, 'x-amz-sdk-checksum-algorithm');
  if (sdk === undefined) return undefined;
  const known = checksumAlgorithm(sdk);
  if (!known) throw invalidRequest(`Checksum algorithm provided is unsupported. Please try again with any of the valid types: ${CHECKSUM_ALGORITHMS.join(', ')}`);
  return { algorithm: known, sent: undefined, trailer: false };
}

const CHECKSUM_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

function checkChecksumValue(algorithm: ChecksumAlgorithm, value: string): void {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || Buffer.from(value, 'base64').length !== CHECKSUM_BYTES[algorithm]) {
    throw invalidRequest(`Value for x-amz-checksum-${algorithm.toLowerCase()} header is invalid.`);
  }
}

/** Where a body's bytes go: a new blob for an object, memory for a small request document. */
interface BodySink {
  write(chunks: AsyncIterable<Buffer>, onChunk: (chunk: Buffer) => void): Promise<number>;
  discard(): Promise<void>;
}

/**
 * Checks what the request declares before a byte is kept (length, Content-MD5 form, checksum form), then
 * streams the body into `sink` while computing its MD5 (the ETag) and any additional checksum, and refuses it
 * (the sink discarded) when a digest the client sent does not match.
 */
async function receiveBody(request: AsyncIterable<Buffer>, headers: IncomingHttpHeaders, sink: BodySink): Promise<StoredBody> {
  const streaming = (header(headers, 'x-amz-content-sha256') ?? '').startsWith('STREAMING-') || /(^|,)\s*aws-chunked\s*(,|$)/.test(header(headers, 'content-encoding') ?? '');
  const lengthName = streaming ? 'x-amz-decoded-content-length' : 'content-length';
  const lengthHeader = header(headers, lengthName);
  if (lengthHeader === undefined && (streaming || header(headers, 'transfer-encoding') !== undefined)) {
    throw new S3Error('MissingContentLength', 411, `You must provide the ${streaming ? 'x-amz-decoded-content-length' : 'Content-Length'} HTTP header.`);
  }
  if (!/^\d+$/.test(lengthHeader ?? '0')) throw invalidRequest(`${lengthName} is not a number`);
  const declared = Number(lengthHeader ?? '0');
  if (declared > MAX_PUT_BYTES) throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(declared), MaxSizeAllowed: String(MAX_PUT_BYTES) });
  const contentMd5 = header(headers, 'content-md5');
  if (contentMd5 !== undefined && (!/^[A-Za-z0-9+/]{22}==$/.test(contentMd5) || Buffer.from(contentMd5, 'base64').length !== 16)) {
    throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.', { 'Content-MD5': contentMd5 });
  }
  const requested = requestedChecksum(headers);
  if (requested?.sent !== undefined) checkChecksumValue(requested.algorithm, requested.sent);

  const trailers = new Map<string, string>();
  const md5 = createHash('md5');
  const checksum = requested ? runningChecksum(requested.algorithm) : undefined;
  const size = await sink.write(streaming ? decodeAwsChunked(request, trailers) : request, (chunk) => {
    md5.update(chunk);
    checksum?.update(chunk);
  });
  const fail = async (error: S3Error): Promise<never> => {
    await sink.discard();
    throw error;
  };
  if (size !== declared) return fail(incompleteBody());
  const digest = md5.digest();
  if (contentMd5 !== undefined && digest.toString('base64') !== contentMd5) {
    return fail(new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.', { ExpectedDigest: contentMd5, CalculatedDigest: digest.toString('base64') }));
  }
  if (!requested || !checksum) return { size, md5: digest.toString('hex'), checksum: undefined };
  const computed = checksum.digest();
  const sent = requested.trailer ? trailers.get(`x-amz-checksum-${requested.algorithm.toLowerCase()}`) : requested.sent;
  if (requested.trailer && sent === undefined) return fail(invalidRequest(`The x-amz-checksum-${requested.algorithm.toLowerCase()} trailer announced in x-amz-trailer was not sent`));
  if (sent !== undefined && sent !== computed) {
    return fail(new S3Error('BadDigest', 400, `The ${requested.algorithm} you specified did not match the calculated checksum.`));
  }
  return { size, md5: digest.toString('hex'), checksum: { algorithm: requested.algorithm, value: computed } };
}

/** An object's body, verified, into a new blob. */
export function storeBody(request: AsyncIterable<Buffer>, headers: IncomingHttpHeaders, blobs: BlobStore, blobId: string): Promise<StoredBody> {
  return receiveBody(request, headers, { write: (chunks, onChunk) => blobs.write(blobId, chunks, onChunk), discard: () => blobs.remove(blobId) });
}

/** A request document (DeleteObjects, versioning configuration), verified, at most `limit` bytes. */
export async function readSmallBody(request: AsyncIterable<Buffer>, headers: IncomingHttpHeaders, limit: number): Promise<{ readonly bytes: Buffer; readonly digested: boolean }> {
  const parts: Buffer[] = [];
  const received = await receiveBody(request, headers, {
    write: async (chunks, onChunk) => {
      let size = 0;
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > limit) throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
        onChunk(chunk);
        parts.push(chunk);
      }
      return size;
    },
    discard: () => Promise.resolve(),
  });
  return { bytes: Buffer.concat(parts), digested: header(headers, 'content-md5') !== undefined || received.checksum !== undefined };
}
