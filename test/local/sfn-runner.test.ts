import { RekognitionClient } from '@aws-sdk/client-rekognition';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runLocally, SERVICE_TASK_TIMEOUT_SECONDS, withServiceTaskTimeouts } from '../../src/local/sfn-runner.js';
import type { LocalExecution } from '../../src/local/sfn-runner.js';
import { deferred } from '../fixtures/cli.js';

/*
 * Task timeouts as Step Functions applies them: a Task without TimeoutSeconds is not cut at the ASL spec's 60 s
 * (aws-local-stepfunctions' default) but runs as on AWS, where the default is 99 999 999 s. Node's setTimeout is
 * faked, so a minute passes in no time and nothing depends on this machine's speed.
 */

const SLOW = 'arn:aws:lambda:eu-west-1:000000000000:function:slow';
const definition = (value: unknown): StateMachineDefinition => value as StateMachineDefinition;
const slowTask = (extra: Record<string, unknown> = {}): StateMachineDefinition =>
  definition({ StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: SLOW, End: true, ...extra } } });

let rekognition: RekognitionClient;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  rekognition = new RekognitionClient({ region: 'eu-west-1' });
});
afterEach(() => {
  vi.useRealTimers();
  rekognition.destroy();
});

/** Runs the definition with a Lambda Task that answers only when `release` is called, after `minutes` have passed. */
async function runSlow(machine: StateMachineDefinition, minutes: number): Promise<LocalExecution> {
  const answer = deferred<{ done: boolean }>();
  const started = deferred();
  const execution = runLocally(machine, {}, {
    rekognition,
    functions: {
      [SLOW]: () => {
        started.resolve();
        return answer.promise;
      },
    },
  });
  await started.promise;
  await vi.advanceTimersByTimeAsync(minutes * 60_000);
  answer.resolve({ done: true });
  return execution;
}

describe('Task timeouts', () => {
  it('lets a Task without TimeoutSeconds run past a minute, as Step Functions does', async () => {
    await expect(runSlow(slowTask(), 11)).resolves.toMatchObject({ status: 'SUCCEEDED', output: { done: true } });
  });

  it('still ends a Task at its own TimeoutSeconds with States.Timeout', async () => {
    await expect(runSlow(slowTask({ TimeoutSeconds: 120 }), 3)).resolves.toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });

  it('gives the service default to every Task without a timeout, nested ones included, and leaves the others alone', () => {
    const machine = definition({
      StartAt: 'Each',
      States: {
        Each: { Type: 'Map', ItemProcessor: { StartAt: 'Inner', States: { Inner: { Type: 'Task', Resource: SLOW, End: true } } }, Next: 'Both' },
        Both: { Type: 'Parallel', Branches: [{ StartAt: 'Timed', States: { Timed: { Type: 'Task', Resource: SLOW, TimeoutSeconds: 60, End: true } } }], Next: 'ByPath' },
        ByPath: { Type: 'Task', Resource: SLOW, TimeoutSecondsPath: '$.timeout', End: true },
      },
    });
    const before = JSON.stringify(machine);
    const withDefaults = withServiceTaskTimeouts(machine);
    expect(JSON.stringify(machine)).toBe(before);
    expect(withDefaults).toMatchObject({
      States: {
        Each: { ItemProcessor: { States: { Inner: { TimeoutSeconds: SERVICE_TASK_TIMEOUT_SECONDS } } } },
        Both: { Branches: [{ States: { Timed: { TimeoutSeconds: 60 } } }] },
        ByPath: { TimeoutSecondsPath: '$.timeout' },
      },
    });
    expect((withDefaults.States.ByPath as { TimeoutSeconds?: number }).TimeoutSeconds).toBeUndefined();
    // Beyond Node's largest timer delay a timeout would fire at once.
    expect(SERVICE_TASK_TIMEOUT_SECONDS * 1000).toBeLessThanOrEqual(0x7fffffff);
    expect(SERVICE_TASK_TIMEOUT_SECONDS).toBeGreaterThan(345_600);
  });
});
