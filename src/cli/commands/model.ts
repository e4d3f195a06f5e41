import { DescribeProjectsCommand, DescribeProjectVersionsCommand } from '@aws-sdk/client-rekognition';
import type { ProjectVersionDescription } from '@aws-sdk/client-rekognition';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { estimateMonthlyCost, parseServingSchedule } from '../../lib/cost.js';
import type { CostEstimate } from '../../lib/cost.js';
import { ACTIVE_MODEL_ID, TRAINING_LOCK_ID } from '../../lib/tables/registry.js';
import { readableCause } from '../../lib/training/outcome.js';
import type { CommandContext } from '../context.js';
import { EXIT, OperationFailedError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { decimal, duration, printJson, printLines, renderCsv, renderTable } from '../format.js';
import { consoleLink, currentState, followExecution } from '../follow.js';
import { gateOf, getRegistryItem, listVersionItems, num, str } from '../registry-view.js';
import type { Item } from '../registry-view.js';
import { callerName } from '../caller.js';
import { holdLine, holdView, servingView } from '../serving-view.js';
import type { HoldView, ServingView } from '../serving-view.js';
import { ServingStore } from '../../lib/serving/store.js';
import { stateMachineArn } from '../target.js';

export interface ServingCost {
  readonly from: string;
  readonly to: string;
  readonly hours: number;
  /** Units the estimate assumes: the minimum the model was started with; auto-scaling may add up to the maximum. */
  readonly inferenceUnits: number;
  readonly maxInferenceUnits: number;
  readonly pricePerUnitHour: number;
  readonly estimatedUsd: number;
  readonly estimatedMaxUsd: number;
  /** True while the window is still open (the model runs now). */
  readonly ongoing: boolean;
}

export interface ActiveView {
  readonly versionName: string | null;
  readonly projectVersionArn: string | null;
  readonly state: string | null;
  readonly serviceStatus: string | null;
  readonly f1: number | null;
  readonly minInferenceUnits: number | null;
  readonly maxInferenceUnits: number | null;
  readonly startedAt: string | null;
  readonly promotedAt: string | null;
  readonly stoppedAt: string | null;
  readonly cost: ServingCost | null;
}

export interface VersionView {
  readonly versionName: string;
  readonly status: string | null;
  readonly serviceStatus: string | null;
  readonly f1: number | null;
  readonly minInferenceUnits: number | null;
  readonly maxInferenceUnits: number | null;
  readonly gate: string | null;
  readonly gateReasons: readonly string[];
  readonly requestedAt: string | null;
  readonly active: boolean;
}

export interface ModelStatus {
  readonly active: ActiveView | null;
  /** The retrain holding the training lock, if one runs (or died without releasing it; the lock then expires). */
  readonly training: {
    readonly versionName: string;
    readonly executionArn: string | null;
    readonly acquiredAt: string | null;
    readonly expiresAt: string | null;
    /** The execution's status and the state it is in, as Step Functions reports them (null when it cannot be asked). */
    readonly executionStatus: string | null;
    readonly state: string | null;
  } | null;
  readonly versions: readonly VersionView[];
  /** Monthly inference cost, always-on vs the stage's serving window, at the given price. */
  readonly monthlyCost: CostEstimate | null;
  /** Why the model started and stopped, the stage's serving policy, and its cost on the stage's recent traffic. */
  readonly serving: ServingView;
  /** A user's hold in force (`pneumo model stop`): no automatic start until it is released or lapses. */
  readonly hold: HoldView | null;
  /** Why part of the picture is missing (e.g. the service could not be asked). */
  readonly notes: readonly string[];
}

/** How the serving projection replays the stage's traffic. */
export interface ProjectionOptions {
  readonly windowDays: number;
  readonly startLatencyMinutes: number;
}

const DEFAULT_PROJECTION: ProjectionOptions = { windowDays: 7, startLatencyMinutes: 10 };

function monthlyCost(schedule: unknown, price: number, notes: string[]): CostEstimate | null {
  if (schedule === undefined) {
    notes.push('the stack does not describe its serving schedule (no ServingSchedule output): no monthly cost table');
    return null;
  }
  try {
    return estimateMonthlyCost(parseServingSchedule(schedule), { pricePerUnitHour: price });
  } catch (error) {
    notes.push(`no monthly cost table: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

/**
 * The cost of the current serving window (or the last one, if stopped): hours since the model started × units ×
 * price. Rekognition bills running inference units by the hour; the minimum units are always billed while the
 * model runs, auto-scaling can add up to the maximum, so the maximum gives the upper bound.
 */
export function servingCost(active: Item, now: number, price: number): ServingCost | null {
  const from = str(active, 'startedAt') ?? str(active, 'promotedAt');
  if (from === undefined) return null;
  const running = str(active, 'state') !== 'STOPPED';
  const stoppedAt = str(active, 'stoppedAt');
  if (!running && (stoppedAt === undefined || stoppedAt < from)) return null;
  const to = running ? new Date(now).toISOString() : (stoppedAt ?? from);
  const hours = Math.max(0, (Date.parse(to) - Date.parse(from)) / 3_600_000);
  const units = num(active, 'minInferenceUnits') ?? 1;
  const maxUnits = Math.max(units, num(active, 'maxInferenceUnits') ?? units);
  const round = (usd: number): number => Math.round(usd * 100) / 100;
  return {
    from,
    to,
    hours: Math.round(hours * 100) / 100,
    inferenceUnits: units,
    maxInferenceUnits: maxUnits,
    pricePerUnitHour: price,
    estimatedUsd: round(hours * units * price),
    estimatedMaxUsd: round(hours * maxUnits * price),
    ongoing: running,
  };
}

/** The project's versions as the service sees them; undefined (with a note) when it cannot be asked. */
async function serviceVersions(ctx: CommandContext, notes: string[]): Promise<Map<string, ProjectVersionDescription> | undefined> {
  const projectName = ctx.target.names.projectName;
  if (!projectName) {
    notes.push('the target does not name its Rekognition project; service status not shown');
    return undefined;
  }
  const rekognition = ctx.target.clients.rekognition;
  try {
    const { ProjectDescriptions = [] } = await rekognition.send(new DescribeProjectsCommand({ ProjectNames: [projectName] }));
    const projectArn = ProjectDescriptions[0]?.ProjectArn;
    const versions = new Map<string, ProjectVersionDescription>();
    if (!projectArn) {
      notes.push(`Rekognition has no project ${projectName} yet (no model was trained)`);
      return versions;
    }
    let token: string | undefined;
    do {
      const page = await rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, NextToken: token }));
      for (const version of page.ProjectVersionDescriptions ?? []) {
        const name = /\/version\/([^/]+)\/\d+$/.exec(version.ProjectVersionArn ?? '')?.[1];
        if (name) versions.set(name, version);
      }
      token = page.NextToken;
    } while (token);
    return versions;
  } catch (error) {
    notes.push(`could not ask Rekognition (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}); registry only`);
    return undefined;
  }
}

/** Where the retrain holding the lock is; a lock whose execution ended is stale (it is released when it expires). */
async function retrainRun(ctx: CommandContext, executionArn: string, expiresAt: string | undefined, notes: string[]): Promise<{ status: string | undefined; state: string | undefined } | undefined> {
  try {
    const [described, state] = await Promise.all([ctx.target.clients.sfn.send(new DescribeExecutionCommand({ executionArn })), currentState(ctx, executionArn)]);
    if (described.status !== 'RUNNING') {
      notes.push(`the training lock belongs to ${executionArn}, which is ${String(described.status)}${described.error ? ` (${described.error})` : ''}: no retrain can start until it expires at ${expiresAt ?? '?'}`);
    }
    return { status: described.status, state };
  } catch (error) {
    notes.push(`could not ask Step Functions about the retrain ${executionArn} (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`);
    return undefined;
  }
}

export async function modelStatusData(ctx: CommandContext, price: number, projection: ProjectionOptions = DEFAULT_PROJECTION): Promise<ModelStatus> {
  const notes: string[] = [];
  const [active, lock, items, service, hold] = await Promise.all([
    getRegistryItem(ctx.target, ACTIVE_MODEL_ID),
    getRegistryItem(ctx.target, TRAINING_LOCK_ID),
    listVersionItems(ctx.target),
    serviceVersions(ctx, notes),
    holdView(ctx.target, ctx.now()),
  ]);
  const lockedVersion = str(lock, 'versionName');
  const lockArn = str(lock, 'executionArn');
  const run = lockedVersion && lockArn ? await retrainRun(ctx, lockArn, str(lock, 'expiresAt'), notes) : undefined;
  const training = lockedVersion
    ? {
        versionName: lockedVersion,
        executionArn: lockArn ?? null,
        acquiredAt: str(lock, 'acquiredAt') ?? null,
        expiresAt: str(lock, 'expiresAt') ?? null,
        executionStatus: run?.status ?? null,
        state: run?.state ?? null,
      }
    : null;
  const activeName = str(active, 'versionName');
  const byName = new Map<string, Item>(items.flatMap((item) => (typeof item.versionName === 'string' ? [[item.versionName, item]] : [])));
  const names = new Set([...byName.keys(), ...(service?.keys() ?? [])]);
  const versions = [...names]
    .map((name): VersionView => {
      const item = byName.get(name);
      const described = service?.get(name);
      const gate = gateOf(item);
      return {
        versionName: name,
        status: str(item, 'status') ?? null,
        serviceStatus: described?.Status ?? null,
        f1: num(item, 'f1') ?? described?.EvaluationResult?.F1Score ?? null,
        minInferenceUnits: described?.MinInferenceUnits ?? null,
        maxInferenceUnits: described?.MaxInferenceUnits ?? null,
        gate: gate?.decision ?? null,
        gateReasons: gate?.reasons ?? [],
        requestedAt: str(item, 'requestedAt') ?? described?.CreationTimestamp?.toISOString() ?? null,
        active: name === activeName,
      };
    })
    .sort((a, b) => (b.requestedAt ?? '').localeCompare(a.requestedAt ?? ''));
  for (const version of versions) {
    if (!version.active && (version.serviceStatus === 'RUNNING' || version.serviceStatus === 'STARTING')) {
      notes.push(`version ${version.versionName} is ${version.serviceStatus} but not the active model: it is billed; \`pneumo model stop\` stops every running version`);
    }
  }
  const activeView: ActiveView | null = active
    ? {
        versionName: activeName ?? null,
        projectVersionArn: str(active, 'projectVersionArn') ?? null,
        state: str(active, 'state') ?? null,
        serviceStatus: (activeName !== undefined ? service?.get(activeName)?.Status : undefined) ?? null,
        f1: num(active, 'f1') ?? null,
        minInferenceUnits: num(active, 'minInferenceUnits') ?? null,
        maxInferenceUnits: num(active, 'maxInferenceUnits') ?? null,
        startedAt: str(active, 'startedAt') ?? null,
        promotedAt: str(active, 'promotedAt') ?? null,
        stoppedAt: str(active, 'stoppedAt') ?? null,
        cost: servingCost(active, ctx.now(), price),
      }
    : null;
  const cost = monthlyCost(ctx.target.names.servingSchedule, price, notes);
  const serving = await servingView(ctx.target, active, cost?.schedule ?? null, { now: ctx.now(), price, ...projection });
  if (serving.units && !serving.units.fits) notes.push(`inference units do not fit classify: ${serving.units.rule}; a start with these units is refused`);
  if (cost && !cost.schedule.serving) notes.push('the stack does not describe its serving policy (deployed before on-demand serving): no projection');
  return { active: activeView, training, versions, monthlyCost: cost, serving, hold, notes };
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

function costLine(cost: ServingCost): string {
  const range = cost.maxInferenceUnits > cost.inferenceUnits ? `${usd(cost.estimatedUsd)}–${usd(cost.estimatedMaxUsd)}` : usd(cost.estimatedUsd);
  const units = cost.maxInferenceUnits > cost.inferenceUnits ? `${cost.inferenceUnits}–${cost.maxInferenceUnits}` : String(cost.inferenceUnits);
  return `${range} (${cost.hours.toFixed(2)} h × ${units} unit(s) × ${usd(cost.pricePerUnitHour)}/unit-hour, ${cost.ongoing ? 'running now' : `until ${cost.to}`}; an estimate, not a bill)`;
}

/** `pneumo model status`. */
export async function modelStatus(ctx: CommandContext, options: { readonly price: number; readonly format: Format; readonly startLatencyMinutes?: number; readonly days?: number }): Promise<ExitCode> {
  const status = await modelStatusData(ctx, options.price, {
    windowDays: options.days ?? DEFAULT_PROJECTION.windowDays,
    startLatencyMinutes: options.startLatencyMinutes ?? DEFAULT_PROJECTION.startLatencyMinutes,
  });
  for (const note of status.notes) ctx.io.err(`note: ${note}`);
  if (options.format === 'json') {
    printJson(ctx.io, status);
    return EXIT.ok;
  }
  const columns = [
    { header: 'VERSION', value: (v: VersionView) => `${v.active ? '* ' : '  '}${v.versionName}` },
    { header: 'STATUS', value: (v: VersionView) => v.status ?? '-' },
    { header: 'SERVICE', value: (v: VersionView) => v.serviceStatus ?? '-' },
    { header: 'F1', value: (v: VersionView) => decimal(v.f1), align: 'right' as const },
    { header: 'UNITS', value: (v: VersionView) => (v.minInferenceUnits === null ? '-' : `${v.minInferenceUnits}-${v.maxInferenceUnits ?? v.minInferenceUnits}`) },
    { header: 'GATE', value: (v: VersionView) => (v.gate === null ? '-' : `${v.gate}${v.gateReasons.length ? ` ${v.gateReasons.join(',')}` : ''}`) },
    { header: 'REQUESTED', value: (v: VersionView) => v.requestedAt ?? '-' },
  ];
  if (options.format === 'csv') {
    printLines(ctx.io, renderCsv(status.versions, [
      { header: 'versionName', value: (v) => v.versionName },
      { header: 'status', value: (v) => v.status },
      { header: 'serviceStatus', value: (v) => v.serviceStatus },
      { header: 'f1', value: (v) => v.f1 },
      { header: 'minInferenceUnits', value: (v) => v.minInferenceUnits },
      { header: 'maxInferenceUnits', value: (v) => v.maxInferenceUnits },
      { header: 'gate', value: (v) => v.gate },
      { header: 'gateReasons', value: (v) => v.gateReasons.join(';') },
      { header: 'requestedAt', value: (v) => v.requestedAt },
      { header: 'active', value: (v) => v.active },
    ]));
    return EXIT.ok;
  }
  const active = status.active;
  if (!active) {
    ctx.io.out('active model: none (train one with `pneumo retrain`)');
  } else {
    const lines = [
      `active model   ${active.versionName ?? active.projectVersionArn ?? '?'}  ${active.state ?? '?'}${active.serviceStatus ? ` (service: ${active.serviceStatus})` : ''}`,
      `F1             ${decimal(active.f1)}`,
      `units          ${active.minInferenceUnits ?? '-'}–${active.maxInferenceUnits ?? '-'}`,
      `running since  ${active.state === 'STOPPED' ? `- (stopped ${active.stoppedAt ?? '?'})` : `${active.startedAt ?? active.promotedAt ?? '?'}${active.cost ? ` (${duration(active.cost.hours * 3_600_000)})` : ''}`}`,
      `promoted       ${active.promotedAt ?? '-'}`,
      `serving cost   ${active.cost ? costLine(active.cost) : '-'}`,
      ...servingLines(status.serving),
      ...(status.hold ? [`hold           ${holdLine(status.hold)}`] : []),
    ];
    printLines(ctx.io, lines);
  }
  if (status.training) {
    const where = status.training.state ? `, in ${status.training.state}` : '';
    ctx.io.out(`retraining     ${status.training.versionName} since ${status.training.acquiredAt ?? '?'}${where} (${status.training.executionArn ?? 'execution unknown'})`);
  }
  if (status.versions.length > 0) {
    ctx.io.out('');
    printLines(ctx.io, renderTable(status.versions, columns));
  }
  if (status.monthlyCost) {
    const { rows, pricePerUnitHour, notes } = status.monthlyCost;
    ctx.io.out('');
    ctx.io.out(`monthly inference cost at ${usd(pricePerUnitHour)}/unit-hour (an estimate, not a bill)`);
    printLines(ctx.io, renderTable(rows, [
      { header: 'SCENARIO', value: (row) => row.scenario },
      { header: 'HOURS/MONTH', value: (row) => row.hoursPerMonth.toFixed(0), align: 'right' as const },
      { header: 'COST/MONTH', value: (row) => (row.monthlyCostMax > row.monthlyCostMin ? `${usd(row.monthlyCostMin)}–${usd(row.monthlyCostMax)}` : usd(row.monthlyCostMin)), align: 'right' as const },
      { header: 'WHEN', value: (row) => row.description },
    ]));
    for (const note of notes) ctx.io.out(`  ${note}`);
  }
  const projection = status.serving.projection;
  if (projection) {
    ctx.io.out('');
    ctx.io.out(
      `projected monthly cost from the last ${projection.windowDays} day(s) of traffic (${projection.images} image(s)${projection.truncated ? ', a sample' : ''}; ` +
        `a start assumed to take ${projection.startLatencyMinutes} min; an estimate, not a bill)`,
    );
    printLines(ctx.io, renderTable(projection.policies, [
      { header: 'POLICY', value: (row) => row.policy },
      { header: 'UNIT-HOURS/MONTH', value: (row) => row.unitHoursPerMonth.toFixed(1), align: 'right' as const },
      { header: 'COST/MONTH', value: (row) => usd(row.monthlyUsd), align: 'right' as const },
      { header: 'P95 WAIT', value: (row) => (Number.isNaN(row.p95Minutes) ? '-' : `${row.p95Minutes.toFixed(1)} min`), align: 'right' as const },
    ]));
  }
  return EXIT.ok;
}

function servingLines(serving: ServingView): string[] {
  const events = serving.events;
  const lines: string[] = [];
  if (events) {
    lines.push(`last start     ${events.startReason ?? '-'}${events.startedAt ? ` at ${events.startedAt}` : ''}`);
    lines.push(`last stop      ${events.stopReason ?? '-'}${events.stoppedAt ? ` at ${events.stoppedAt}` : ''}`);
    lines.push(`last used      ${events.lastUsedAt ?? '-'}`);
    if (events.inFlight) lines.push(`in flight      ${events.inFlight.request} (${events.inFlight.reason ?? '?'}) since ${events.inFlight.requestedAt ?? '?'}`);
    if (events.lastStartError) lines.push(`start failed   ${events.lastStartError}`);
  }
  const policy = serving.policy;
  if (policy) {
    const quiet = policy.quietHours === 'off' ? '' : `, quiet hours ${policy.quietHours}`;
    const cap = policy.dailyCapHours > 0 ? `, at most ${policy.dailyCapHours} h a day` : '';
    lines.push(`serving        ${policy.onDemandStart ? 'on demand' : 'no on-demand start'}, idle stop after ${policy.idleStopMinutes} min (checked ${policy.checkRate})${quiet}${cap}`);
  }
  if (serving.units) lines.push(`units rule     ${serving.units.fits ? 'fits' : 'DOES NOT FIT'}: ${serving.units.rule}`);
  return lines;
}

export interface StartStopOptions {
  readonly versionName?: string | undefined;
  readonly minUnits?: number | undefined;
  readonly maxUnits?: number | undefined;
  readonly wait: boolean;
  readonly pollMs?: number | undefined;
  readonly format: Format;
}

/** Names an execution so the console lists it as the CLI's, with a time that keeps it unique. */
function executionName(action: string, now: number): string {
  return `cli-${action}-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1')}`;
}

async function runMachine(ctx: CommandContext, role: 'startModel' | 'stopModel', input: Record<string, unknown>, what: string, options: StartStopOptions): Promise<ExitCode> {
  const arn = stateMachineArn(ctx.target, role);
  const { executionArn } = await ctx.target.clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn: arn, name: executionName(role === 'startModel' ? 'start' : 'stop', ctx.now()), input: JSON.stringify(input) }),
  );
  if (!executionArn) throw new OperationFailedError('Step Functions returned no execution ARN');
  ctx.io.err(`started ${what}: ${executionArn}`);
  const link = consoleLink(ctx, executionArn);
  if (link) ctx.io.err(`  ${link}`);
  if (!options.wait) {
    if (options.format === 'json') printJson(ctx.io, { executionArn, status: 'RUNNING' });
    else ctx.io.out(executionArn);
    return EXIT.ok;
  }
  const end = await followExecution(ctx, executionArn, { label: what, pollMs: options.pollMs });
  if (options.format === 'json') {
    printJson(ctx.io, { executionArn, status: end.status, output: end.output ?? null, error: end.error ?? null, cause: end.cause ?? null, elapsedSeconds: Math.round(end.elapsedMs / 1000) });
  } else {
    ctx.io.out(`${what}: ${end.status} after ${duration(end.elapsedMs)}${end.error ? ` (${end.error}: ${readableCause(end.cause ?? '')})` : ''}`);
  }
  return end.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
}

