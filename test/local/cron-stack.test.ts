import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../fixtures/manual-clock.js';
import { startTestStack } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * The local stack runs the template's daily stop (cron(0 19 * * ? *) in Europe/London) as EventBridge Scheduler
 * does: at 19:00 London time the stop-model machine starts with the schedule's input. The scheduler's clock is
 * a test's; everything else runs as it does for `npm start`.
 */

let testStack: TestStack;
const clock = new ManualClock(Date.parse('2026-12-01T18:59:30Z'));

beforeAll(async () => {
  testStack = await startTestStack(inject('localPackageDir'), { cronSchedules: { clock } });
});

afterAll(async () => {
  await testStack.stop();
});

async function stopExecutions(): Promise<{ executionArn?: string | undefined; status?: string | undefined }[]> {
  const { executions = [] } = await testStack.sfn.send(new ListExecutionsCommand({ stateMachineArn: testStack.stack.names.stateMachines.StopModelStateMachine }));
  return executions;
}

describe('daily schedules on the local stack', () => {
  it('starts the stop-model machine at 19:00 London with {"reason":"schedule"}, and not before', async () => {
    clock.advanceTo(Date.parse('2026-12-01T18:59:59Z'));
    await testStack.stack.idle();
    expect(await stopExecutions()).toEqual([]);

    clock.advanceTo(Date.parse('2026-12-01T19:00:00Z'));
    await testStack.stack.idle();
    const executions = await stopExecutions();
    expect(executions).toHaveLength(1);
    const described = await testStack.sfn.send(new DescribeExecutionCommand({ executionArn: executions[0]?.executionArn }));
    expect(described).toMatchObject({ status: 'SUCCEEDED', input: '{"reason":"schedule"}' });
  });
});
