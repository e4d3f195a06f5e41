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

/**
 * Runs `work` over `items` with at most `limit` in flight. After the first failure no new item starts; the ones
 * in flight finish, then that failure is thrown, so a caller can still say what was done before it. Once `signal`
 * is aborted (Ctrl-C) no new item starts either, and the ones in flight finish.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined && signal?.aborted !== true) {
      const index = next;
      next += 1;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
