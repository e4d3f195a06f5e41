import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export type LambdaHandler = (event: unknown) => Promise<unknown>;

export interface InvokerOptions {
  readonly functionName: string;
  readonly handler: LambdaHandler;
  /** Like reserved concurrency: at most this many invocations run at once; the rest queue. */
  readonly concurrency: number;
  /** Like the function's maximumRetryAttempts for asynchronous invocations. */
  readonly maxRetries: number;
  /** Pause before each retry (Lambda waits about a minute; locally a short pause keeps demos quick). */
  readonly retryDelayMs: number;
  /** JSON Lines file receiving what Lambda's on-failure destination would receive. */
  readonly deadLetterFile: string;
  readonly onFailure?: (record: DeadLetterRecord) => void;
  /** Called with what the handler returned, for each successful invocation. */
  readonly onSuccess?: (result: unknown) => void;
}

/** The record Lambda sends to an on-failure destination, so local and AWS dead letters read alike. */
export interface DeadLetterRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetriesExhausted';
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext: { readonly statusCode: 200; readonly executedVersion: '$LATEST'; readonly functionError: 'Unhandled' };
  readonly responsePayload: { readonly errorType: string; readonly errorMessage: string };
}

/**
 * Runs a handler the way Lambda runs asynchronous invocations: queued, bounded concurrency, retried on
 * error, then handed to the dead-letter file. Never loses an event: `idle()` resolves once every submitted
 * event has succeeded or been dead-lettered.
 */
export class AsyncInvoker {
  private running = 0;
  private readonly queue: { readonly event: unknown; readonly done: (settled: boolean) => void }[] = [];
  private readonly waiters: (() => void)[] = [];
  private requestCounter = 0;
  readonly stats = { invoked: 0, succeeded: 0, retried: 0, deadLettered: 0, lost: 0 };

  constructor(private readonly options: InvokerOptions) {}

  /**
   * Queues one event. Resolves `true` once it has succeeded or been dead-lettered, `false` if it was lost (the
   * dead-letter file could not be written); never rejects.
   */
  submit(event: unknown): Promise<boolean> {
    return new Promise((done) => {
      this.queue.push({ event, done });
      this.pump();
    });
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const next = this.queue.shift();
      if (!next) return;
      this.running += 1;
      void this.invokeWithRetries(next.event)
        .then(() => {
          next.done(true);
        })
        .catch((error: unknown) => {
          // Only the dead-letter write itself can fail here; say so loudly rather than drop the event quietly.
          next.done(false);
          this.stats.lost += 1;
          process.emitWarning(`${this.options.functionName}: event lost, dead-letter file not written: ${String(error)}`);
        })
        .finally(() => {
          this.running -= 1;
          this.pump();
          if (this.running === 0 && this.queue.length === 0) {
            for (const resolve of this.waiters.splice(0)) resolve();
          }
        });
    }
  }

  private async invokeWithRetries(event: unknown): Promise<void> {
    this.requestCounter += 1;
    const requestId = `local-${process.pid}-${this.requestCounter}`;
    for (let attempt = 1; ; attempt += 1) {
      this.stats.invoked += 1;
      try {
        const result = await this.options.handler(event);
        this.stats.succeeded += 1;
        this.options.onSuccess?.(result);
        return;
      } catch (error) {
        if (attempt > this.options.maxRetries) {
          await this.deadLetter(event, error, requestId, attempt);
          return;
        }
        this.stats.retried += 1;
        if (this.options.retryDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs * attempt));
      }
    }
  }

  private async deadLetter(event: unknown, error: unknown, requestId: string, attempts: number): Promise<void> {
    const record: DeadLetterRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId,
        functionArn: `arn:aws:lambda:local:000000000000:function:${this.options.functionName}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: attempts,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: {
        errorType: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message : String(error),
      },
    };
    await mkdir(dirname(this.options.deadLetterFile), { recursive: true });
    await appendFile(this.options.deadLetterFile, `${JSON.stringify(record)}\n`);
    this.stats.deadLettered += 1;
    this.options.onFailure?.(record);
  }
}
