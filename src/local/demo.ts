import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

export interface UploadedImage {
  readonly key: string;
  /** The folder name the image came from: its known label. */
  readonly label: string;
}

const IMAGE = /\.(jpe?g|png)$/i;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && IMAGE.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * Uploads `<dir>/<LABEL>/<file>` to `<prefix><LABEL>/<file>` (or `<prefix><file>` when `keepLabelFolder` is
 * false), a few at a time, and returns each key with the label its folder names.
 */
export async function uploadLabelledFolder(
  s3: S3Client,
  bucket: string,
  dir: string,
  prefix: string,
  keepLabelFolder: boolean,
): Promise<UploadedImage[]> {
  const files = await filesUnder(dir);
  const uploaded: UploadedImage[] = [];
  const concurrency = 8;
  for (let i = 0; i < files.length; i += concurrency) {
    await Promise.all(
      files.slice(i, i + concurrency).map(async (file) => {
        const [label = '', ...rest] = relative(dir, file).split(sep);
        const key = keepLabelFolder ? `${prefix}${label}/${rest.join('/')}` : `${prefix}${rest.join('/')}`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file) }));
        uploaded.push({ key, label });
      }),
    );
  }
  return uploaded;
}

export interface ResultForSummary {
  readonly key: string;
  readonly truth: string;
  readonly status: string | undefined;
  readonly label: string | undefined;
}

export interface DemoSummary {
  readonly total: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byLabel: Readonly<Record<string, number>>;
  /** Over images that got a label (CLASSIFIED or NEEDS_REVIEW). */
  readonly labelled: number;
  readonly accuracy: number;
  /** With `positive` as the positive class. */
  readonly sensitivity: number;
  readonly specificity: number;
  readonly f1: number;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Compares results with the labels the sample's folders give. */
export function summarize(results: readonly ResultForSummary[], positive: string): DemoSummary {
  const byStatus: Record<string, number> = {};
  const byLabel: Record<string, number> = {};
  let truePositive = 0;
  let falsePositive = 0;
  let trueNegative = 0;
  let falseNegative = 0;
  for (const result of results) {
    const status = result.status ?? 'MISSING';
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (result.label === undefined) continue;
    byLabel[result.label] = (byLabel[result.label] ?? 0) + 1;
    const predicted = result.label === positive;
    const actual = result.truth === positive;
    if (predicted && actual) truePositive += 1;
    else if (predicted) falsePositive += 1;
    else if (actual) falseNegative += 1;
    else trueNegative += 1;
  }
  const labelled = truePositive + falsePositive + trueNegative + falseNegative;
  const precision = ratio(truePositive, truePositive + falsePositive);
  const sensitivity = ratio(truePositive, truePositive + falseNegative);
  return {
    total: results.length,
    byStatus,
    byLabel,
    labelled,
    accuracy: ratio(truePositive + trueNegative, labelled),
    sensitivity,
    specificity: ratio(trueNegative, trueNegative + falsePositive),
    f1: ratio(2 * precision * sensitivity, precision + sensitivity),
  };
}
