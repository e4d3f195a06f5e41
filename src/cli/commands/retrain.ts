import { InvalidTrainingInputError, VersionExistsError } from '../../lib/errors.js';
import { parseTrainingInput } from '../../lib/training/input.js';
import { readableCause } from '../../lib/training/outcome.js';
import { versionItemId } from '../../lib/tables/registry.js';
import { startRetrain } from '../../lib/training/trigger.js';
import type { CommandContext } from '../context.js';
import { EXIT, OperationFailedError, UsageError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { decimal, duration, printJson, printLines, renderTable } from '../format.js';
import { consoleLink, followExecution } from '../follow.js';
import type { ExecutionEnd } from '../follow.js';
import { gateOf, getRegistryItem, labelMetrics, num, str } from '../registry-view.js';
import type { GateView, LabelMetricView } from '../registry-view.js';
import { stateMachineArn } from '../target.js';

export interface RetrainOptions {
  readonly versionName?: string | undefined;
  readonly minF1?: number | undefined;
  readonly minRecall?: number | undefined;
  readonly trainingPrefix?: string | undefined;
  readonly testingPrefix?: string | undefined;
  readonly minUnits?: number | undefined;
  readonly maxUnits?: number | undefined;
  /** false with --no-start: train and gate, but do not start or promote. */
  readonly start: boolean;
  readonly wait: boolean;
  readonly pollMs?: number | undefined;
  readonly format: Format;
}

/** Placeholders for the stage's defaults: the state machine applies the real ones, the CLI only checks shapes. */
const SHAPE_ONLY_DEFAULTS = { minF1: 0, minPneumoniaRecall: 0, maxF1Drop: 0, minInferenceUnits: 1, maxInferenceUnits: 100 };

/** The execution input with only what was asked for, checked by the same parser the state machine's Lambda uses. */
export function retrainInput(options: RetrainOptions, now: Date): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (options.versionName !== undefined) input.versionName = options.versionName;
  if (options.trainingPrefix !== undefined) input.trainingPrefix = options.trainingPrefix;
  if (options.testingPrefix !== undefined) input.testingPrefix = options.testingPrefix;
  if (options.minF1 !== undefined) input.minF1 = options.minF1;
  if (options.minRecall !== undefined) input.minPneumoniaRecall = options.minRecall;
  if (options.minUnits !== undefined) input.minInferenceUnits = options.minUnits;
  if (options.maxUnits !== undefined) input.maxInferenceUnits = options.maxUnits;
  if (!options.start) input.autoStart = false;
  try {
    parseTrainingInput(input, SHAPE_ONLY_DEFAULTS, now.toISOString());
  } catch (error) {
    if (error instanceof InvalidTrainingInputError) throw new UsageError(error.message);
    throw error;
  }
  return input;
}

export interface RetrainReport {
  readonly versionName: string;
  readonly executionArn: string;
  readonly status: string;
  readonly outcome: string | null;
  readonly error: string | null;
  readonly cause: string | null;
  readonly elapsedSeconds: number;
  readonly f1: number | null;
  readonly labels: readonly LabelMetricView[];
  readonly gate: GateView | null;
  readonly gateSummary: string | null;
  readonly projectVersionArn: string | null;
}

function printReport(ctx: CommandContext, report: RetrainReport): void {
  const lines = [
    `version     ${report.versionName}`,
    `execution   ${report.status} after ${duration(report.elapsedSeconds * 1000)} (${report.executionArn})`,
    `outcome     ${report.outcome ?? '-'}`,
    `F1          ${decimal(report.f1)}`,
    `gate        ${report.gate ? `${report.gate.decision}${report.gate.reasons.length ? ` (${report.gate.reasons.join(', ')})` : ''}` : '-'}`,
  ];
  if (report.gateSummary) lines.push(`            ${report.gateSummary}`);
  if (report.error) lines.push(`error       ${report.error}: ${readableCause(report.cause ?? '')}`);
  printLines(ctx.io, lines);
  if (report.labels.length > 0) {
    ctx.io.out('');
    printLines(
      ctx.io,
      renderTable(report.labels, [
        { header: 'LABEL', value: (l) => l.label },
        { header: 'F1', value: (l) => decimal(l.f1), align: 'right' },
        { header: 'PRECISION', value: (l) => decimal(l.precision), align: 'right' },
        { header: 'RECALL', value: (l) => decimal(l.recall), align: 'right' },
        { header: 'THRESHOLD', value: (l) => decimal(l.threshold), align: 'right' },
        { header: 'TEST IMAGES', value: (l) => (l.testImages === null ? '-' : String(l.testImages)), align: 'right' },
      ]),
    );
  }
}

