import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { EvaluationError, InvalidEventError } from '../errors.js';
import * as z from 'zod/mini';
import { isPlainObject, looseNumber, parseWith } from '../schema.js';
import { ProjectVersionSchema } from './project-version.js';
import type { GateSettings } from './prepare.js';
import type { GateRecord, LabelMetrics, TrainingRegistry, VersionStatus } from './registry.js';

export interface EvaluateDeps {
  readonly s3: S3Client;
  readonly registry: TrainingRegistry;
  readonly clock?: () => number;
}

export type GateReason = 'F1_BELOW_MINIMUM' | 'POSITIVE_LABEL_MISSING' | 'PNEUMONIA_RECALL_BELOW_MINIMUM' | 'WORSE_THAN_LIVE';

export interface Evaluation {
  readonly decision: 'ACCEPTED' | 'REJECTED';
  readonly reasons: readonly GateReason[];
  /** One sentence per reason (or the accepted metrics), for the execution's failure cause and the logs. */
  readonly summary: string;
  readonly projectVersionArn: string;
  readonly f1: number;
  readonly positiveRecall: number | null;
  readonly liveF1: number | null;
  readonly labels: readonly LabelMetrics[];
}

export interface SummaryMetrics {
  readonly f1: number;
  readonly labels: readonly LabelMetrics[];
}

const metricFields = { F1Score: looseNumber(), Precision: looseNumber(), Recall: looseNumber(), Threshold: looseNumber() };
/** Numbers nest under `Metrics` in the documented reference and sit on the object itself in the documented example. */
const metricsBlock = z.catch(z.optional(z.object(metricFields)), undefined);

const LabelResultSchema = z.object({
  Label: z.string({ error: 'a LabelEvaluationResults entry has no Label' }),
  NumberOfTestingImages: looseNumber(),
  Metrics: metricsBlock,
  ...metricFields,
});

const EvaluationSummarySchema = z.object(
  {
    AggregatedEvaluationResults: z.catch(z.optional(z.object({ F1Score: looseNumber(), Metrics: metricsBlock })), undefined),
    LabelEvaluationResults: z.array(z.unknown(), { error: 'evaluation summary has no LabelEvaluationResults list' }),
  },
  { error: 'evaluation summary is not a JSON object' },
);

function toEvaluationError(message: string): EvaluationError {
  return new EvaluationError(message);
}

/**
 * Reads the evaluation summary the service writes after training. The documented reference nests aggregate and
 * per-label numbers under `Metrics`, the documented example puts them directly on the object: both are accepted.
 */
export function parseEvaluationSummary(summary: unknown, fallbackF1?: number): SummaryMetrics {
  const parsed = parseWith(EvaluationSummarySchema, summary, toEvaluationError);
  const aggregate = parsed.AggregatedEvaluationResults;
  const f1 = aggregate?.F1Score ?? aggregate?.Metrics?.F1Score ?? fallbackF1;
  if (f1 === undefined) throw new EvaluationError('evaluation summary has no aggregate F1Score');
  // Entries that are not objects carry nothing to read; an object without a Label is a malformed summary.
  const labels = parsed.LabelEvaluationResults.filter(isPlainObject).map((raw): LabelMetrics => {
    const entry = parseWith(LabelResultSchema, raw, toEvaluationError);
    return {
      label: entry.Label,
      f1: entry.Metrics?.F1Score ?? entry.F1Score,
      precision: entry.Metrics?.Precision ?? entry.Precision,
      recall: entry.Metrics?.Recall ?? entry.Recall,
      threshold: entry.Metrics?.Threshold ?? entry.Threshold,
      testImages: entry.NumberOfTestingImages,
    };
  });
  return { f1, labels };
}

/** The gate: every rule that fails is reported, not only the first. */
export function gate(metrics: SummaryMetrics, settings: GateSettings, liveF1: number | undefined): { decision: Evaluation['decision']; reasons: GateReason[]; sentences: string[] } {
  const reasons: GateReason[] = [];
  const sentences: string[] = [];
  const fmt = (value: number): string => value.toFixed(3);
  if (metrics.f1 < settings.minF1) {
    reasons.push('F1_BELOW_MINIMUM');
    sentences.push(`F1 ${fmt(metrics.f1)} is below the minimum ${fmt(settings.minF1)}`);
  }
  const positive = metrics.labels.find((label) => label.label === settings.positiveLabel);
  if (positive?.recall === undefined) {
    reasons.push('POSITIVE_LABEL_MISSING');
    sentences.push(`the evaluation has no recall for ${settings.positiveLabel}`);
  } else if (positive.recall < settings.minPneumoniaRecall) {
    reasons.push('PNEUMONIA_RECALL_BELOW_MINIMUM');
    sentences.push(`${settings.positiveLabel} recall ${fmt(positive.recall)} is below the minimum ${fmt(settings.minPneumoniaRecall)}`);
  }
  if (liveF1 !== undefined && metrics.f1 < liveF1 - settings.maxF1Drop) {
    reasons.push('WORSE_THAN_LIVE');
    sentences.push(`F1 ${fmt(metrics.f1)} is more than ${fmt(settings.maxF1Drop)} below the live model's ${fmt(liveF1)}`);
  }
  return { decision: reasons.length === 0 ? 'ACCEPTED' : 'REJECTED', reasons, sentences };
}

