import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ACTIVE_MODEL_ID, RegistryTable, SERVING_HOLD_ID } from '../tables/registry.js';
import type { FieldChange, WriteCondition } from '../tables/registry.js';
import type { ServingHold, ServingRequest, ServingState } from './decisions.js';

/*
 * The serving fields of the registry's `active` item:
 *
 *   serving        { request: START|STOP, requestedAt, reason, executionName }: a start or stop in flight, made by
 *                  classify or the serving check; exactly one caller writes it (conditional on what it read)
 *   lastUsedAt     the last DetectCustomLabels answer, written at most once a minute
 *   startReason    why the model last started (on-demand, schedule, user, retrain), set by Promote
 *   stopReason     why it last stopped (idle, cap, schedule, user), set when a stop run marks it STOPPED
 *   servedDay, servedMs     serving time of the runs that ended that day (the daily cap)
 *   lastStartFailedAt, lastStartError   the last failed start (on-demand starts back off after it)
 *   gateDecision   the promoted version's gate decision, copied at promotion
 *
 * and the registry's `serving#hold` item: a user's stop (`pneumo model stop`) that keeps the model stopped until a
 * user or retrain start releases it or its `until` passes; who (`by`), when (`at`), why (`reason`, the user's
 * words), `releasedAt`/`releasedBy`. An item of its own, because Promote rewrites the whole `active` item and
 * must not erase a hold placed while its start ran.
 */

/** A user's hold as stored (ISO times). */
export interface HoldRecord {
  readonly by: string;
  readonly at: string;
  readonly reason: string;
  readonly until: string | undefined;
  readonly releasedAt: string | undefined;
  readonly releasedBy: string | undefined;
}

export interface ActiveServing {
  readonly projectVersionArn: string;
  readonly state: ServingState;
  /** The request's `requestedAt` as stored, for a conditional write on exactly what was read. */
  readonly requestedAtText: string | undefined;
}

const time = (value: unknown): number | undefined => {
  if (typeof value !== 'string') return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
};

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A hold item as stored; undefined for none, or for an item without the time it was placed. */
export function holdRecordOf(item: Record<string, unknown> | undefined): HoldRecord | undefined {
  const at = text(item?.at);
  if (!item || at === undefined || time(at) === undefined) return undefined;
  return { by: text(item.by) ?? 'unknown', at, reason: text(item.reason) ?? '', until: text(item.until), releasedAt: text(item.releasedAt), releasedBy: text(item.releasedBy) };
}

export function servingHoldOf(record: HoldRecord | undefined): ServingHold | undefined {
  const at = time(record?.at);
  return record && at !== undefined ? { at, until: time(record.until), releasedAt: time(record.releasedAt) } : undefined;
}

/** Reads the serving state out of an `active` item (and the hold item); fields it does not know are ignored. */
export function servingStateOf(item: Record<string, unknown>, holdItem?: Record<string, unknown>): ServingState {
  const serving = typeof item.serving === 'object' && item.serving !== null ? (item.serving as Record<string, unknown>) : undefined;
  const requestedAt = time(serving?.requestedAt);
  const kind = serving?.request;
  const request: ServingRequest | undefined = requestedAt !== undefined && (kind === 'START' || kind === 'STOP') ? { kind, at: requestedAt, executionName: text(serving?.executionName) } : undefined;
  const servedMs = typeof item.servedMs === 'number' ? item.servedMs : undefined;
  return {
    running: item.state !== 'STOPPED',
    gateRejected: item.gateDecision === 'REJECTED',
    request,
    startedAt: time(item.startedAt),
    lastUsedAt: time(item.lastUsedAt),
    lastStartFailedAt: time(item.lastStartFailedAt),
    served: typeof item.servedDay === 'string' && servedMs !== undefined ? { day: item.servedDay, ms: servedMs } : undefined,
    hold: servingHoldOf(holdRecordOf(holdItem)),
  };
}

