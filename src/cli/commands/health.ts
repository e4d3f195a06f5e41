import { readFile } from 'node:fs/promises';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { readBacklog } from '../../lib/gauges.js';
import { ACTIVE_MODEL_ID, versionNameOfId } from '../../lib/tables/registry.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { printJson, printLines, renderTable } from '../format.js';
import { getRegistryItem, listVersionItems, str } from '../registry-view.js';
import type { Item } from '../registry-view.js';
import { parseServingSchedule } from '../../lib/cost.js';
import { overduePendingSeconds } from '../../lib/serving/overdue.js';
import { DEFAULT_POLICY } from '../../lib/serving/policy.js';
import { servingHoldOf, ServingStore } from '../../lib/serving/store.js';
import { holdLine, holdView, stagePolicy } from '../serving-view.js';
import type { HoldView } from '../serving-view.js';
import type { Target } from '../target.js';
import { servingCost } from './model.js';

/*
 * `pneumo health`: what an operator checks first, the same view for a deployed stage and the local stack.
 * Deployed, the alarms are CloudWatch's own (those in ALARM); locally, where there is no CloudWatch, the same
 * conditions are evaluated from the same sources: the dead letters, the oldest PENDING row, the last retrain.
 */

export interface FiringAlarm {
  readonly name: string;
  readonly reason: string;
}

export interface HealthView {
  readonly target: string;
  readonly alarms: readonly FiringAlarm[];
  /** Messages in the dead-letter queue (deployed: approximate, as SQS counts them). */
  readonly deadLetters: number | null;
  readonly pending: {
    readonly images: number;
    readonly oldestKey: string | null;
    readonly oldestSince: string | null;
    readonly ageMinutes: number | null;
    /** Of that age, the wait beyond quiet hours, the daily cap and a user's hold: what pending-too-long watches. */
    readonly overdueMinutes: number | null;
  };
  readonly model: { readonly versionName: string | null; readonly state: string | null };
  /** A user's hold in force (`pneumo model stop`), with the images waiting behind it. */
  readonly hold: HoldView | null;
  readonly lastRetrain: { readonly versionName: string; readonly status: string; readonly at: string | null } | null;
  /** Estimated serving cost since 00:00 UTC today, at the minimum units (null: nothing served today). */
  readonly costTodayUsd: number | null;
}

export interface HealthOptions {
  readonly format: Format;
  /** Local alarms: the deployed defaults unless given (maxPendingMinutes, of overdue waiting). */
  readonly maxPendingMinutes: number;
  readonly price: number;
}

async function deadLetterCount(target: Target): Promise<number | null> {
  const letters = target.deadLetters;
  if (!letters) return null;
  if (letters.kind === 'file') {
    const text = await readFile(letters.path, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    });
    return text.split('\n').filter((line) => line.trim() !== '').length;
  }
  const { Attributes } = await target.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: letters.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function cloudWatchAlarms(target: Target, prefix: string): Promise<FiringAlarm[]> {
  const firing: FiringAlarm[] = [];
  let nextToken: string | undefined;
  do {
    const page = await target.clients.cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, StateValue: 'ALARM', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken }),
    );
    for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
      firing.push({ name: (alarm.AlarmName ?? '').slice(prefix.length), reason: alarm.StateReason ?? '' });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return firing;
}

function latestRetrain(versions: readonly Item[]): HealthView['lastRetrain'] {
  const dated = versions
    .map((item) => ({ item, at: str(item, 'finishedAt') ?? str(item, 'updatedAt') ?? str(item, 'requestedAt') ?? null }))
    .sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  const latest = dated[0];
  if (!latest) return null;
  return { versionName: str(latest.item, 'versionName') ?? versionNameOfId(String(latest.item.id)), status: str(latest.item, 'status') ?? 'unknown', at: latest.at };
}

/** The alarms of alarms.yml that the local stack can show, from the data they watch. */
function localAlarms(view: Omit<HealthView, 'alarms' | 'target'>, options: HealthOptions): FiringAlarm[] {
  const firing: FiringAlarm[] = [];
  if ((view.deadLetters ?? 0) > 0) firing.push({ name: 'dead-letters', reason: `${String(view.deadLetters)} dead letter(s) in the queue` });
  if (view.pending.overdueMinutes !== null && view.pending.overdueMinutes > options.maxPendingMinutes) {
    const byDesign = view.pending.ageMinutes !== null && view.pending.ageMinutes > view.pending.overdueMinutes ? ` beyond ${String(view.pending.ageMinutes - view.pending.overdueMinutes)} min by design` : '';
    firing.push({ name: 'pending-too-long', reason: `the oldest PENDING image has waited ${String(view.pending.overdueMinutes)} min for a start${byDesign} (> ${String(options.maxPendingMinutes)})` });
  }
  if (view.lastRetrain && ['FAILED', 'REJECTED'].includes(view.lastRetrain.status)) {
    firing.push({ name: 'train-and-deploy-failed', reason: `the last retrain (${view.lastRetrain.versionName}) ended ${view.lastRetrain.status}` });
  }
  return firing;
}

