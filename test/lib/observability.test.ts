import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { reportOutcome } from '../../src/lib/observability.js';
import type { ResultRow } from '../../src/lib/tables/results.js';

const ROW: ResultRow = { imageKey: 'inbox/a.jpeg', bucket: 'b', status: 'NEEDS_REVIEW', label: 'VIRAL', confidence: 61, sequencer: '01', eventTime: '2026-01-01T00:00:00.000Z', processedAt: '2026-01-01T00:00:01.000Z', latencyMs: 40 };

type Emf = { _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] } } & Record<string, unknown>;

/** Every EMF document the metrics object writes, single metrics included, as Powertools serializes them. */
function capture(): { metrics: Metrics; documents: Emf[] } {
  const documents: Emf[] = [];
  const spy = (target: Metrics): Metrics => {
    vi.spyOn(target, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
      if (this.hasStoredMetrics()) documents.push(this.serializeMetrics());
      this.clearMetrics();
      return this;
    });
    const single = target.singleMetric.bind(target);
    vi.spyOn(target, 'singleMetric').mockImplementation(() => spy(single()));
    return target;
  };
  return { metrics: spy(new Metrics({ namespace: 'Pneumo', serviceName: 'classify' })), documents };
}

describe('reportOutcome metrics', () => {
  it.each(['NEEDS_REVIEW', 'CLASSIFIED'] as const)('a %s answer counts once per label and once per service, whatever the label is called', (status) => {
    const { metrics, documents } = capture();
    reportOutcome({ logger: new Logger({ logLevel: 'SILENT' }), metrics }, { kind: 'written', row: { ...ROW, status } });
    metrics.publishStoredMetrics();
    const name = status === 'CLASSIFIED' ? 'Classified' : 'NeedsReview';
    const series = documents.flatMap((doc) => doc._aws.CloudWatchMetrics.flatMap((set) => set.Metrics.filter((m) => m.Name === name).map(() => ({ dimensions: set.Dimensions.flat().sort(), label: doc.label, value: doc[name] }))));
    expect(series).toEqual([
      { dimensions: ['label', 'service'], label: 'VIRAL', value: 1 },
      // The review-share alarm's series: no label dimension.
      { dimensions: ['service'], label: undefined, value: 1 },
    ]);
  });
});
