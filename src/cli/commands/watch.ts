import type { ResultStatus } from '../../lib/result-status.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { csvField, percent } from '../format.js';
import { queryResults } from '../results-store.js';
import { toView } from '../results-view.js';
import type { ResultView } from '../results-view.js';

export interface WatchOptions {
  readonly label?: string | undefined;
  readonly status?: ResultStatus | undefined;
  /** Start here instead of now (to replay the last hour, say). */
  readonly since?: string | undefined;
  readonly pollMs?: number | undefined;
  /** Stop after this many results (scripts, tests); otherwise until Ctrl-C. */
  readonly count?: number | undefined;
  readonly format: Format;
  readonly signal?: AbortSignal | undefined;
}

const PAGE = 100;
/** How far before the newest row seen each poll looks again, for index rows that arrive late. */
const LATE_ARRIVAL_MS = 10_000;

function maxIso(a: string, b: string): string {
  return a > b ? a : b;
}

function line(view: ResultView, format: Format): string {
  if (format === 'json') return JSON.stringify(view);
  if (format === 'csv') return [view.key, view.status, view.label, view.confidence, view.reason, view.modelVersion, view.processedAt].map(csvField).join(',');
  const verdict = view.label !== null ? `${view.label} ${percent(view.confidence)}` : (view.reason ?? '');
  return `${view.processedAt}  ${view.status.padEnd(12)}  ${verdict.padEnd(20)}  ${view.key}`;
}

/**
 * `pneumo watch`: polls the indexes for rows processed since the last poll and prints each once, oldest first
 * (JSON Lines with --format json). A row rewritten later (a PENDING image classified) shows again with its new
 * status, since it is a new result.
 */
function rowId(view: ResultView): string {
  return `${view.key}@${view.processedAt}`;
}

/**
 * Where "from now" starts: the newest row the indexes hold, in classify's clock, not this machine's (a laptop's
 * clock ahead of Lambda's would hide every result of the next minutes). Rows at that instant are marked seen;
 * an empty table starts from the beginning.
 */
async function tableNow(ctx: CommandContext, options: WatchOptions, seen: Set<string>): Promise<string> {
  const [newest] = await queryResults(ctx.target, { label: options.label, status: options.status, limit: 1 });
  const since = newest === undefined ? undefined : toView(newest).processedAt;
  if (since === undefined) return '';
  for (const row of await queryResults(ctx.target, { label: options.label, status: options.status, since, limit: PAGE, order: 'oldest' })) seen.add(rowId(toView(row)));
  return since;
}

export async function watch(ctx: CommandContext, options: WatchOptions): Promise<ExitCode> {
  const { io } = ctx;
  const seen = new Set<string>();
  let since = options.since ?? (await tableNow(ctx, options, seen));
  let printed = 0;
  if (options.format === 'csv') io.out('key,status,label,confidence,reason,modelVersion,processedAt');
  io.err(`watching results${options.label ? ` labelled ${options.label}` : ''}${options.status ? ` with status ${options.status}` : ''} ${since ? `after ${since}` : 'from the first'} on ${ctx.target.description} (Ctrl-C stops)`);
  // Ctrl-C ends the pause at once instead of after the next poll.
  const stopped = new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => {
    resolve();
  }));
  const aborted = (): boolean => options.signal?.aborted === true;
  const start = since;
  let overlap = true;
  while (!aborted()) {
    // Index rows appear a moment after their write and not always in processedAt order, so each poll looks a little
    // before the newest row seen; `seen` keeps a row from printing twice.
    const from = overlap && since !== '' ? maxIso(start, new Date(Date.parse(since) - LATE_ARRIVAL_MS).toISOString()) : since;
    // Oldest first, a page at a time: a burst larger than a page is printed over the next polls, not skipped.
    const rows = await queryResults(ctx.target, { label: options.label, status: options.status, since: from === '' ? undefined : from, limit: PAGE, order: 'oldest' });
    const views = rows.map(toView);
    const fresh = views.filter((view) => !seen.has(rowId(view)));
    for (const view of fresh) {
      seen.add(rowId(view));
      io.out(line(view, options.format));
      printed += 1;
      if (options.count !== undefined && printed >= options.count) return EXIT.ok;
    }
    const newest = views.at(-1)?.processedAt;
    if (newest !== undefined && newest > since) since = newest;
    for (const id of seen) if ((id.split('@').at(-1) ?? '') < from) seen.delete(id);
    if (aborted()) break;
    if (rows.length === PAGE) {
      // A full page means more rows are waiting: read on at once, past the overlap if it held nothing new.
      overlap = fresh.length > 0;
      continue;
    }
    overlap = true;
    await Promise.race([ctx.sleep(options.pollMs ?? ctx.target.pollMs), stopped]);
  }
  return EXIT.ok;
}
