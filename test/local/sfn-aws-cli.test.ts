import { execFile, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineArn, REGION, startTestMachines } from '../fixtures/sfn-machines.js';
import type { TestMachines } from '../fixtures/sfn-machines.js';

/*
 * The local Step Functions answered by an independent client: the `aws` CLI (botocore's own protocol code and
 * paginators), when this machine has it. Without it these tests are skipped, and say so.
 */

const run = promisify(execFile);
const hasCli = spawnSync('aws', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasCli) console.warn('sfn-aws-cli.test.ts: no `aws` CLI on this machine; the aws CLI checks of the local Step Functions are skipped');

let machines: TestMachines;
let env: NodeJS.ProcessEnv;

async function aws(...args: string[]): Promise<unknown> {
  const { stdout } = await run('aws', ['stepfunctions', ...args, '--endpoint-url', machines.sfn.url, '--output', 'json'], { env });
  return JSON.parse(stdout) as unknown;
}

async function start(machine: string, input: unknown = {}): Promise<string> {
  const { executionArn } = await machines.client.send(new StartExecutionCommand({ stateMachineArn: machineArn(machine), input: JSON.stringify(input) }));
  return executionArn ?? '';
}

describe.skipIf(!hasCli)('the local Step Functions through the aws CLI', () => {
  beforeAll(async () => {
    machines = await startTestMachines();
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PYENV_ROOT: process.env.PYENV_ROOT,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
    };
  });

  afterAll(async () => {
    machines.release();
    await machines.close();
    await rm(dirname(machines.stateFile), { recursive: true, force: true });
  });

  it('list-executions follows nextToken across pages to every execution, newest first', async () => {
    const started = await Promise.all(Array.from({ length: 23 }, () => start('quick')));
    await machines.sfn.idle();
    const listed = (await aws('list-executions', '--state-machine-arn', machineArn('quick'), '--page-size', '5')) as { executions: { executionArn: string; startDate: number }[] };
    expect(listed.executions.map((item) => item.executionArn).sort()).toEqual([...started].sort());
    const dates = listed.executions.map((item) => item.startDate);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
  }, 60_000);

  it('get-execution-history pages a history with its event ids; describe-state-machine gives the definition', async () => {
    const arn = await start('work', { items: [1, 2] });
    await machines.sfn.idle();
    const { events } = (await aws('get-execution-history', '--execution-arn', arn, '--page-size', '4')) as { events: { id: number; type: string }[] };
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['ExecutionStarted', 'TaskScheduled', 'LambdaFunctionSucceeded', 'MapIterationStarted', 'ExecutionSucceeded']));
    const machine = (await aws('describe-state-machine', '--state-machine-arn', machineArn('work'))) as { name: string; type: string; status: string; definition: string };
    expect(machine).toMatchObject({ name: 'work', type: 'STANDARD', status: 'ACTIVE' });
    expect(JSON.parse(machine.definition)).toMatchObject({ StartAt: 'Prepare' });
  }, 60_000);

  it('stop-execution stops a running execution; an unknown one is ExecutionDoesNotExist', async () => {
    const before = machines.calls.hold?.length ?? 0;
    const arn = await start('blocking');
    await machines.held(before + 1);
    const stopped = (await aws('stop-execution', '--execution-arn', arn, '--error', 'Operator.Stop', '--cause', 'from the CLI')) as { stopDate: number };
    expect(typeof stopped.stopDate).toBe('number');
    expect(await aws('describe-execution', '--execution-arn', arn)).toMatchObject({ status: 'ABORTED', error: 'Operator.Stop', cause: 'from the CLI' });
    const missing = arn.replace(/:[^:]+$/, ':missing');
    await expect(aws('describe-execution', '--execution-arn', missing)).rejects.toMatchObject({ stderr: expect.stringContaining('(ExecutionDoesNotExist)') as unknown });
  }, 60_000);
});
