/*
 * The emulator's work that outlives a request: training jobs and the delayed STARTING → RUNNING and
 * STOPPING → STOPPED transitions. `idle()` waits for all of it; `close()` drops the transitions still waiting
 * (the restart recovery completes them) and makes every hold give way.
 */
export class Background {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private isClosed = false;
  private signalClosed: () => void = () => undefined;
  private readonly closedSignal = new Promise<void>((resolve) => (this.signalClosed = resolve));

  get closed(): boolean {
    return this.isClosed;
  }

  /** Counts `promise` as pending work until it settles; its rejection is the caller's to handle. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
    return promise;
  }

  /** Runs `action` `ms` after `after` settles (at once when absent), unless the emulator has closed by then. */
  later(ms: number, action: () => void, after?: Promise<unknown>): void {
    if (after) {
      void this.track(
        after.then(() => {
          if (!this.isClosed) this.later(ms, action);
        }),
      );
      return;
    }
    let finish: () => void = () => undefined;
    void this.track(new Promise<void>((resolve) => (finish = resolve)));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.isClosed) action();
      finish();
    }, ms);
    this.timers.set(timer, finish);
  }

  /** `wait`, ended early by a shutdown. */
  untilClosed(wait: Promise<unknown>): Promise<unknown> {
    return Promise.race([wait, this.closedSignal]);
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Marks the emulator closed and drops waiting transitions; `settle` then waits for what is still running. */
  close(): void {
    this.isClosed = true;
    this.signalClosed();
    for (const [timer, finish] of this.timers) {
      clearTimeout(timer);
      finish();
    }
    this.timers.clear();
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
