import { InvalidEventError } from './errors.js';

/*
 * Hand-written on purpose, with model-registry.ts and env.ts: these are the parsers on classify's import path, and
 * zod there costs classify's cold start about 11 % of the client-only floor (measured: CPU time of a fresh import
 * 1.11× the floor without zod, 1.24× with it; the goal is 1.15×). Every other input goes through src/lib/schema.ts.
 */

export const INBOX_PREFIX = 'inbox/';

/** What classify needs from one S3 ObjectCreated record, with the key already decoded. */
export interface InboxObjectEvent {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | undefined;
  readonly sequencer: string;
  readonly eventTime: string;
}

export type RecordParse =
  | { readonly ok: true; readonly object: InboxObjectEvent }
  | { readonly ok: false; readonly error: InvalidEventError };

// Sequencers are hex strings of varying length; S3 says to right-pad the shorter one with zeros before a
// lexicographic comparison. Padding every stored value to one width lets DynamoDB compare them as strings.
const SEQUENCER_WIDTH = 64;
const HEX = /^[0-9A-Fa-f]+$/;

export function normalizeSequencer(sequencer: string): string {
  if (!HEX.test(sequencer) || sequencer.length > SEQUENCER_WIDTH) {
    throw new InvalidEventError(`s3.object.sequencer "${sequencer}" is not a hex string of at most ${SEQUENCER_WIDTH} digits`);
  }
  return sequencer.toUpperCase().padEnd(SEQUENCER_WIDTH, '0');
}

/** S3 URL-encodes keys in notifications and writes spaces as `+`. */
export function decodeS3Key(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch (cause) {
    throw new InvalidEventError(`s3.object.key "${encoded}" is not valid URL encoding`, { cause });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringAt(record: Record<string, unknown>, path: readonly string[]): string | undefined {
  let node: unknown = record;
  for (const part of path) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

function requireString(record: Record<string, unknown>, path: readonly string[]): string {
  const value = stringAt(record, path);
  if (value === undefined || value === '') throw new InvalidEventError(`${path.join('.')} is missing or not a string`);
  return value;
}

function parseRecord(record: unknown): InboxObjectEvent {
  if (!isObject(record)) throw new InvalidEventError('record is not an object');
  const source = stringAt(record, ['eventSource']);
  if (source !== 'aws:s3') throw new InvalidEventError(`eventSource is "${String(source)}", expected "aws:s3"`);
  const eventName = requireString(record, ['eventName']);
  if (!eventName.startsWith('ObjectCreated:')) {
    throw new InvalidEventError(`eventName "${eventName}" is not an ObjectCreated event`);
  }
  const versionId = stringAt(record, ['s3', 'object', 'versionId']);
  return {
    bucket: requireString(record, ['s3', 'bucket', 'name']),
    key: decodeS3Key(requireString(record, ['s3', 'object', 'key'])),
    // Unversioned buckets send no version id (or the string "null" in some tools); both mean "current".
    versionId: versionId && versionId !== 'null' ? versionId : undefined,
    sequencer: normalizeSequencer(requireString(record, ['s3', 'object', 'sequencer'])),
    eventTime: requireString(record, ['eventTime']),
  };
}

/**
 * Checks the envelope strictly (a non-S3 event is a wiring bug and throws) and each record on its own, so one
 * malformed record is reported without losing the others.
 */
export function parseS3Event(event: unknown): RecordParse[] {
  if (!isObject(event) || !Array.isArray(event.Records)) {
    throw new InvalidEventError('event has no Records array; classify only accepts S3 notifications');
  }
  return event.Records.map((record: unknown): RecordParse => {
    try {
      return { ok: true, object: parseRecord(record) };
    } catch (error) {
      if (error instanceof InvalidEventError) return { ok: false, error };
      throw error;
    }
  });
}
