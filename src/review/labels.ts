import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { labelMetrics } from '../cli/registry-view.js';
import { readResultRow } from '../lib/result-row.js';
import { ACTIVE_MODEL_ID, RegistryTable, versionItemId } from '../lib/tables/registry.js';
import { LABEL_NAME } from '../lib/training/dataset.js';
import { TRAINING_ROOT } from './images.js';
import type { ReviewTable } from './review-table.js';

/*
 * The labels a reviewer may choose: whatever this site trains, not a fixed NORMAL/PNEUMONIA. The active model's
 * labels (its evaluation, copied onto the registry's active item at promotion) together with the
 * `training/<LABEL>/` folders, so a label whose folder exists but that no model has learnt yet can be given. With
 * neither a model nor folders (a new stage, or one whose model was trained elsewhere), the labels the newest
 * results carry, and NORMAL and the positive label, the labels of the dataset the product is built on.
 */

/** Newest results of each answered status read when neither a model nor a training folder names a label. */
export const RESULT_SAMPLE = 50;
/** The negative label of the Kermany chest X-ray dataset, which the bundled sample and the product's defaults use. */
const NORMAL = 'NORMAL';

export interface LabelSources {
  readonly documents: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly registryTable: string;
  readonly results: ReviewTable;
  readonly positiveLabel: string;
}

async function modelLabels(sources: LabelSources): Promise<string[]> {
  const registry = new RegistryTable(sources.documents, sources.registryTable);
  const active = await registry.get(ACTIVE_MODEL_ID);
  const fromActive = labelMetrics(active).map((metric) => metric.label);
  if (fromActive.length > 0 || typeof active?.versionName !== 'string') return fromActive;
  // An active item promoted before it carried the metrics: the version's own evaluation record has them.
  return labelMetrics(await registry.get(versionItemId(active.versionName))).map((metric) => metric.label);
}

/** First-level folders under training/, one delimited listing (a page holds up to 1 000 folders). */
async function folderLabels(sources: LabelSources): Promise<string[]> {
  const labels: string[] = [];
  let token: string | undefined;
  do {
    const page = await sources.s3.send(new ListObjectsV2Command({ Bucket: sources.bucket, Prefix: TRAINING_ROOT, Delimiter: '/', ContinuationToken: token }));
    for (const { Prefix } of page.CommonPrefixes ?? []) if (Prefix !== undefined) labels.push(Prefix.slice(TRAINING_ROOT.length, -1));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return labels;
}

async function resultLabels(sources: LabelSources): Promise<string[]> {
  const rows = (await Promise.all([sources.results.newest('NEEDS_REVIEW', RESULT_SAMPLE), sources.results.newest('CLASSIFIED', RESULT_SAMPLE)])).flat();
  return rows.map(readResultRow).flatMap((row) => [...row.labels.map((entry) => entry.name), ...(row.label === undefined ? [] : [row.label])]);
}

/** The decidable labels in a stable order (by name), which is also the order the page assigns keys in. */
export async function decidableLabels(sources: LabelSources): Promise<string[]> {
  const [fromModel, fromFolders] = await Promise.all([modelLabels(sources), folderLabels(sources)]);
  let found = [...fromModel, ...fromFolders].filter((label) => LABEL_NAME.test(label));
  if (found.length === 0) found = [...(await resultLabels(sources)), NORMAL, sources.positiveLabel].filter((label) => LABEL_NAME.test(label));
  return [...new Set(found)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
