import type { Io } from './io.js';
import type { Target } from './target.js';

/** What every command function gets: the target, where to write, and (for tests) the clock and the pause. */
export interface CommandContext {
  readonly target: Target;
  readonly io: Io;
  readonly now: () => number;
  /** Pauses between polls; tests replace it to make progress happen instead of waiting. */
  readonly sleep: (ms: number) => Promise<void>;
}

export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` over `items` with at most `limit` in flight, preserving nothing but completion. */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
