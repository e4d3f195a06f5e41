import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import type { ResultRow } from '../../../src/lib/tables/results.js';
import { servingHook } from '../../../src/lib/serving/classify-hook.js';
import type { ServingControl } from '../../../src/lib/serving/control.js';
import { VERSION_ARN } from '../../fixtures/models.js';

const row = (change: Partial<ResultRow>): ResultRow => ({ imageKey: 'inbox/a.jpeg', bucket: 'b', status: 'PENDING', sequencer: 'S', eventTime: 'T', processedAt: 'P', latencyMs: 1, ...change });

function fakeControl(): { control: ServingControl; imageWaiting: ReturnType<typeof vi.fn>; imageAnswered: ReturnType<typeof vi.fn> } {
  const imageWaiting = vi.fn(() => Promise.resolve({ kind: 'requested', action: 'start', reason: 'on-demand', executionArn: 'arn' }));
  const imageAnswered = vi.fn(() => Promise.resolve(true));
  return { control: { imageWaiting, imageAnswered } as unknown as ServingControl, imageWaiting, imageAnswered };
}

const logger = new Logger({ serviceName: 'hook-test', logLevel: 'SILENT' });

describe('servingHook', () => {
  it('asks for a start for a PENDING row only when the model is not running (not for no-model), and only when on-demand is on', async () => {
    const { control, imageWaiting } = fakeControl();
    await servingHook(control, logger, { startOnDemand: true }).afterStore(row({ reason: 'model-not-running' }), 5);
    await servingHook(control, logger, { startOnDemand: true }).afterStore(row({ reason: 'no-model' }), 6);
    await servingHook(control, logger, { startOnDemand: false }).afterStore(row({ reason: 'model-not-running' }), 7);
    expect(imageWaiting.mock.calls).toEqual([[5]]);
  });

  it('records use for answers with the version that answered, not for rejections', async () => {
    const { control, imageAnswered } = fakeControl();
    const hook = servingHook(control, logger, { startOnDemand: true });
    await hook.afterStore(row({ status: 'NEEDS_REVIEW', modelVersionArn: VERSION_ARN }), 9);
    await hook.afterStore(row({ status: 'REJECTED', reason: 'corrupt-image' }), 10);
    expect(imageAnswered.mock.calls).toEqual([[VERSION_ARN, 9]]);
  });

  it('never throws: the row is stored, and the serving check retries a start that could not be asked for', async () => {
    const { control, imageWaiting } = fakeControl();
    imageWaiting.mockRejectedValueOnce(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    const warn = vi.spyOn(logger, 'warn');
    await expect(servingHook(control, logger, { startOnDemand: true }).afterStore(row({ reason: 'model-not-running' }), 5)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith('serving bookkeeping failed', { key: 'inbox/a.jpeg', errorName: 'InternalServerError' });
  });
});