function costToday(active: Item | undefined, now: number, price: number): number | null {
  if (!active) return null;
  const midnight = new Date(now);
  midnight.setUTCHours(0, 0, 0, 0);
  const from = str(active, 'startedAt') ?? str(active, 'promotedAt');
  if (from === undefined) return null;
  const clipped = from < midnight.toISOString() ? midnight.toISOString() : from;
  const stoppedAt = str(active, 'stoppedAt');
  if (stoppedAt !== undefined && str(active, 'state') === 'STOPPED' && stoppedAt < clipped) return null;
  return servingCost({ ...active, startedAt: clipped }, now, price)?.estimatedUsd ?? null;
}

/** The oldest PENDING image's wait beyond what the stage's policy and a hold make it wait (src/lib/serving/overdue.ts). */
async function overdueMinutes(target: Target, since: string | undefined, now: number): Promise<number | null> {
  if (since === undefined) return null;
  let policy = DEFAULT_POLICY;
  try {
    const schedule = target.names.servingSchedule === undefined ? undefined : parseServingSchedule(target.names.servingSchedule);
    if (schedule?.serving) policy = stagePolicy(schedule, schedule.serving);
  } catch {
    // A stack that does not describe its policy (or not readably): no waiting counts as by design but a hold.
  }
  const store = new ServingStore(target.clients.documents, target.names.registryTable);
  const [serving, hold] = await Promise.all([store.read(), store.readHold()]);
  return Math.floor(overduePendingSeconds(since, serving?.state, servingHoldOf(hold), now, policy) / 60);
}

export async function healthData(ctx: CommandContext, options: HealthOptions): Promise<HealthView> {
  const { target } = ctx;
  const now = ctx.now();
  const [deadLetters, backlog, active, versions, hold] = await Promise.all([
    deadLetterCount(target),
    readBacklog(target.clients.documents, target.names.resultsTable),
    getRegistryItem(target, ACTIVE_MODEL_ID),
    listVersionItems(target),
    holdView(target, now),
  ]);
  const since = backlog.oldestPending ? Date.parse(backlog.oldestPending.since) : Number.NaN;
  const overdue = await overdueMinutes(target, backlog.oldestPending?.since, now);
  const facts = {
    deadLetters,
    pending: {
      images: backlog.pendingImages,
      oldestKey: backlog.oldestPending?.imageKey ?? null,
      oldestSince: backlog.oldestPending?.since ?? null,
      ageMinutes: Number.isFinite(since) ? Math.floor((now - since) / 60_000) : null,
      overdueMinutes: overdue,
    },
    model: { versionName: str(active, 'versionName') ?? null, state: str(active, 'state') ?? null },
    hold,
    lastRetrain: latestRetrain(versions),
    costTodayUsd: costToday(active, now, options.price),
  };
  const alarms = target.names.alarmPrefix ? await cloudWatchAlarms(target, target.names.alarmPrefix) : localAlarms(facts, options);
  return { target: target.description, alarms, ...facts };
}

export async function health(ctx: CommandContext, options: HealthOptions): Promise<ExitCode> {
  const view = await healthData(ctx, options);
  if (options.format === 'json') {
    printJson(ctx.io, view);
  } else {
    const rows: [string, string][] = [
      ['alarms in ALARM', view.alarms.length === 0 ? 'none' : view.alarms.map((alarm) => alarm.name).join(', ')],
      ['dead letters', view.deadLetters === null ? 'no queue' : String(view.deadLetters)],
      ['PENDING', view.pending.images === 0 ? 'none' : `${String(view.pending.images)}, oldest ${String(view.pending.ageMinutes ?? '?')} min, ${String(view.pending.overdueMinutes ?? '?')} min of it overdue (${view.pending.oldestKey ?? '?'})`],
      ['model', view.model.versionName ? `${view.model.versionName} ${view.model.state ?? ''}`.trim() : 'none promoted'],
      ['serving hold', view.hold ? holdLine(view.hold) : 'none'],
      ['last retrain', view.lastRetrain ? `${view.lastRetrain.versionName} ${view.lastRetrain.status}${view.lastRetrain.at ? ` (${view.lastRetrain.at})` : ''}` : 'none'],
      ['serving cost today', view.costTodayUsd === null ? 'none' : `about US$ ${view.costTodayUsd.toFixed(2)}`],
    ];
    printLines(ctx.io, [`Health of ${view.target}`, ...renderTable(rows, [{ header: 'check', value: ([name]) => name }, { header: 'state', value: ([, state]) => state }]), ...view.alarms.map((alarm) => `  ${alarm.name}: ${alarm.reason}`)]);
  }
  // Non-zero while anything is in ALARM, so a script or a cron job can page on it.
  return view.alarms.length === 0 ? EXIT.ok : EXIT.failed;
}
