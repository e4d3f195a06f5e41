import { readResultRow } from '../lib/result-row.js';
import type { Format } from './format.js';
import { percent, printJson, printLines, renderCsv, renderTable } from './format.js';
import type { Io } from './io.js';

/** A results-table row as the CLI shows it: stable field names, confidence 0–100, the model's version name. */
export interface ResultView {
  readonly key: string;
  readonly status: string;
  readonly label: string | null;
  readonly confidence: number | null;
  readonly labels: readonly { readonly name: string; readonly confidence: number }[];
  readonly reason: string | null;
  readonly detail: string | null;
  readonly modelVersion: string | null;
  readonly modelVersionArn: string | null;
  readonly processedAt: string;
  readonly eventTime: string | null;
  readonly bucket: string | null;
  readonly size: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly imageFormat: string | null;
  readonly eTag: string | null;
  readonly objectVersionId: string | null;
}

/** `arn:…:project/<p>/version/<name>/<ts>` → `<name>`. */
export function versionNameOfArn(arn: string | null): string | null {
  if (!arn) return null;
  const match = /\/version\/([^/]+)\/\d+$/.exec(arn);
  return match?.[1] ?? arn;
}

export function toView(item: Readonly<Record<string, unknown>>): ResultView {
  const row = readResultRow(item);
  const arn = row.modelVersionArn ?? null;
  return {
    key: row.imageKey ?? '',
    status: row.status ?? 'UNKNOWN',
    label: row.label ?? null,
    confidence: row.confidence ?? null,
    labels: row.labels,
    reason: row.reason ?? null,
    detail: row.detail ?? null,
    modelVersion: versionNameOfArn(arn),
    modelVersionArn: arn,
    processedAt: row.processedAt ?? '',
    eventTime: row.eventTime ?? null,
    bucket: row.bucket ?? null,
    size: row.size ?? null,
    width: row.width ?? null,
    height: row.height ?? null,
    imageFormat: row.imageFormat ?? null,
    eTag: row.eTag ?? null,
    objectVersionId: row.objectVersionId ?? null,
  };
}

export function printResults(io: Io, views: readonly ResultView[], format: Format): void {
  if (format === 'json') {
    printJson(io, views);
    return;
  }
  if (format === 'csv') {
    printLines(
      io,
      renderCsv(views, [
        { header: 'key', value: (v) => v.key },
        { header: 'status', value: (v) => v.status },
        { header: 'label', value: (v) => v.label },
        { header: 'confidence', value: (v) => v.confidence },
        { header: 'labels', value: (v) => v.labels.map((l) => `${l.name}:${l.confidence}`).join(';') },
        { header: 'reason', value: (v) => v.reason },
        { header: 'detail', value: (v) => v.detail },
        { header: 'modelVersion', value: (v) => v.modelVersion },
        { header: 'processedAt', value: (v) => v.processedAt },
      ]),
    );
    return;
  }
  if (views.length === 0) {
    io.err('no results');
    return;
  }
  printLines(
    io,
    renderTable(views, [
      { header: 'PROCESSED AT', value: (v) => v.processedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') },
      { header: 'STATUS', value: (v) => v.status },
      { header: 'LABEL', value: (v) => v.label ?? '-' },
      { header: 'CONF', value: (v) => percent(v.confidence), align: 'right' },
      { header: 'REASON', value: (v) => v.reason ?? '-' },
      { header: 'MODEL', value: (v) => v.modelVersion ?? '-' },
      { header: 'KEY', value: (v) => v.key },
    ]),
  );
}