/**
 * Refuses a version the project does not have before any run starts: a failed start run makes on-demand starts
 * back off (`startRetryMinutes`), so a mistyped name would otherwise keep the promoted model from serving. When the
 * service cannot be asked, the start-model run is left to say so.
 */
async function assertVersionExists(ctx: CommandContext, versionName: string): Promise<void> {
  const versions = await serviceVersions(ctx, []);
  if (versions === undefined || versions.has(versionName)) return;
  const known = versions.size > 0 ? `versions: ${[...versions.keys()].join(', ')}` : 'no model was trained yet';
  throw new OperationFailedError(`project ${ctx.target.names.projectName ?? '?'} has no version ${versionName} (${known}); nothing was started`);
}

/** `pneumo model start`: the start-model state machine (start, wait for RUNNING, promote, stop the previous). */
export async function modelStart(ctx: CommandContext, options: StartStopOptions): Promise<ExitCode> {
  const input: Record<string, unknown> = { reason: 'user' };
  if (options.versionName !== undefined) {
    await assertVersionExists(ctx, options.versionName);
    input.versionName = options.versionName;
  }
  if (options.minUnits !== undefined) input.minInferenceUnits = options.minUnits;
  if (options.maxUnits !== undefined) input.maxInferenceUnits = options.maxUnits;
  const what = `start of ${options.versionName ? `version ${options.versionName}` : 'the promoted model'}`;
  return runMachine(ctx, 'startModel', input, what, options);
}

export interface StopOptions extends StartStopOptions {
  /** ISO time the hold lapses; absent: until a user or retrain start. */
  readonly until?: string | undefined;
  readonly reason?: string | undefined;
}

/**
 * `pneumo model stop`: holds the model stopped, then runs the stop-model state machine (every running version of
 * the project). The hold is written first, so a start decided after it (an image's, the schedule's) is refused.
 */
export async function modelStop(ctx: CommandContext, options: StopOptions): Promise<ExitCode> {
  // A target without the stop machine fails before anything is held.
  stateMachineArn(ctx.target, 'stopModel');
  const by = await callerName(ctx.target);
  const reason = options.reason ?? 'pneumo model stop';
  await new ServingStore(ctx.target.clients.documents, ctx.target.names.registryTable).placeHold({ by, at: new Date(ctx.now()).toISOString(), reason, until: options.until });
  ctx.io.err(`held by ${by}: no on-demand or scheduled start ${options.until ? `until ${options.until}` : 'until `pneumo model start`'}; images wait PENDING meanwhile`);
  return runMachine(ctx, 'stopModel', { reason: 'user' }, 'stop of every running model version', options);
}
