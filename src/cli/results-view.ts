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

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** `arn:…:project/<p>/version/<name>/<ts>` → `<name>`. */
export function versionNameOfArn(arn: string | null): string | null {
  if (!arn) return null;
  const match = /\/version\/([^/]+)\/\d+$/.exec(arn);
  return match?.[1] ?? arn;
}

export function toView(item: Readonly<Record<string, unknown>>): ResultView {
  const labels = Array.isArray(item.labels)
    ? item.labels.flatMap((entry: unknown) => {
        if (typeof entry !== 'object' || entry === null) return [];
        const { name, confidence } = entry as Record<string, unknown>;
        return typeof name === 'string' && typeof confidence === 'number' ? [{ name, confidence }] : [];
      })
    : [];
  const arn = str(item.modelVersionArn);
  return {
    key: str(item.imageKey) ?? '',
    status: str(item.status) ?? 'UNKNOWN',
    label: str(item.label),
    confidence: num(item.confidence),
    labels,
    reason: str(item.reason),
    detail: str(item.detail),
    modelVersion: versionNameOfArn(arn),
    modelVersionArn: arn,
    processedAt: str(item.processedAt) ?? '',
    eventTime: str(item.eventTime),
    bucket: str(item.bucket),
    size: num(item.size),
    width: num(item.width),
    height: num(item.height),
    imageFormat: str(item.imageFormat),
    eTag: str(item.eTag),
    objectVersionId: str(item.objectVersionId),
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
