import { appendFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { INTERRUPTED } from '../../src/local/sfn-store.js';
import { machineArn, startTestMachines } from '../fixtures/sfn-machines.js';
import type { TestMachines } from '../fixtures/sfn-machines.js';

/*
 * The local Step Functions restarted on the same journal: finished executions keep their status and history; one
 * that was running when the process stopped cannot be resumed mid-state, so it is reported FAILED with a cause
 * that says so (the service itself never loses an execution, so neither may the local stack).
 */

const open: TestMachines[] = [];
const warnings: string[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning.message);
};

afterEach(async () => {
  process.removeListener('warning', onWarning);
  for (const machines of open.splice(0)) {
    machines.release();
    await machines.close();
  }
});

async function start(machines: TestMachines, machine: string, input: unknown): Promise<string> {
  const { executionArn } = await machines.client.send(new StartExecutionCommand({ stateMachineArn: machineArn(machine), input: JSON.stringify(input) }));
  return executionArn ?? '';
}

describe('local Step Functions restarted on the same journal', () => {
  it('keeps finished executions and reports the ones that were running as FAILED, naming why', async () => {
    const first = await startTestMachines();
    open.push(first);
    const done = await start(first, 'work', { items: [1] });
    await first.sfn.idle();
    const { events: before = [] } = await first.client.send(new GetExecutionHistoryCommand({ executionArn: done }));
    const held = await start(first, 'blocking', {});
    const parent = await start(first, 'parent', { hold: true });
    await first.held(2);
    // A line the kill cut short: never acknowledged, dropped.
    await appendFile(first.stateFile, '{"op":"event","arn":"');

    process.on('warning', onWarning);
    // `first` is still alive but never writes again to this journal: to the second process it is a killed one.
    const second = await startTestMachines({ stateFile: first.stateFile });
    open.push(second);
    const { events: after = [] } = await second.client.send(new GetExecutionHistoryCommand({ executionArn: done }));
    expect(after).toEqual(before);
    expect((await second.client.send(new DescribeExecutionCommand({ executionArn: done }))).status).toBe('SUCCEEDED');

    for (const arn of [held, parent]) {
      expect(await second.client.send(new DescribeExecutionCommand({ executionArn: arn }))).toMatchObject({ status: 'FAILED', error: INTERRUPTED.error, cause: INTERRUPTED.cause });
      const { events = [] } = await second.client.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 1 }));
      expect(events[0]).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: INTERRUPTED.error, cause: INTERRUPTED.cause } });
    }
    // The nested child the parent was waiting for too.
    const { executions: children = [] } = await second.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('child'), statusFilter: 'FAILED' }));
    expect(children).toHaveLength(1);
    await new Promise((resolve) => { process.nextTick(resolve); });
    expect(warnings.filter((message) => message.includes('was running when the local stack stopped'))).toHaveLength(3);

    // The restarted endpoint runs new executions as before.
    const again = await start(second, 'quick', {});
    await second.sfn.idle();
    expect((await second.client.send(new DescribeExecutionCommand({ executionArn: again }))).status).toBe('SUCCEEDED');
    await rm(dirname(first.stateFile), { recursive: true, force: true });
  });
});
