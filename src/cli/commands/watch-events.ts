import { open } from 'node:fs/promises';
import type { CommandContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';

export interface WatchEventsOptions {
  /** Replay events from this time on instead of only new ones. */
  readonly since?: string | undefined;
  readonly pollMs?: number | undefined;
  readonly count?: number | undefined;
  readonly format: Format;
  readonly signal?: AbortSignal | undefined;
}

interface BusEvent {
  readonly time?: string;
  readonly 'detail-type'?: string;
  readonly detail?: Record<string, unknown>;
}

function line(event: BusEvent, raw: string, format: Format): string {
  if (format === 'json') return raw;
  const field = (name: string): string => {
    const value = event.detail?.[name];
    return typeof value === 'string' ? value : '';
  };
  const what =
    event['detail-type'] === 'Result Stored'
      ? `${field('status')} ${field('label')} ${field('key')}`
      : `${field('outcome')} ${field('versionName')} ${field('error')}`;
  return `${event.time ?? ''}  ${(event['detail-type'] ?? '').padEnd(16)}  ${what.trim()}`;
}

/**
 * `pneumo watch --events`: follows the local bus's event file (what the stage's bus carries, as EventBridge
 * delivers it). A deployed stage's events are for rules on its bus, so there this names the bus instead.
 */
export async function watchEvents(ctx: CommandContext, options: WatchEventsOptions): Promise<ExitCode> {
  const { target, io } = ctx;
  const path = target.names.eventsFile;
  if (target.kind !== 'local' || !path) {
    throw new UsageError(`${target.description} delivers its events to the EventBridge bus ${target.names.eventBus ?? 'of the stage'}; subscribe with a rule there (README, "Result events")`);
  }
  const stopped = new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => {
    resolve();
  }));
  let offset = 0;
  let printed = 0;
  let partial = '';
  let first = true;
  while (options.signal?.aborted !== true) {
    const handle = await open(path, 'r').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
    if (handle) {
      try {
        const { size } = await handle.stat();
        if (first && options.since === undefined) offset = size;
        if (size > offset) {
          const buffer = Buffer.alloc(size - offset);
          await handle.read(buffer, 0, buffer.length, offset);
          offset = size;
          const lines = (partial + buffer.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const raw of lines.filter((text) => text.trim() !== '')) {
            const event = JSON.parse(raw) as BusEvent;
            if (options.since !== undefined && (event.time ?? '') < options.since.replace(/\.\d{3}Z$/, 'Z')) continue;
            io.out(line(event, raw, options.format));
            printed += 1;
            if (options.count !== undefined && printed >= options.count) return EXIT.ok;
          }
        }
      } finally {
        await handle.close();
      }
    }
    first = false;
    await Promise.race([ctx.sleep(options.pollMs ?? target.pollMs), stopped]);
  }
  return EXIT.ok;
}
