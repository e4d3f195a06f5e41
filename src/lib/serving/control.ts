import type { Logger } from '@aws-lambda-powertools/logger';
import { onDemandStart, requestEndedUnrecorded, requestInFlight, servingCheck, servingExecutionName, usageMarkDue } from './decisions.js';
import type { CheckVerdict, ExecutionStatus, StartVerdict, UnrecordedEnd } from './decisions.js';
import type { ServingPolicy } from './policy.js';
import type { ActiveServing, ServingStore } from './store.js';

/*
 * The serving decisions (decisions.ts) applied to the registry and Step Functions: classify asks for a start when
 * an image finds the model stopped and records use as it answers; the serving check stops an idle model and
 * starts one for images that still wait. Every start and stop goes through the start and stop machines.
 */

export type ServingLogger = Pick<Logger, 'info' | 'warn'>;

export interface ServingControlDeps {
  readonly store: ServingStore;
  /** Step Functions' StartExecution; returns the execution ARN. */
  readonly startExecution: (request: { readonly stateMachineArn: string; readonly name: string; readonly input: string }) => Promise<string | undefined>;
  /** Empty where the caller may not start (redrive only marks use). */
  readonly startMachineArn: string;
  /** Only the serving check stops; classify has no permission to. */
  readonly stopMachineArn?: string;
  readonly policy: ServingPolicy;
  readonly logger: ServingLogger;
}

export type RequestOutcome =
  | { readonly kind: 'requested'; readonly action: 'start' | 'stop'; readonly reason: string; readonly executionArn: string }
  /** Another caller's request won the conditional write, or the state changed under us. */
  | { readonly kind: 'lost-race' }
  | { readonly kind: 'not-needed'; readonly why: string }
  | { readonly kind: 'failed'; readonly error: string };

export class ServingControl {
  /** Per container: when this container last recorded use, so it tries the conditional write once a minute at most. */
  private lastMarkedAt: number | undefined;

  constructor(private readonly deps: ServingControlDeps) {}

  /** Classify stored an image PENDING because the model is stopped: start it, once for the burst. */
  async imageWaiting(now: number): Promise<RequestOutcome> {
    const seen = await this.deps.store.read();
    if (!seen) return { kind: 'not-needed', why: 'no-model' };
    const verdict: StartVerdict = onDemandStart(seen.state, now, this.deps.policy);
    if (!verdict.start) return { kind: 'not-needed', why: verdict.why };
    return this.request(seen, now, 'start', verdict.reason);
  }

  /** Classify answered an image with this version: mark use at most once per interval. */
  async imageAnswered(projectVersionArn: string, now: number): Promise<boolean> {
    if (!usageMarkDue(this.lastMarkedAt, now, this.deps.policy)) return false;
    this.lastMarkedAt = now;
    return this.deps.store.markUsed(projectVersionArn, now, this.deps.policy.usageMarkMs);
  }

  /**
   * The periodic serving check. With `executionStatus`, a request in flight is first checked against its
   * execution (one DescribeExecution, only then): one that ended unheard is cleared, and the decision acts on that.
   */
  async check(
    now: number,
    pendingWork: () => Promise<boolean>,
    executionStatus?: (executionArn: string) => Promise<ExecutionStatus>,
  ): Promise<{ readonly verdict: CheckVerdict; readonly outcome: RequestOutcome; readonly cleared?: UnrecordedEnd }> {
    let seen = await this.deps.store.read();
    let cleared: UnrecordedEnd | undefined;
    if (seen && executionStatus) {
      cleared = await this.clearEndedRequest(seen, now, executionStatus);
      if (cleared) seen = await this.deps.store.read();
    }
    const extra = cleared ? { cleared } : {};
    if (!seen) return { verdict: { action: 'none', why: 'no-model' }, outcome: { kind: 'not-needed', why: 'no-model' }, ...extra };
    const verdict = servingCheck(seen.state, now, this.deps.policy, await pendingWork());
    if (verdict.action === 'none') return { verdict, outcome: { kind: 'not-needed', why: verdict.why }, ...extra };
    return { verdict, outcome: await this.request(seen, now, verdict.action, verdict.reason), ...extra };
  }

  private async clearEndedRequest(seen: ActiveServing, now: number, executionStatus: (executionArn: string) => Promise<ExecutionStatus>): Promise<UnrecordedEnd | undefined> {
    const { request } = seen.state;
    if (!request?.executionName || seen.requestedAtText === undefined || !requestInFlight(seen.state, now, this.deps.policy)) return undefined;
    const machineArn = request.kind === 'START' ? this.deps.startMachineArn : this.deps.stopMachineArn;
    if (!machineArn) return undefined;
    const executionArn = `${machineArn.replace(':stateMachine:', ':execution:')}:${request.executionName}`;
    const end = requestEndedUnrecorded(request, await executionStatus(executionArn), now);
    if (!end) return undefined;
    const won = await this.deps.store.requestEndedUnrecorded(seen.requestedAtText, { ...end, at: new Date(now).toISOString() });
    if (!won) return undefined;
    this.deps.logger.warn('serving request ended without its run recording it; cleared', { kind: end.kind, executionName: request.executionName, error: end.error });
    return end;
  }

  private async request(seen: ActiveServing, now: number, action: 'start' | 'stop', reason: string): Promise<RequestOutcome> {
    const stateMachineArn = action === 'start' ? this.deps.startMachineArn : this.deps.stopMachineArn;
    if (!stateMachineArn) return { kind: 'not-needed', why: `no ${action} machine` };
    const requestedAt = new Date(now).toISOString();
    const executionName = servingExecutionName(action, reason, now);
    const won = await this.deps.store.claimRequest(seen, { kind: action === 'start' ? 'START' : 'STOP', reason, requestedAt, executionName });
    if (!won) return { kind: 'lost-race' };
    try {
      const executionArn = await this.deps.startExecution({ stateMachineArn, name: executionName, input: JSON.stringify({ reason }) });
      this.deps.logger.info(`model ${action} requested`, { reason, executionName, projectVersionArn: seen.projectVersionArn });
      return { kind: 'requested', action, reason, executionArn: executionArn ?? '' };
    } catch (error) {
      // Withdrawn so the next image or check tries again; the images stay PENDING meanwhile, nothing is lost.
      await this.deps.store.withdrawRequest(requestedAt);
      const name = error instanceof Error ? error.name : 'Error';
      this.deps.logger.warn(`model ${action} could not be requested`, { reason, executionName, errorName: name });
      return { kind: 'failed', error: name };
    }
  }
}
