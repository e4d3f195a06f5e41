import type { S3Event } from 'aws-lambda';
import type { ImageOutcome } from '../../../src/lib/image-outcome.js';
import { notificationRecord, singleRecordEvent } from '../../../src/local/s3-notifications.js';
import { REGION } from './stack.js';

/**
 * An S3 ObjectCreated notification as the local stack (and S3) sends it, with a chosen sequencer, for events
 * submitted straight to the classify invoker.
 */
export function recordedEvent(bucket: string, key: string, sequencer: string, size = 0): S3Event {
  return singleRecordEvent(
    notificationRecord({ bucket, key, eventName: 'ObjectCreated:Put', size, eTag: undefined, versionId: undefined }, sequencer, REGION, 'reliability'),
  );
}

/** The key an outcome is about. */
export function outcomeKey(outcome: ImageOutcome): string | undefined {
  switch (outcome.kind) {
    case 'written':
    case 'kept-newer':
      return outcome.row.imageKey;
    case 'skipped':
    case 'retryable':
      return outcome.key;
    case 'invalid-record':
      return undefined;
  }
}

/** Hex sequencer of 18 digits from a number, like the local stack's clock makes. */
export function sequencer(value: bigint): string {
  return value.toString(16).toUpperCase().padStart(18, '0');
}
