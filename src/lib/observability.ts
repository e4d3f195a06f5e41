import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ImageOutcome } from './image-outcome.js';

export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Flushes what the invocation stored. Per-label and per-reason counts are single metrics, flushed as they are
 * made, so an invocation that only rejected or skipped images stores none; Powertools would then log a warning
 * per invocation (a line per REJECTED image on AWS) for a normal run.
 */
export function publishMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** Count with one dimension, emitted on its own so per-label and per-reason series stay separate. */
function countBy(metrics: Metrics, name: string, dimension: string, value: string): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

/**
 * The one place an outcome becomes a log line and metrics. Logs name the object, never its bytes.
 */
export function reportOutcome({ logger, metrics }: Telemetry, outcome: ImageOutcome): void {
  switch (outcome.kind) {
    case 'written':
    case 'kept-newer': {
      const { row } = outcome;
      const fields = {
        key: row.imageKey,
        outcome: row.status,
        reason: row.reason,
        label: row.label,
        confidence: row.confidence,
        latencyMs: row.latencyMs,
        stored: outcome.kind === 'written',
      };
      if (row.status === 'FAILED') logger.error('classify failed', fields);
      else logger.info('classify result', fields);
      if (outcome.kind === 'kept-newer') return;
      if (row.status === 'CLASSIFIED' || row.status === 'NEEDS_REVIEW') {
        const answer = row.status === 'CLASSIFIED' ? 'Classified' : 'NeedsReview';
        countBy(metrics, answer, 'label', row.label ?? 'none');
        // The same count per service only: the review-share alarm sums it without knowing which labels a model has.
        metrics.addMetric(answer, MetricUnit.Count, 1);
        metrics.addMetric('ClassifyLatency', MetricUnit.Milliseconds, row.latencyMs);
      } else if (row.status === 'REJECTED') {
        countBy(metrics, 'Rejected', 'reason', row.reason ?? 'unknown');
      } else if (row.status === 'PENDING') {
        metrics.addMetric('Pending', MetricUnit.Count, 1);
      } else {
        countBy(metrics, 'Failed', 'reason', row.reason ?? 'unknown');
      }
      return;
    }
    case 'skipped':
      logger.info('classify skipped', { key: outcome.key, outcome: 'SKIPPED', reason: outcome.why });
      metrics.addMetric('Skipped', MetricUnit.Count, 1);
      return;
    case 'invalid-record':
      logger.error('invalid S3 record', { outcome: 'INVALID', reason: outcome.error.message });
      metrics.addMetric('InvalidRecords', MetricUnit.Count, 1);
      return;
    case 'retryable':
      logger.warn('retryable failure; the event will be retried', {
        key: outcome.key,
        outcome: 'RETRY',
        errorName: outcome.error instanceof Error ? outcome.error.name : typeof outcome.error,
        errorMessage: outcome.error instanceof Error ? outcome.error.message : undefined,
      });
      metrics.addMetric('RetryableErrors', MetricUnit.Count, 1);
      return;
  }
}
