import { InvalidEventError } from './errors.js';
import * as z from 'zod/mini';
import { looseString, parseWith } from './schema.js';

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

function requiredString(path: string): z.ZodMiniString {
  const missing = `${path} is missing or not a string`;
  return z.string({ error: missing }).check(z.minLength(1, missing));
}

function part<S extends z.core.$ZodLooseShape>(path: string, shape: S): z.ZodMiniObject<S> {
  return z.object(shape, { error: `${path} is missing or not an object` });
}

/** One S3 ObjectCreated record as classify reads it; `versionId` is optional because unversioned buckets send none. */
const S3RecordSchema = z.object(
  {
    eventSource: z.literal('aws:s3', { error: (issue) => `eventSource is "${String(issue.input)}", expected "aws:s3"` }),
    eventName: requiredString('eventName').check(
      z.startsWith('ObjectCreated:', { error: (issue) => `eventName "${String(issue.input)}" is not an ObjectCreated event` }),
    ),
    s3: part('s3', {
      bucket: part('s3.bucket', { name: requiredString('s3.bucket.name') }),
      object: part('s3.object', {
        key: requiredString('s3.object.key'),
        versionId: looseString(),
        sequencer: requiredString('s3.object.sequencer'),
      }),
    }),
    eventTime: requiredString('eventTime'),
  },
  { error: 'record is not an object' },
);

const NOT_S3 = 'event has no Records array; classify only accepts S3 notifications';
const S3EventSchema = z.object({ Records: z.array(z.unknown(), { error: NOT_S3 }) }, { error: NOT_S3 });

function parseRecord(record: unknown): InboxObjectEvent {
  const { s3, eventTime } = parseWith(S3RecordSchema, record, (message) => new InvalidEventError(message));
  const { versionId } = s3.object;
  return {
    bucket: s3.bucket.name,
    key: decodeS3Key(s3.object.key),
    // Unversioned buckets send no version id (or the string "null" in some tools); both mean "current".
    versionId: versionId && versionId !== 'null' ? versionId : undefined,
    sequencer: normalizeSequencer(s3.object.sequencer),
    eventTime,
  };
}

/**
 * Checks the envelope strictly (a non-S3 event is a wiring bug and throws) and each record on its own, so one
 * malformed record is reported without losing the others.
 */
export function parseS3Event(event: unknown): RecordParse[] {
  const { Records } = parseWith(S3EventSchema, event, (message) => new InvalidEventError(message));
  return Records.map((record: unknown): RecordParse => {
    try {
      return { ok: true, object: parseRecord(record) };
    } catch (error) {
      if (error instanceof InvalidEventError) return { ok: false, error };
      throw error;
    }
  });
}
