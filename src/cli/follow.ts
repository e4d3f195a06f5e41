import { DescribeExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import type { CommandContext } from './context.js';
import { duration } from './format.js';
import { StatusLine } from './progress.js';

export interface ExecutionEnd {
  readonly executionArn: string;
  /** SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or RUNNING when the wait timed out). */
  readonly status: string;
  readonly output: unknown;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  readonly elapsedMs: number;
  /** The states entered, in order, as far as the history showed them. */
  readonly states: readonly string[];
}

/**
 * The state the execution is in now: the newest StateEntered event of its history. While that state is a Task
 * running another state machine (`startExecution.sync`), the state of that execution too: `StartModel › Promote`.
 */
export async function currentState(ctx: CommandContext, executionArn: string, depth = 0): Promise<string | undefined> {
  // Newest first and only a page: a training polls for hours, and its full history is thousands of events.
  const { events = [] } = await ctx.target.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 50 }));
  const entered = events.findIndex((event) => event.stateEnteredEventDetails?.name !== undefined);
  const state = events[entered]?.stateEnteredEventDetails?.name;
  if (state === undefined || depth > 2) return state;
  // Newer than the state's entry, so the nested execution belongs to the state the execution is in.
  const submitted = events.slice(0, entered).find((event) => event.taskSubmittedEventDetails?.resource?.startsWith('startExecution.sync') === true);
  const nestedArn = nestedExecutionArn(submitted?.taskSubmittedEventDetails?.output);
  const nested = nestedArn ? await currentState(ctx, nestedArn, depth + 1).catch(() => undefined) : undefined;
  return nested ? `${state} › ${nested}` : state;
}

function nestedExecutionArn(output: string | undefined): string | undefined {
  if (output === undefined) return undefined;
  try {
    const arn = (JSON.parse(output) as { ExecutionArn?: unknown }).ExecutionArn;
    return typeof arn === 'string' ? arn : undefined;
  } catch {
    return undefined;
  }
}

function parseOutput(output: string | undefined): unknown {
  if (output === undefined) return undefined;
  try {
    return JSON.parse(output) as unknown;
  } catch {
    return output;
  }
}

/**
 * Follows an execution until it ends, showing the current state and the elapsed time on stderr (redrawn on a
 * terminal; one line per state change otherwise). Ctrl-C stops following, not the execution.
 */
export async function followExecution(ctx: CommandContext, executionArn: string, options: { readonly label: string; readonly pollMs?: number | undefined }): Promise<ExecutionEnd> {
  const line = new StatusLine(ctx.io);
  const states: string[] = [];
  const sfn = ctx.target.clients.sfn;
  let started: number | undefined;
  // Ctrl-C ends the wait, not the execution: say so, and how to look at it later.
  const interrupted = (): void => {
    line.finish();
    ctx.io.err(`stopped following; the execution continues: ${executionArn}`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  try {
    for (;;) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      started ??= execution.startDate?.getTime() ?? ctx.now();
      const state = await currentState(ctx, executionArn);
      const changed = state !== undefined && state !== states.at(-1);
      if (changed) states.push(state);
      const elapsed = (execution.stopDate?.getTime() ?? ctx.now()) - started;
      const status = execution.status ?? 'UNKNOWN';
      line.show(`${options.label}: ${state ?? 'starting'} · ${duration(elapsed)}`, changed);
      if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
        line.finish();
        return { executionArn, status, output: parseOutput(execution.output), error: execution.error, cause: execution.cause, elapsedMs: elapsed, states };
      }
      const pause = options.pollMs ?? ctx.target.pollMs;
      if (ctx.io.errIsTTY) {
        // On a terminal the elapsed time ticks every second between polls; the API is asked only once per poll.
        for (let waited = 0; waited < pause; waited += 1000) {
          await ctx.sleep(Math.min(1000, pause - waited));
          line.show(`${options.label}: ${state ?? 'starting'} · ${duration(ctx.now() - started)}`, false);
        }
      } else {
        await ctx.sleep(pause);
      }
    }
  } finally {
    process.removeListener('SIGINT', interrupted);
    line.finish();
  }
}

/** `arn:…:execution:<machine>:<name>` → `https://<region>.console.aws.amazon.com/states/…` for AWS targets. */
export function consoleLink(ctx: CommandContext, executionArn: string): string | undefined {
  if (ctx.target.kind !== 'aws') return undefined;
  return `https://${ctx.target.region}.console.aws.amazon.com/states/home?region=${ctx.target.region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}
