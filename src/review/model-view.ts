import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ModelView } from './api-types.js';
import { TrainingRegistry } from '../lib/training/registry.js';
import { parseEvaluationSummary } from '../lib/training/evaluate.js';
import type { ReviewTable, Row } from './review-table.js';
import { reviewOf } from './review-table.js';
import { looseString } from '../lib/schema.js';

/*
 * "The model as pictures": the active version's evaluation (from its registry record and the evaluation summary
 * the service wrote), the confidence of recent results around the review threshold, and how often reviewers
 * agreed with the model, per day.
 */

export const HISTOGRAM_SAMPLE = 500;
export const HISTOGRAM_BIN = 5;
export const AGREEMENT_DAYS = 30;
const AGREEMENT_BUDGET = 5000;

const confusionSchema = z.array(z.object({ GroundTruthLabel: z.string(), PredictedLabel: z.string(), Value: z.number() }));

export interface ModelViewDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly registryTable: string;
  readonly results: ReviewTable;
  readonly threshold: number | undefined;
  readonly now: () => number;
}

async function readJson(s3: S3Client, uri: string): Promise<unknown> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an S3 URI: ${uri}`);
  const response = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return JSON.parse(response.Body ? await response.Body.transformToString() : '') as unknown;
}

async function evaluation(deps: ModelViewDeps, notes: string[]): Promise<Pick<ModelView, 'active' | 'labels' | 'confusion'>> {
  const registry = new TrainingRegistry(deps.documents, deps.registryTable);
  const active = await registry.active();
  if (!active) {
    notes.push('no model has been promoted yet');
    return { active: null, labels: [], confusion: null };
  }
  const summary = { versionName: active.versionName ?? null, state: active.state ?? null, f1: active.f1 ?? null, promotedAt: active.promotedAt ?? null };
  const record = active.versionName === undefined ? undefined : await registry.version(active.versionName);
  const uri = looseString().parse(record?.evaluationSummary);
  if (!uri) {
    notes.push(`the registry has no evaluation summary for version ${active.versionName ?? '(unnamed)'}`);
    return { active: summary, labels: [], confusion: null };
  }
  const document = await readJson(deps.s3, uri);
  const metrics = parseEvaluationSummary(document);
  const matrix = confusionSchema.safeParse((document as { AggregatedEvaluationResults?: { ConfusionMatrix?: unknown } }).AggregatedEvaluationResults?.ConfusionMatrix);
  let confusion: ModelView['confusion'] = null;
  if (matrix.success && matrix.data.length > 0) {
    const labels = [...new Set(matrix.data.flatMap((cell) => [cell.GroundTruthLabel, cell.PredictedLabel]))].sort();
    confusion = { labels, cells: matrix.data.map((cell) => ({ truth: cell.GroundTruthLabel, predicted: cell.PredictedLabel, fraction: cell.Value })) };
  } else {
    notes.push('the evaluation summary has no confusion matrix');
  }
  const labels = [...metrics.labels]
    .sort((a, b) => a.label.localeCompare(b.label))
    .map((m) => ({ label: m.label, f1: m.f1 ?? null, precision: m.precision ?? null, recall: m.recall ?? null, threshold: m.threshold ?? null, testImages: m.testImages ?? null }));
  return { active: summary, labels, confusion };
}

export function histogram(rows: readonly Row[], binWidth: number): ModelView['histogram'] {
  const bins = Array.from({ length: Math.ceil(100 / binWidth) }, (_, index) => ({ from: index * binWidth, classified: 0, needsReview: 0 }));
  let sample = 0;
  for (const row of rows) {
    if (typeof row.confidence !== 'number') continue;
    const bin = bins[Math.min(bins.length - 1, Math.floor(row.confidence / binWidth))];
    if (!bin) continue;
    sample += 1;
    if (row.status === 'NEEDS_REVIEW') bin.needsReview += 1;
    else bin.classified += 1;
  }
  return { binWidth, sample, bins };
}

export function agreementByDay(rows: readonly Row[]): ModelView['agreement']['days'] {
  const days = new Map<string, { day: string; agreed: number; corrected: number }>();
  for (const row of rows) {
    const review = reviewOf(row);
    if (!review) continue;
    const day = review.reviewedAt.slice(0, 10);
    const entry = days.get(day) ?? { day, agreed: 0, corrected: 0 };
    if (review.agreement === 'AGREED') entry.agreed += 1;
    else entry.corrected += 1;
    days.set(day, entry);
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

export async function modelView(deps: ModelViewDeps): Promise<ModelView> {
  const notes: string[] = [];
  const since = new Date(deps.now() - AGREEMENT_DAYS * 86_400_000).toISOString();
  const [evaluated, classified, needsReview, reviewedClassified, reviewedNeedsReview] = await Promise.all([
    evaluation(deps, notes),
    deps.results.newest('CLASSIFIED', HISTOGRAM_SAMPLE),
    deps.results.newest('NEEDS_REVIEW', HISTOGRAM_SAMPLE),
    deps.results.reviewedSince('CLASSIFIED', since, AGREEMENT_BUDGET),
    deps.results.reviewedSince('NEEDS_REVIEW', since, AGREEMENT_BUDGET),
  ]);
  // The newest HISTOGRAM_SAMPLE answers of either kind, so the mix of the two is the real one.
  const recent = [...classified, ...needsReview].sort((a, b) => String(b.processedAt).localeCompare(String(a.processedAt))).slice(0, HISTOGRAM_SAMPLE);
  const reviewed = [...reviewedClassified.rows, ...reviewedNeedsReview.rows];
  if (deps.threshold === undefined) notes.push('the review threshold is not known for this target (no ReviewThreshold output)');
  return {
    ...evaluated,
    threshold: deps.threshold ?? null,
    histogram: histogram(recent, HISTOGRAM_BIN),
    agreement: { days: agreementByDay(reviewed), reviewed: reviewed.length, complete: reviewedClassified.complete && reviewedNeedsReview.complete },
    notes,
  };
}