const MISSING_GATE = 'Evaluate needs gate.minF1, gate.minPneumoniaRecall, gate.maxF1Drop and gate.positiveLabel';

/** The Evaluate task's payload: the plan's gate and the DescribeProjectVersions entry of the trained version. */
const EvaluateRequestSchema = z.object(
  {
    versionName: z.string({ error: 'Evaluate needs versionName, executionArn, gate and version' }),
    executionArn: z.string({ error: 'Evaluate needs versionName, executionArn, gate and version' }),
    gate: z.object(
      {
        minF1: z.number({ error: MISSING_GATE }),
        minPneumoniaRecall: z.number({ error: MISSING_GATE }),
        maxF1Drop: z.number({ error: MISSING_GATE }),
        positiveLabel: z.string({ error: MISSING_GATE }),
      },
      { error: 'Evaluate needs versionName, executionArn, gate and version' },
    ),
    version: ProjectVersionSchema,
  },
  { error: 'Evaluate expects an object payload' },
);

export type EvaluateRequest = z.output<typeof EvaluateRequestSchema>;

export function parseEvaluateRequest(event: unknown): EvaluateRequest {
  return parseWith(EvaluateRequestSchema, event, (message) => new InvalidEventError(message));
}

async function readSummary(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = response.Body ? await response.Body.transformToString() : '';
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new EvaluationError(`evaluation summary s3://${bucket}/${key} is not JSON`, { cause });
  }
}

/**
 * Reads the trained version's evaluation, applies the gate and records metrics and decision on the version item.
 * A rejection is a result, not an error: the state machine ends the run as rejected with these reasons.
 */
export async function evaluateVersion(deps: EvaluateDeps, request: EvaluateRequest): Promise<Evaluation> {
  const { version } = request;
  const projectVersionArn = version.ProjectVersionArn;
  if (projectVersionArn === undefined) throw new EvaluationError('the trained version has no ProjectVersionArn');
  const summaryObject = version.EvaluationResult?.Summary?.S3Object;
  const bucket = summaryObject?.Bucket;
  const key = summaryObject?.Name;
  if (bucket === undefined || key === undefined) {
    throw new EvaluationError(`version ${request.versionName} finished training without an evaluation summary`);
  }
  const metrics = parseEvaluationSummary(await readSummary(deps.s3, bucket, key), version.EvaluationResult?.F1Score);

  const live = await deps.registry.active();
  const liveF1 = live && live.versionName !== request.versionName ? live.f1 : undefined;
  const verdict = gate(metrics, request.gate, liveF1);
  const positiveRecall = metrics.labels.find((label) => label.label === request.gate.positiveLabel)?.recall ?? null;
  const summary =
    verdict.decision === 'ACCEPTED'
      ? `version ${request.versionName} accepted: F1 ${metrics.f1.toFixed(3)}, ${request.gate.positiveLabel} recall ${positiveRecall?.toFixed(3) ?? 'n/a'}`
      : `version ${request.versionName} rejected and not deployed: ${verdict.sentences.join('; ')}`;

  const gateRecord: GateRecord = { decision: verdict.decision, reasons: verdict.reasons, ...request.gate, liveF1 };
  const status: VersionStatus = verdict.decision === 'ACCEPTED' ? 'TRAINED' : 'REJECTED';
  await deps.registry.updateVersion(
    request.versionName,
    {
      status,
      projectVersionArn,
      f1: metrics.f1,
      labelMetrics: metrics.labels,
      gate: gateRecord,
      gateSummary: summary,
      evaluationSummary: `s3://${bucket}/${key}`,
      billableTrainingSeconds: version.BillableTrainingTimeInSeconds,
      updatedAt: new Date((deps.clock ?? Date.now)()).toISOString(),
    },
    request.executionArn,
  );
  return {
    decision: verdict.decision,
    reasons: verdict.reasons,
    summary,
    projectVersionArn,
    f1: metrics.f1,
    positiveRecall,
    liveF1: liveF1 ?? null,
    labels: metrics.labels,
  };
}