/** The serving fields of the `active` item over the registry table module; every write is conditional on what the caller saw. */
export class ServingStore {
  private readonly registry: RegistryTable;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.registry = new RegistryTable(documents, table);
  }

  async read(): Promise<ActiveServing | undefined> {
    const [Item, holdItem] = await Promise.all([this.registry.get(ACTIVE_MODEL_ID), this.registry.get(SERVING_HOLD_ID)]);
    if (!Item || typeof Item.projectVersionArn !== 'string') return undefined;
    const serving = Item.serving as Record<string, unknown> | undefined;
    return { projectVersionArn: Item.projectVersionArn, state: servingStateOf(Item, holdItem), requestedAtText: typeof serving?.requestedAt === 'string' ? serving.requestedAt : undefined };
  }

  /** The last hold placed (released or lapsed ones included), for PlanStart, the gauges and the CLI. */
  async readHold(): Promise<HoldRecord | undefined> {
    return holdRecordOf(await this.registry.get(SERVING_HOLD_ID));
  }

  /**
   * A user stopped the model: written before the stop run starts, so every start decided after it sees it. A later
   * stop replaces the hold (its words and `until` are the user's latest).
   */
  async placeHold(hold: { readonly by: string; readonly at: string; readonly reason: string; readonly until?: string | undefined }): Promise<void> {
    await this.registry.put(SERVING_HOLD_ID, { by: hold.by, at: hold.at, reason: hold.reason, ...(hold.until ? { until: hold.until } : {}) });
  }

  /** A user or retrain start releases the hold (kept, with who and when, for the record); false when none held. */
  async releaseHold(releasedBy: string, at: string): Promise<boolean> {
    return this.registry.update(SERVING_HOLD_ID, { set: { releasedAt: at, releasedBy } }, { expression: 'attribute_exists(id) AND attribute_not_exists(releasedAt)' });
  }

  /** A start run refused by a hold ends the request that asked for it (only a request of its own reason). */
  async startRequestEnded(reason: string): Promise<void> {
    await this.updateActive(
      { remove: ['serving'] },
      { expression: 'serving.#kind = :start AND serving.#reason = :reason', names: { '#kind': 'request', '#reason': 'reason' }, values: { ':start': 'START', ':reason': reason } },
    );
  }

  /**
   * Records a start or stop request, only if the item is still what the caller decided on: the same version, in
   * the same state, with the same request (or none). Returns whether this caller won.
   */
  async claimRequest(
    seen: ActiveServing,
    request: { readonly kind: 'START' | 'STOP'; readonly reason: string; readonly requestedAt: string; readonly executionName: string },
  ): Promise<boolean> {
    return this.updateActive(
      { set: { serving: { request: request.kind, reason: request.reason, requestedAt: request.requestedAt, executionName: request.executionName } } },
      {
        expression:
          'projectVersionArn = :arn AND ' +
          (seen.state.running ? '(attribute_not_exists(#state) OR #state <> :stopped)' : '#state = :stopped') +
          (seen.requestedAtText === undefined ? ' AND attribute_not_exists(serving.requestedAt)' : ' AND serving.requestedAt = :seen'),
        names: { '#state': 'state' },
        values: { ':arn': seen.projectVersionArn, ':stopped': 'STOPPED', ...(seen.requestedAtText === undefined ? {} : { ':seen': seen.requestedAtText }) },
      },
    );
  }

  /**
   * A start run began (whoever asked: a user, a schedule, a retrain): marks a start in flight unless one already
   * is, so classify does not ask for another while this one runs. Ended by Promote or by the run's failure.
   */
  async startRunBegan(reason: string, now: number, staleBefore: number): Promise<void> {
    await this.updateActive(
      { set: { serving: { request: 'START', reason, requestedAt: new Date(now).toISOString() } } },
      {
        expression: 'attribute_exists(id) AND (attribute_not_exists(serving.requestedAt) OR serving.#kind <> :start OR serving.requestedAt < :stale)',
        // `request` is a DynamoDB reserved word.
        names: { '#kind': 'request' },
        values: { ':start': 'START', ':stale': new Date(staleBefore).toISOString() },
      },
    );
  }

  /** Withdraws a request whose execution could not be started, so the next image or check may try again. */
  async withdrawRequest(requestedAt: string): Promise<void> {
    await this.updateActive({ remove: ['serving'] }, { expression: 'serving.requestedAt = :at', values: { ':at': requestedAt } });
  }

  /** Records use of this version; conditional, so concurrent containers make at most one write per interval. */
  async markUsed(projectVersionArn: string, now: number, intervalMs: number): Promise<boolean> {
    return this.updateActive(
      { set: { lastUsedAt: new Date(now).toISOString() } },
      {
        expression: 'projectVersionArn = :arn AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :due)',
        values: { ':arn': projectVersionArn, ':due': new Date(now - intervalMs).toISOString() },
      },
    );
  }

  /** A start run failed: its request (if any) is over, and with `backOff` on-demand starts back off from now. */
  async startFailed(at: string, error: string, options: { readonly backOff: boolean } = { backOff: true }): Promise<void> {
    await this.updateActive(options.backOff ? { set: { lastStartFailedAt: at, lastStartError: error }, remove: ['serving'] } : { remove: ['serving'] }, { expression: 'attribute_exists(id)' });
  }

  /**
   * A stop run marked this version stopped: why, the day's serving time for the cap, and its request is over.
   * Conditional on the version, so a stop that raced a promotion does not touch the new one.
   */
  async stopped(projectVersionArn: string, fields: { readonly stopReason: string; readonly servedDay: string; readonly servedMs: number }): Promise<void> {
    await this.updateActive(
      { set: { stopReason: fields.stopReason, servedDay: fields.servedDay, servedMs: fields.servedMs }, remove: ['serving'] },
      { expression: 'projectVersionArn = :arn', values: { ':arn': projectVersionArn } },
    );
  }

  /**
   * The serving check found the request's execution ended without its run recording it: the request is over, and
   * the failure is noted as a run's own failure step would have (a start's back-off only when `backOff`).
   * Conditional on exactly the request read, so a run that records its end meanwhile is not overwritten.
   */
  async requestEndedUnrecorded(requestedAt: string, end: { readonly kind: 'START' | 'STOP'; readonly error: string; readonly backOff: boolean; readonly at: string }): Promise<boolean> {
    const noted = end.kind === 'START' ? { lastStartError: end.error, ...(end.backOff ? { lastStartFailedAt: end.at } : {}) } : { lastStopError: end.error, lastStopFailedAt: end.at };
    return this.updateActive(
      { set: noted, remove: ['serving'] },
      { expression: 'serving.requestedAt = :at AND serving.#kind = :kind', names: { '#kind': 'request' }, values: { ':at': requestedAt, ':kind': end.kind } },
    );
  }

  /** A stop run found nothing it had to mark (the model was already stopped): its request is over all the same. */
  async stopRequestEnded(): Promise<void> {
    await this.updateActive({ remove: ['serving'] }, { expression: 'serving.#kind = :stop', names: { '#kind': 'request' }, values: { ':stop': 'STOP' } });
  }

  /**
   * One conditional update of the `active` item. A failed condition means another writer got there first or the
   * item has moved on, which every caller takes as "not this time", never as an error: false instead of a throw.
   */
  private async updateActive(change: FieldChange, condition: WriteCondition): Promise<boolean> {
    return this.registry.update(ACTIVE_MODEL_ID, change, condition);
  }
}
