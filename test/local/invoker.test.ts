import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AsyncInvoker } from '../../src/local/invoker.js';
import type { DeadLetterRecord, InvokerOptions } from '../../src/local/invoker.js';

async function invoker(handler: InvokerOptions['handler'], concurrency = 2): Promise<{ invoker: AsyncInvoker; deadLetterFile: string }> {
  const deadLetterFile = join(await mkdtemp(join(tmpdir(), 'pneumo-invoker-')), 'dlq.jsonl');
  return { invoker: new AsyncInvoker({ functionName: 'classify', handler, concurrency, maxRetries: 2, retryDelayMs: 0, deadLetterFile }), deadLetterFile };
}

describe('AsyncInvoker', () => {
  it('never runs more invocations at once than its concurrency', async () => {
    let running = 0;
    let peak = 0;
    const { invoker: subject } = await invoker(async () => {
      running += 1;
      peak = Math.max(peak, running);
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
    }, 3);
    for (let i = 0; i < 20; i += 1) void subject.submit({ i });
    await subject.idle();
    expect(peak).toBe(3);
    expect(subject.stats).toMatchObject({ invoked: 20, succeeded: 20 });
  });

  it('retries a failing event, and a later success ends it', async () => {
    let calls = 0;
    const { invoker: subject, deadLetterFile } = await invoker(() => {
      calls += 1;
      return calls < 3 ? Promise.reject(new Error('throttled')) : Promise.resolve();
    });
    void subject.submit({ n: 1 });
    await subject.idle();
    expect(subject.stats).toMatchObject({ invoked: 3, retried: 2, succeeded: 1, deadLettered: 0 });
    await expect(readFile(deadLetterFile, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('dead-letters an event after two retries, in the shape of a Lambda on-failure record', async () => {
    const error = Object.assign(new Error('still throttled'), { name: 'RecordsNotProcessedError' });
    const { invoker: subject, deadLetterFile } = await invoker(() => Promise.reject(error));
    void subject.submit({ Records: ['x'] });
    await subject.idle();
    const lines = (await readFile(deadLetterFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? '') as DeadLetterRecord;
    expect(record).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { Records: ['x'] },
      responsePayload: { errorType: 'RecordsNotProcessedError', errorMessage: 'still throttled' },
    });
    expect(subject.stats).toMatchObject({ invoked: 3, deadLettered: 1 });
  });

  it('is idle at once when nothing was submitted', async () => {
    const { invoker: subject } = await invoker(() => Promise.resolve());
    await expect(subject.idle()).resolves.toBeUndefined();
  });
});
