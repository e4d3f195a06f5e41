import { DescribeProjectsCommand, DescribeProjectVersionsCommand } from '@aws-sdk/client-rekognition';
import type { RekognitionClient } from '@aws-sdk/client-rekognition';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ResultsTable } from './tables/results.js';

/*
 * The state an operator's alarms and health view need but no AWS service publishes as a metric: how long the
 * oldest image has waited for a model, how many wait, and how many inference units bill right now. Read from
 * the byStatus index (two queries, no scan) and from Rekognition's project description.
 */

export interface Backlog {
  readonly pendingImages: number;
  /** The oldest PENDING row, by the time it was stored as PENDING. */
  readonly oldestPending: { readonly imageKey: string; readonly since: string } | undefined;
}

export interface Serving {
  /** Versions in the RUNNING state (or STARTING/STOPPING: they bill too). */
  readonly billingVersions: readonly { readonly versionName: string; readonly status: string; readonly minInferenceUnits: number }[];
  /** Sum of the billing versions' minimum units: what the hour costs at least. */
  readonly inferenceUnits: number;
}

export interface Gauges extends Backlog, Serving {
  /** Seconds since the oldest PENDING row was stored; 0 when nothing waits. */
  readonly oldestPendingAgeSeconds: number;
}

/** Statuses of a version that bills by the inference-unit hour. */
const BILLING_STATUSES = new Set(['RUNNING', 'STARTING', 'STOPPING']);

export async function readBacklog(documents: DynamoDBDocumentClient, resultsTable: string): Promise<Backlog> {
  const results = new ResultsTable(documents, resultsTable);
  const first = await results.oldest('PENDING');
  const pendingImages = await results.count('PENDING');
  const oldestPending =
    first && typeof first.imageKey === 'string' && typeof first.processedAt === 'string'
      ? { imageKey: first.imageKey, since: first.processedAt }
      : undefined;
  return { pendingImages: Math.max(pendingImages, oldestPending ? 1 : 0), oldestPending };
}

export async function readServing(rekognition: RekognitionClient, projectName: string): Promise<Serving> {
  const projects = await rekognition.send(new DescribeProjectsCommand({ ProjectNames: [projectName] }));
  const projectArn = projects.ProjectDescriptions?.[0]?.ProjectArn;
  if (!projectArn) return { billingVersions: [], inferenceUnits: 0 };
  const billingVersions: Serving['billingVersions'][number][] = [];
  let nextToken: string | undefined;
  do {
    const page = await rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, NextToken: nextToken }));
    for (const version of page.ProjectVersionDescriptions ?? []) {
      const status = version.Status ?? '';
      if (!BILLING_STATUSES.has(status)) continue;
      const versionName = version.ProjectVersionArn?.split('/version/')[1]?.split('/')[0] ?? '?';
      billingVersions.push({ versionName, status, minInferenceUnits: version.MinInferenceUnits ?? 1 });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return { billingVersions, inferenceUnits: billingVersions.reduce((sum, version) => sum + version.minInferenceUnits, 0) };
}

export interface GaugeDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly rekognition: RekognitionClient;
  readonly resultsTable: string;
  readonly projectName: string;
  readonly now?: () => number;
}

export async function readGauges(deps: GaugeDeps): Promise<Gauges> {
  const [backlog, serving] = await Promise.all([readBacklog(deps.documents, deps.resultsTable), readServing(deps.rekognition, deps.projectName)]);
  const now = (deps.now ?? Date.now)();
  const since = backlog.oldestPending ? Date.parse(backlog.oldestPending.since) : Number.NaN;
  const oldestPendingAgeSeconds = Number.isFinite(since) ? Math.max(0, Math.round((now - since) / 1000)) : 0;
  return { ...backlog, ...serving, oldestPendingAgeSeconds };
}
