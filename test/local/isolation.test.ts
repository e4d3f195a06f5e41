import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { fixtureImage } from '../fixtures/images.js';
import { startTestStack } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * Every local function is built with its own runtime from its own environment, and the stack writes nothing to
 * process.env: two stacks live side by side in one process, and each function logs under its own service name.
 */

const running: TestStack[] = [];

afterEach(async () => {
  for (const stack of running.splice(0)) await stack.stop();
});

async function start(options: Parameters<typeof startTestStack>[1] = {}): Promise<TestStack> {
  const stack = await startTestStack(inject('packageDir'), options);
  running.push(stack);
  return stack;
}

/** Stops one stack now (its timers end with it), instead of after the test. */
async function stop(stack: TestStack): Promise<void> {
  running.splice(running.indexOf(stack), 1);
  await stack.stop();
}

async function put(stack: TestStack, key: string): Promise<void> {
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.stack.names.bucket, Key: key, Body: fixtureImage('normal-1.jpeg') }));
}

async function row(stack: TestStack, key: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await stack.documents.send(new GetCommand({ TableName: stack.stack.names.tables.ResultsTable ?? '', Key: { imageKey: key }, ConsistentRead: true }));
  return Item;
}

describe('local stacks in one process', () => {
  it('two stacks on their own ports and folders each answer their own upload in their own table', async () => {
    const first = await start();
    const second = await start();
    expect(first.dataDir).not.toBe(second.dataDir);
    for (const [service, endpoint] of Object.entries(first.stack.endpoints)) expect(second.stack.endpoints).not.toHaveProperty(service, endpoint);

    await Promise.all([put(first, 'inbox/isolation/first.jpeg'), put(second, 'inbox/isolation/second.jpeg')]);
    await Promise.all([first.stack.idle(), second.stack.idle()]);

    expect(await row(first, 'inbox/isolation/first.jpeg')).toMatchObject({ status: 'PENDING', reason: 'no-model' });
    expect(await row(second, 'inbox/isolation/second.jpeg')).toMatchObject({ status: 'PENDING', reason: 'no-model' });
    expect(await row(first, 'inbox/isolation/second.jpeg')).toBeUndefined();
    expect(await row(second, 'inbox/isolation/first.jpeg')).toBeUndefined();
    for (const stack of [first, second]) {
      expect(stack.stack.invokers.ClassifyLambdaFunction?.stats).toMatchObject({ invoked: 1, succeeded: 1, retried: 0, deadLettered: 0 });
    }
    // Each function of a stack has its own clients, pointed at that stack.
    const classify = first.stack.runtimes.ClassifyLambdaFunction;
    expect(classify?.clientSettings.endpoints).toMatchObject({ dynamodb: first.stack.endpoints.dynamodb, sfn: first.stack.endpoints.sfn });
    expect(classify?.rekognition).not.toBe(first.stack.runtimes.RedriveLambdaFunction?.rekognition);
  });

  it('leaves process.env as it found it, started and stopped', async () => {
    const before = { ...process.env };
    const stack = await start();
    expect(process.env).toEqual(before);
    await stop(stack);
    expect(process.env).toEqual(before);
  });
});

describe('local function telemetry', () => {
  it("each function's log lines and metrics carry its own service name, from its own environment", async () => {
    // The process says SILENT and metrics off (test/setup.ts); the functions' environment says otherwise, and wins.
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBe('SILENT');
    const lines: string[] = [];
    const capture = (chunk: unknown): boolean => {
      lines.push(...String(chunk).split('\n'));
      return true;
    };
    // Powertools writes warnings and errors to stderr, the rest to stdout.
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      const stack = await start({ environment: { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' }, rateSchedules: { intervalMs: 20 } });
      await put(stack, 'inbox/telemetry/a.jpeg');
      await stack.stack.idle();
      // No model to start: PlanStart refuses and RecordOutcome logs how the run ended.
      await stack.stack.runStateMachine('StartModelStateMachine', { reason: 'user' });
      await vi.waitFor(() => {
        expect(lines.some((line) => line.includes('"message":"gauges"'))).toBe(true);
      });
      await stop(stack);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const records = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const logs = records.filter((record) => typeof record.message === 'string');
    const serviceOf = (message: string): unknown[] => [...new Set(logs.filter((log) => log.message === message).map((log) => log.service))];
    expect(serviceOf('classify result')).toEqual(['classify']);
    expect(serviceOf('gauges')).toEqual(['gauges']);
    expect(serviceOf('run ended without success')).toEqual(['record-outcome']);
    // EMF lines: the namespace and the service dimension of the function that emitted them.
    const metrics = records.filter((record) => record._aws !== undefined);
    const metricNames = (service: string): string[] =>
      metrics
        .filter((metric) => metric.service === service)
        .flatMap((metric) => (metric._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] }).CloudWatchMetrics.flatMap((set) => set.Metrics.map((m) => `${set.Namespace}/${m.Name}`)));
    expect(metricNames('classify')).toContain('Pneumo/Pending');
    expect(metricNames('gauges')).toContain('Pneumo/PendingImages');
  });

  it('metrics disabled in the functions’ environment write no EMF line, whatever the process says', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const stack = await start();
      await put(stack, 'inbox/telemetry/quiet.jpeg');
      await stack.stack.idle();
      expect(await row(stack, 'inbox/telemetry/quiet.jpeg')).toMatchObject({ status: 'PENDING' });
      await stop(stack);
    } finally {
      stdout.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(lines.filter((line) => line.includes('"_aws"'))).toEqual([]);
  });
});