/** What the execution and the version item say about a finished retrain. */
export async function retrainReport(ctx: CommandContext, versionName: string, end: ExecutionEnd): Promise<RetrainReport> {
  const item = await getRegistryItem(ctx.target, versionItemId(versionName));
  const output = typeof end.output === 'object' && end.output !== null ? (end.output as Record<string, unknown>) : undefined;
  return {
    versionName,
    executionArn: end.executionArn,
    status: end.status,
    outcome: str(item, 'outcome') ?? str(output, 'outcome') ?? null,
    error: end.error ?? null,
    cause: end.cause ?? null,
    elapsedSeconds: Math.round(end.elapsedMs / 1000),
    f1: num(item, 'f1') ?? null,
    labels: labelMetrics(item),
    gate: gateOf(item),
    gateSummary: str(item, 'gateSummary') ?? null,
    projectVersionArn: str(item, 'projectVersionArn') ?? null,
  };
}

/** `pneumo retrain`: starts train-and-deploy under its deterministic name; --wait follows it and reports. */
export async function retrain(ctx: CommandContext, options: RetrainOptions): Promise<ExitCode> {
  const now = new Date(ctx.now());
  const input = retrainInput(options, now);
  const arn = stateMachineArn(ctx.target, 'trainAndDeploy');
  let started;
  try {
    started = await startRetrain(ctx.target.clients.sfn, arn, input, now);
  } catch (error) {
    if (error instanceof VersionExistsError) throw new OperationFailedError(`${error.message} (pass --version-name)`);
    throw error;
  }
  ctx.io.err(`started retrain of model version ${started.versionName}${options.start ? '' : ' (--no-start: it will not be started or promoted)'}: ${started.executionArn}`);
  const link = consoleLink(ctx, started.executionArn);
  if (link) ctx.io.err(`  ${link}`);
  if (!options.wait) {
    if (options.format === 'json') printJson(ctx.io, { versionName: started.versionName, executionArn: started.executionArn, status: 'RUNNING' });
    else ctx.io.out(started.executionArn);
    return EXIT.ok;
  }
  // A training runs for an hour or more on AWS: a poll every 30 s is plenty and keeps API calls low.
  const pollMs = options.pollMs ?? (ctx.target.kind === 'aws' ? 30_000 : ctx.target.pollMs);
  const end = await followExecution(ctx, started.executionArn, { label: `retrain ${started.versionName}`, pollMs });
  const report = await retrainReport(ctx, started.versionName, end);
  if (options.format === 'json') printJson(ctx.io, report);
  else printReport(ctx, report);
  if (end.status === 'SUCCEEDED') {
    ctx.io.err(report.outcome === 'TRAINED' ? `version ${started.versionName} trained and passed the gate; not started (--no-start)` : `version ${started.versionName} deployed and promoted`);
    return EXIT.ok;
  }
  ctx.io.err(
    report.gate?.decision === 'REJECTED' || end.error === 'ModelRejected'
      ? `the gate refused version ${started.versionName}: nothing was deployed`
      : `retrain of ${started.versionName} ${end.status.toLowerCase()}: ${end.error ?? ''}${end.cause ? `: ${readableCause(end.cause)}` : ''}`,
  );
  return EXIT.failed;
}
