import { spawn } from 'node:child_process';
import { buildPageAssets } from '../../review/page-assets.js';
import { startReviewServer } from '../../review/server.js';
import type { ReviewServer } from '../../review/server.js';
import { reviewServiceFor } from '../../review/service.js';
import { LABEL_NAME } from '../../lib/training/dataset.js';
import { DEFAULT_PLAN } from '../../review/worklist.js';
import { callerName } from '../caller.js';
import type { CommandContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Target } from '../target.js';

export interface ReviewOptions {
  readonly port?: number | undefined;
  readonly open: boolean;
  readonly reviewer?: string | undefined;
  /** Ends the session (Ctrl-C in the real command; the test's own signal in tests). */
  readonly signal: AbortSignal;
  /** Called once the page is served, with its address; tests drive a browser from here. */
  readonly onReady?: (server: ReviewServer) => void;
}

/** Who decides: `--reviewer`, else the IAM caller on AWS, else the local user on the local stack. */
async function reviewerOf(target: Target, given: string | undefined): Promise<string> {
  return given ?? callerName(target, 'pass --reviewer <name>');
}

/** The stack's PositiveLabel output when it is a label name, else the default (stacks from before the output). */
export function positiveLabelOf(target: Target): string {
  const value = target.names.positiveLabel;
  return typeof value === 'string' && LABEL_NAME.test(value) ? value : DEFAULT_PLAN.positiveLabel;
}

/** The stack's ReviewThreshold output (a number 0–100), or undefined when the target does not say. */
export function reviewThresholdOf(target: Target): number | undefined {
  const value = Number(target.names.reviewThreshold);
  return target.names.reviewThreshold !== undefined && Number.isFinite(value) && value >= 0 && value <= 100 ? value : undefined;
}

function openBrowser(url: string, report: (line: string) => void): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => {
    report(`could not start a browser (${command}); open the address above yourself`);
  });
  child.unref();
}

/** `pneumo review`: serves the review page on loopback until stopped. */
export async function review(ctx: CommandContext, options: ReviewOptions): Promise<ExitCode> {
  const { io, target } = ctx;
  const reviewer = await reviewerOf(target, options.reviewer);
  const threshold = reviewThresholdOf(target);
  const positiveLabel = positiveLabelOf(target);
  const service = reviewServiceFor(target, { reviewer, threshold, positiveLabel, now: ctx.now });
  let server: ReviewServer;
  try {
    server = await startReviewServer({
      service,
      assets: await buildPageAssets(),
      port: options.port,
      log: (line) => { io.err(line); },
      session: { target: target.description, positiveLabel, threshold: threshold ?? null },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`--port ${options.port ?? 0} is taken on 127.0.0.1; choose another or leave it out for a free one`, { cause: error });
    throw error;
  }
  io.out(server.url);
  io.err(`review page for ${target.description}, reviewer ${reviewer}`);
  io.err('open the address above once (it signs one browser in); a screening aid for a clinician\'s review, not a diagnosis. Ctrl-C stops.');
  if (options.open) openBrowser(server.url, (line) => { io.err(line); });
  options.onReady?.(server);
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => { resolve(); }, { once: true });
  });
  await server.close();
  io.err('review page stopped');
  return EXIT.ok;
}
