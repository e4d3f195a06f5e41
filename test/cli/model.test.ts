import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeProjectsCommand, DescribeProjectVersionsCommand } from '@aws-sdk/client-rekognition';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { servingCost } from '../../src/cli/commands/model.js';
import type { ModelStatus } from '../../src/cli/commands/model.js';
import type { RetrainReport } from '../../src/cli/commands/retrain.js';
import { retrainInput } from '../../src/cli/commands/retrain.js';
import { runCli } from '../../src/cli/program.js';
import type { Target } from '../../src/cli/target.js';
import { stateEntered, taskSubmitted } from '../../src/local/sfn-history.js';
import { startLocalSfn } from '../../src/local/sfn-server.js';
import type { LocalSfn, MachineRunner } from '../../src/local/sfn-server.js';
import type { LocalExecution } from '../../src/local/sfn-runner.js';
import { captureIo, deferred, RESULTS_TABLE, SERVING_SCHEDULE, startLocalServers } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';

const ARN = {
  train: 'arn:aws:states:eu-west-1:000000000000:stateMachine:train',
  start: 'arn:aws:states:eu-west-1:000000000000:stateMachine:start',
  stop: 'arn:aws:states:eu-west-1:000000000000:stateMachine:stop',
};
const VERSION_ARN = (name: string): string => `arn:aws:rekognition:eu-west-1:000000000000:project/pneumo-test/version/${name}/1700000000000`;
const DEFINITION = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } } as unknown as StateMachineDefinition;

describe('servingCost', () => {
  const now = Date.parse('2026-11-25T12:30:00Z');
  it('bills hours since the start × minimum units × price while running, with the maximum as the upper bound', () => {
    expect(servingCost({ state: 'RUNNING', startedAt: '2026-11-25T10:00:00.000Z', minInferenceUnits: 1, maxInferenceUnits: 3 }, now, 4)).toEqual({
      from: '2026-11-25T10:00:00.000Z',
      to: '2026-11-25T12:30:00.000Z',
      hours: 2.5,
      inferenceUnits: 1,
      maxInferenceUnits: 3,
      pricePerUnitHour: 4,
      estimatedUsd: 10,
      estimatedMaxUsd: 30,
      ongoing: true,
    });
  });
  it('gives the last window of a stopped model, and nothing without a start time', () => {
    expect(servingCost({ state: 'STOPPED', startedAt: '2026-11-25T08:00:00Z', stoppedAt: '2026-11-25T09:30:00Z', minInferenceUnits: 2 }, now, 4)).toMatchObject({ hours: 1.5, estimatedUsd: 12, ongoing: false });
    expect(servingCost({ state: 'RUNNING', promotedAt: '2026-11-25T12:00:00Z' }, now, 3)).toMatchObject({ hours: 0.5, inferenceUnits: 1, estimatedUsd: 1.5 });
    expect(servingCost({ state: 'RUNNING' }, now, 4)).toBeNull();
  });
});

describe('retrainInput', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  it('sends only what was asked for, under the state machine’s field names', () => {
    expect(retrainInput({ start: true, wait: false, format: 'table' }, now)).toEqual({});
    expect(retrainInput({ start: false, wait: false, format: 'table', minF1: 0.9, minRecall: 0.95, testingPrefix: 'testing/', minUnits: 1, maxUnits: 2, versionName: 'v2' }, now)).toEqual({
      versionName: 'v2',
      testingPrefix: 'testing/',
      minF1: 0.9,
      minPneumoniaRecall: 0.95,
      minInferenceUnits: 1,
      maxInferenceUnits: 2,
      autoStart: false,
    });
  });
  it('refuses combinations the training Lambda would refuse, as usage errors', () => {
    expect(() => retrainInput({ start: true, wait: false, format: 'table', trainingPrefix: 'training/', testingPrefix: 'training/held-out/' }, now)).toThrow(/must not contain one another/);
    expect(() => retrainInput({ start: true, wait: false, format: 'table', minUnits: 3, maxUnits: 2 }, now)).toThrow(expect.objectContaining({ name: 'UsageError' }) as Error);
  });
});

describe('pneumo model and retrain', () => {
  let servers: LocalServers;
  let sfn: LocalSfn;
  let stateDir: string;
  const runners: Record<string, MachineRunner> = {};
  const inputs: { machine: string; name: string; input: unknown }[] = [];

  beforeAll(async () => {
    servers = await startLocalServers();
    stateDir = await mkdtemp(join(tmpdir(), 'pneumo-sfn-'));
    const machine = (arn: string): { definition: StateMachineDefinition; run: MachineRunner } => ({
      definition: DEFINITION,
      run: (input, execution) => {
        inputs.push({ machine: arn, name: execution.executionName, input });
        const runner = runners[arn];
        if (!runner) throw new Error(`no runner for ${arn}`);
        return runner(input, execution);
      },
    });
    sfn = await startLocalSfn({ port: 0, machines: { [ARN.train]: machine(ARN.train), [ARN.start]: machine(ARN.start), [ARN.stop]: machine(ARN.stop) }, stateFile: join(stateDir, 'executions.json') });
  });

  afterAll(async () => {
    await sfn.close();
    await servers.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    inputs.length = 0;
  });

  const target = (): Target => servers.target({ sfn: sfn.url });

  async function cli(argv: string[], options: { onSleep?: (count: number) => void; now?: () => number; make?: () => Target } = {}): Promise<{ code: number; stdout: string[]; stderr: string[]; json: () => unknown }> {
    const io = captureIo();
    let sleeps = 0;
    const code = await runCli(argv, {
      io,
      resolveTarget: () => Promise.resolve((options.make ?? target)()),
      now: options.now ?? Date.now,
      sleep: async () => {
        sleeps += 1;
        options.onSleep?.(sleeps);
        // Lets the local Step Functions server move on: real I/O, no timer.
        await sfn.idle();
      },
    });
    return { code, stdout: io.stdout, stderr: io.stderr, json: () => JSON.parse(io.text()) as unknown };
  }

  /** A target whose Rekognition project has these versions (null: no project yet). */
  function withVersions(names: readonly string[] | null): () => Target {
    return () => {
      const t = target();
      const rekognition = mockClient(t.clients.rekognition);
      rekognition.on(DescribeProjectsCommand).resolves({ ProjectDescriptions: names ? [{ ProjectArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/pneumo-test/1' }] : [] });
      rekognition.on(DescribeProjectVersionsCommand).resolves({ ProjectVersionDescriptions: (names ?? []).map((name) => ({ ProjectVersionArn: VERSION_ARN(name), Status: 'STOPPED' })) });
      return t;
    };
  }

  async function putRegistry(item: Record<string, unknown>): Promise<void> {
    const t = target();
    await t.clients.documents.send(new PutCommand({ TableName: t.names.registryTable, Item: item }));
    t.close();
  }

  it('model status joins the registry and the service, estimates the serving cost and flags a stray running version', async () => {
    await putRegistry({ id: 'active', projectVersionArn: VERSION_ARN('v2'), versionName: 'v2', state: 'RUNNING', f1: 0.93, minInferenceUnits: 1, maxInferenceUnits: 1, startedAt: '2026-11-25T10:00:00.000Z', promotedAt: '2026-11-25T10:05:00.000Z' });
    await putRegistry({ id: 'version#v2', versionName: 'v2', status: 'DEPLOYED', f1: 0.93, requestedAt: '2026-11-25T08:00:00.000Z', gate: { decision: 'ACCEPTED', reasons: [] } });
    await putRegistry({ id: 'version#v1', versionName: 'v1', status: 'REJECTED', f1: 0.7, requestedAt: '2026-11-24T08:00:00.000Z', gate: { decision: 'REJECTED', reasons: ['F1_BELOW_MINIMUM'] } });
    await putRegistry({ id: 'lock#training', versionName: 'v3', executionArn: 'x' });
    const make = (): Target => {
      const t = target();
      const rekognition = mockClient(t.clients.rekognition);
      rekognition.on(DescribeProjectsCommand).resolves({ ProjectDescriptions: [{ ProjectArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/pneumo-test/1' }] });
      rekognition.on(DescribeProjectVersionsCommand).resolves({
        ProjectVersionDescriptions: [
          { ProjectVersionArn: VERSION_ARN('v2'), Status: 'RUNNING', MinInferenceUnits: 1, MaxInferenceUnits: 1 },
          { ProjectVersionArn: VERSION_ARN('v1'), Status: 'RUNNING', MinInferenceUnits: 2, MaxInferenceUnits: 2 },
        ],
      });
      return t;
    };
    const run = await cli(['model', 'status', '--format', 'json', '--price', '4'], { make, now: () => Date.parse('2026-11-25T12:00:00Z') });
    expect(run.code).toBe(0);
    const status = run.json() as ModelStatus;
    expect(status.active).toMatchObject({ versionName: 'v2', state: 'RUNNING', serviceStatus: 'RUNNING', f1: 0.93, cost: { hours: 2, estimatedUsd: 8, ongoing: true } });
    expect(status.versions.map((v) => [v.versionName, v.status, v.serviceStatus, v.gate, v.active])).toEqual([
      ['v2', 'DEPLOYED', 'RUNNING', 'ACCEPTED', true],
      ['v1', 'REJECTED', 'RUNNING', 'REJECTED', false],
    ]);
    expect(run.stderr.join('\n')).toMatch(/version v1 is RUNNING but not the active model: it is billed/);
    expect(status.training).toEqual({ versionName: 'v3', executionArn: 'x', acquiredAt: null, expiresAt: null, executionStatus: null, state: null });
    expect(run.stderr.join('\n')).toMatch(/could not ask Step Functions about the retrain x \(InvalidArn: /);

    const table = await cli(['model', 'status', '--price', '4'], { make, now: () => Date.parse('2026-11-25T12:00:00Z') });
    expect(table.stdout).toContain('serving cost   $8.00 (2.00 h × 1 unit(s) × $4.00/unit-hour, running now; an estimate, not a bill)');
    expect(table.stdout.find((line) => line.startsWith('* v2'))).toMatch(/\* v2\s+DEPLOYED\s+RUNNING\s+0\.930\s+1-1\s+ACCEPTED/);
  });

  it('model status reads every page of the service\'s versions: a stray running version on a later page is flagged', async () => {
    // The registry as the previous test left it: v2 active, v1 rejected.
    let rekognition: ReturnType<typeof mockClient> | undefined;
    const make = (): Target => {
      const t = target();
      rekognition = mockClient(t.clients.rekognition);
      rekognition.on(DescribeProjectsCommand).resolves({ ProjectDescriptions: [{ ProjectArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/pneumo-test/1' }] });
      rekognition
        .on(DescribeProjectVersionsCommand)
        .resolvesOnce({ ProjectVersionDescriptions: [{ ProjectVersionArn: VERSION_ARN('v2'), Status: 'RUNNING' }], NextToken: 'page-2' })
        .resolvesOnce({ ProjectVersionDescriptions: [{ ProjectVersionArn: VERSION_ARN('v1'), Status: 'RUNNING' }] });
      return t;
    };
    const run = await cli(['model', 'status', '--format', 'json', '--price', '4'], { make, now: () => Date.parse('2026-11-25T12:00:00Z') });
    expect(run.code).toBe(0);
    expect(rekognition).toHaveReceivedCommandTimes(DescribeProjectVersionsCommand, 2);
    expect(rekognition).toHaveReceivedNthCommandWith(DescribeProjectVersionsCommand, 2, { NextToken: 'page-2' });
    const status = run.json() as ModelStatus;
    expect(status.versions.find((v) => v.versionName === 'v1')).toMatchObject({ serviceStatus: 'RUNNING', active: false });
    expect(run.stderr.join('\n')).toMatch(/version v1 is RUNNING but not the active model: it is billed/);
  });

  it('model status shows the state the retrain holding the lock is in, and calls a lock whose execution ended stale', async () => {
    const finish = deferred();
    runners[ARN.train] = async (_input, execution): Promise<LocalExecution> => {
      execution.onEvent(stateEntered('WaitForTraining', 'Wait', {}));
      await finish.promise;
      return { status: 'FAILED', executionArn: execution.executionArn, error: 'States.Runtime', cause: 'gone', states: [] };
    };
    const t = target();
    const { executionArn } = await t.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: ARN.train, name: 'train-v10', input: '{}' }));
    t.close();
    await putRegistry({ id: 'lock#training', versionName: 'v10', executionArn, acquiredAt: '2026-11-25T10:00:00.000Z', expiresAt: '2026-11-25T13:00:00.000Z' });
    const running = await cli(['model', 'status']);
    expect(running.stdout).toContain(`retraining     v10 since 2026-11-25T10:00:00.000Z, in WaitForTraining (${String(executionArn)})`);
    expect(running.stderr.join('\n')).not.toMatch(/training lock belongs/);

    finish.resolve();
    await sfn.idle();
    const stale = await cli(['model', 'status', '-f', 'json']);
    expect((stale.json() as ModelStatus).training).toMatchObject({ versionName: 'v10', executionStatus: 'FAILED', state: 'WaitForTraining' });
    expect(stale.stderr).toContain(`note: the training lock belongs to ${String(executionArn)}, which is FAILED (States.Runtime): no retrain can start until it expires at 2026-11-25T13:00:00.000Z`);
  });

  it('model status prints the monthly cost of always-on vs the stage serving window, from the stack description', async () => {
    const run = await cli(['model', 'status', '--format', 'json', '--price', '4']);
    const { monthlyCost } = run.json() as ModelStatus;
    expect(monthlyCost?.rows.map((row) => [row.scenario, row.monthlyCostMin])).toEqual([
      ['always-on', 2920],
      ['manual-start-until-daily-stop', 1044],
    ]);
    const table = await cli(['model', 'status', '--price', '4']);
    expect(table.stdout).toContain('monthly inference cost at $4.00/unit-hour (an estimate, not a bill)');
    expect(table.stdout.find((line) => line.startsWith('always-on'))).toMatch(/always-on\s+730\s+\$2920\.00/);

    const without = await cli(['model', 'status', '--format', 'json'], { make: () => servers.target({ sfn: sfn.url, names: { servingSchedule: undefined } }) });
    expect((without.json() as ModelStatus).monthlyCost).toBeNull();
    expect(without.stderr.join('\n')).toMatch(/no ServingSchedule output/);
  });

  it('model status still shows the registry when the service cannot be asked', async () => {
    const make = (): Target => {
      const t = target();
      mockClient(t.clients.rekognition).on(DescribeProjectsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
      return t;
    };
    const run = await cli(['model', 'status', '-f', 'json'], { make });
    expect(run.code).toBe(0);
    expect((run.json() as ModelStatus).versions.map((v) => v.versionName)).toEqual(['v2', 'v1']);
    expect(run.stderr.join('\n')).toMatch(/could not ask Rekognition \(AccessDeniedException: not allowed\); registry only/);
  });

  it('model status says why the model started and stopped, checks the units rule, and projects each policy on the recent traffic', async () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    await putRegistry({
      id: 'active', projectVersionArn: VERSION_ARN('v2'), versionName: 'v2', state: 'STOPPED', minInferenceUnits: 1, maxInferenceUnits: 1,
      startedAt: '2026-11-25T09:00:00.000Z', startReason: 'on-demand', stoppedAt: '2026-11-25T09:20:00.000Z', stopReason: 'idle', lastUsedAt: '2026-11-25T09:14:00.000Z',
      serving: { request: 'START', reason: 'on-demand', requestedAt: '2026-11-25T11:59:00.000Z' },
    });
    // Twenty images over the last week, one every 8 hours and a bit: a sparse site.
    const t = target();
    for (let i = 0; i < 20; i += 1) {
      const at = new Date(now - (i + 1) * 8.2 * 3_600_000).toISOString();
      await t.clients.documents.send(new PutCommand({ TableName: RESULTS_TABLE, Item: { imageKey: `inbox/p${i}.jpeg`, status: 'CLASSIFIED', label: 'NORMAL', eventTime: at, processedAt: at } }));
    }
    t.close();
    const schedule = { ...SERVING_SCHEDULE, classifyConcurrency: 5, serving: { onDemandStart: true, idleStopMinutes: 5, checkRate: 'rate(1 minute)', quietHours: 'off', dailyCapHours: 0 } };
    const make = (): Target => {
      const made = servers.target({ sfn: sfn.url, names: { servingSchedule: schedule } });
      mockClient(made.clients.rekognition).rejects(new Error('offline'));
      return made;
    };
    const run = await cli(['model', 'status', '--format', 'json'], { make, now: () => now });
    const status = run.json() as ModelStatus;
    expect(status.serving.events).toEqual({
      startReason: 'on-demand', startedAt: '2026-11-25T09:00:00.000Z', stopReason: 'idle', stoppedAt: '2026-11-25T09:20:00.000Z', lastUsedAt: '2026-11-25T09:14:00.000Z',
      inFlight: { request: 'START', reason: 'on-demand', requestedAt: '2026-11-25T11:59:00.000Z' }, lastStartError: null,
    });
    expect(status.serving.units).toMatchObject({ classifyConcurrency: 5, fits: true });
    const projection = status.serving.projection;
    expect(projection).toMatchObject({ windowDays: 7, images: 20, startLatencyMinutes: 10 });
    const cost = Object.fromEntries((projection?.policies ?? []).map((row) => [row.policy, row.monthlyUsd]));
    expect(cost['on-demand']).toBeLessThan(0.25 * (cost['weekday-schedule'] ?? 0));
    expect(cost['weekday-schedule']).toBeLessThan(cost['always-on'] ?? 0);

    const table = await cli(['model', 'status', '--start-latency-minutes', '15'], { make, now: () => now });
    expect(table.stdout).toEqual(expect.arrayContaining([
      'last start     on-demand at 2026-11-25T09:00:00.000Z',
      'last stop      idle at 2026-11-25T09:20:00.000Z',
      'in flight      START (on-demand) since 2026-11-25T11:59:00.000Z',
      'serving        on demand, idle stop after 5 min (checked rate(1 minute))',
    ]));
    expect(table.stdout.join('\n')).toMatch(/projected monthly cost from the last 7 day\(s\) of traffic \(20 image\(s\); a start assumed to take 15 min/);

    // Fifteen callers would keep three units busy; the model runs with one.
    const misfit = await cli(['model', 'status', '--format', 'json'], {
      make: () => {
        const made = servers.target({ sfn: sfn.url, names: { servingSchedule: { ...schedule, classifyConcurrency: 15 } } });
        mockClient(made.clients.rekognition).rejects(new Error('offline'));
        return made;
      },
      now: () => now,
    });
    expect(misfit.stderr.join('\n')).toMatch(/inference units do not fit classify: classify concurrency 15 keeps 3 unit\(s\) busy at 5 callers per unit, not 1/);
  });

  it('model start --wait runs the start state machine with the given input and follows it to the end', async () => {
    const release = deferred();
    runners[ARN.start] = async (_input, execution): Promise<LocalExecution> => {
      execution.onEvent(stateEntered('PlanStart', 'Task', {}));
      await release.promise;
      execution.onEvent(stateEntered('Promote', 'Task', {}));
      return { status: 'SUCCEEDED', executionArn: execution.executionArn, output: { versionName: 'v2' }, states: ['PlanStart', 'Promote'] };
    };
    const run = await cli(['model', 'start', '--version-name', 'v2', '--min-units', '2', '--wait', '-f', 'json'], { onSleep: () => { release.resolve(); }, make: withVersions(['v1', 'v2']) });
    expect(run.code).toBe(0);
    expect(inputs).toEqual([{ machine: ARN.start, name: expect.stringMatching(/^cli-start-\d{8}T\d{9}$/) as string, input: { reason: 'user', versionName: 'v2', minInferenceUnits: 2 } }]);
    expect(run.json()).toMatchObject({ status: 'SUCCEEDED', output: { versionName: 'v2' }, error: null });
    expect(run.stderr[0]).toMatch(/^started start of version v2: arn:aws:states:eu-west-1:000000000000:execution:start:cli-start-/);
    expect(run.stderr).toContain('start of version v2: PlanStart · 0s');
  });

  it('model start --version-name refuses a version the project does not have before starting anything (exit 1)', async () => {
    // A start run that fails backs off every on-demand start: a typo must not reach the state machine.
    const run = await cli(['model', 'start', '--version-name', 'v9', '--wait'], { make: withVersions(['v1', 'v2']) });
    expect(run.code).toBe(1);
    expect(inputs).toEqual([]);
    expect(run.stderr.join('\n')).toMatch(/project pneumo-test has no version v9 \(versions: v1, v2\); nothing was started/);
    const untrained = await cli(['model', 'start', '--version-name', 'v1'], { make: withVersions(null) });
    expect(untrained.code).toBe(1);
    expect(untrained.stderr.join('\n')).toMatch(/project pneumo-test has no version v1 \(no model was trained yet\); nothing was started/);
    expect(inputs).toEqual([]);
  });

  it('model stop --wait exits 1 when the stop run fails, saying why', async () => {
    runners[ARN.stop] = (_input, execution): Promise<LocalExecution> =>
      Promise.resolve({ status: 'FAILED', executionArn: execution.executionArn, error: 'ModelStopFailed', cause: 'version v2 stayed STOPPING', states: [] });
    const run = await cli(['model', 'stop', '--wait']);
    expect(run.code).toBe(1);
    expect(inputs[0]?.input).toEqual({ reason: 'user' });
    expect(run.stdout.join('\n')).toMatch(/stop of every running model version: FAILED after \d+s \(ModelStopFailed: version v2 stayed STOPPING\)/);
  });

  it('model stop holds the model stopped first (who, when, why, until), and status shows the hold with the images waiting behind it', async () => {
    const now = Date.parse('2026-12-01T10:00:00.000Z');
    runners[ARN.stop] = (_input, execution): Promise<LocalExecution> => Promise.resolve({ status: 'SUCCEEDED', executionArn: execution.executionArn, output: {}, states: [] });
    const t = target();
    await t.clients.documents.send(new PutCommand({ TableName: RESULTS_TABLE, Item: { imageKey: 'inbox/held.jpeg', status: 'PENDING', processedAt: '2026-12-01T10:01:00.000Z' } }));
    t.close();
    const run = await cli(['model', 'stop', '--until', '2h', '--reason', 'scanner maintenance'], { now: () => now });
    expect(run.code).toBe(0);
    expect(inputs[0]?.input).toEqual({ reason: 'user' });
    expect(run.stderr[0]).toMatch(/^held by local:\S+: no on-demand or scheduled start until 2026-12-01T12:00:00.000Z; images wait PENDING meanwhile$/);

    const status = await cli(['model', 'status', '-f', 'json'], { now: () => now + 60 * 60_000 });
    expect((status.json() as ModelStatus).hold).toEqual({ by: expect.stringMatching(/^local:/) as string, since: '2026-12-01T10:00:00.000Z', reason: 'scanner maintenance', until: '2026-12-01T12:00:00.000Z', pendingImages: 1 });
    const table = await cli(['model', 'status'], { now: () => now + 60 * 60_000 });
    expect(table.stdout.join('\n')).toMatch(/hold {11}held by local:\S+ since 2026-12-01T10:00:00.000Z \(scanner maintenance\), until 2026-12-01T12:00:00.000Z; 1 image\(s\) wait PENDING/);
    // Lapsed at --until: no hold any more.
    expect(((await cli(['model', 'status', '-f', 'json'], { now: () => now + 2 * 60 * 60_000 })).json() as ModelStatus).hold).toBeNull();
  });

  it('model stop refuses an --until that is not a time to come (exit 2, naming the option) and holds nothing', async () => {
    const now = Date.parse('2026-12-01T10:00:00.000Z');
    for (const bad of ['yesterday', '2026-11-30T10:00:00Z', '2026-02-30T10:00:00Z', '0s', '400d']) {
      const run = await cli(['model', 'stop', '--until', bad], { now: () => now });
      expect(run.code, bad).toBe(2);
      expect(run.stderr.join('\n'), bad).toMatch(/option '--until <time>' argument .* is invalid/);
    }
    expect((await cli(['model', 'stop', '--reason', ''], { now: () => now })).code).toBe(2);
    expect(inputs).toEqual([]);
  });

  it('model start refuses --max-units below --min-units (exit 2) and a target without the state machine (exit 3)', async () => {
    expect((await cli(['model', 'start', '--min-units', '3', '--max-units', '1'])).code).toBe(2);
    const missing = await cli(['model', 'stop'], { make: () => servers.target({ sfn: sfn.url, names: { stateMachines: {} } }) });
    expect(missing.code).toBe(3);
    expect(missing.stderr[0]).toMatch(/does not serve the StopModelStateMachine state machine/);
  });

  it('retrain --wait names the execution train-<version>, then reports F1, per-label metrics and the gate', async () => {
    runners[ARN.train] = async (input, execution): Promise<LocalExecution> => {
      execution.onEvent(stateEntered('PrepareDataset', 'Task', {}));
      execution.onEvent(stateEntered('Evaluate', 'Task', {}));
      await putRegistry({
        id: 'version#v7',
        versionName: 'v7',
        status: 'DEPLOYED',
        outcome: 'DEPLOYED',
        f1: 0.912,
        labelMetrics: [
          { label: 'NORMAL', f1: 0.88, precision: 0.9, recall: 0.86, threshold: 0.5, testImages: 40 },
          { label: 'PNEUMONIA', f1: 0.94, precision: 0.93, recall: 0.95, threshold: 0.5, testImages: 60 },
        ],
        gate: { decision: 'ACCEPTED', reasons: [], minF1: 0.85, minPneumoniaRecall: 0.9, liveF1: 0.9 },
        gateSummary: 'version v7 accepted: F1 0.912, PNEUMONIA recall 0.950',
      });
      return { status: 'SUCCEEDED', executionArn: execution.executionArn, output: { outcome: 'DEPLOYED', versionName: (input as { versionName: string }).versionName }, states: [] };
    };
    const run = await cli(['retrain', '--version-name', 'v7', '--min-f1', '0.85', '--wait', '-f', 'json']);
    expect(run.code).toBe(0);
    expect(inputs).toEqual([{ machine: ARN.train, name: 'train-v7', input: { versionName: 'v7', minF1: 0.85 } }]);
    const report = run.json() as RetrainReport;
    expect(report).toMatchObject({ versionName: 'v7', status: 'SUCCEEDED', outcome: 'DEPLOYED', f1: 0.912, gate: { decision: 'ACCEPTED', reasons: [] } });
    expect(report.labels.map((l) => [l.label, l.recall])).toEqual([['NORMAL', 0.86], ['PNEUMONIA', 0.95]]);
    expect(run.stderr).toContain('version v7 deployed and promoted');

    const again = await cli(['retrain', '--version-name', 'v7']);
    expect(again.code).toBe(1);
    expect(again.stderr[0]).toMatch(/model version "v7" was already requested/);
  });

  it('retrain --wait shows the state of the start-model execution its StartModel Task runs', async () => {
    const started = deferred();
    runners[ARN.start] = async (_input, execution): Promise<LocalExecution> => {
      execution.onEvent(stateEntered('WaitForStart', 'Wait', {}));
      await started.promise;
      return { status: 'SUCCEEDED', executionArn: execution.executionArn, output: {}, states: [] };
    };
    runners[ARN.train] = async (_input, execution): Promise<LocalExecution> => {
      execution.onEvent(stateEntered('StartModel', 'Task', {}));
      const child = execution.startExecution({ stateMachineArn: ARN.start, name: undefined, input: {} });
      execution.onEvent(taskSubmitted({ kind: 'service', resourceType: 'states', resource: 'startExecution.sync:2', region: 'eu-west-1' }, { ExecutionArn: child.executionArn }));
      await child.done;
      await putRegistry({ id: 'version#v9', versionName: 'v9', status: 'DEPLOYED', outcome: 'DEPLOYED', f1: 0.9, gate: { decision: 'ACCEPTED', reasons: [] } });
      return { status: 'SUCCEEDED', executionArn: execution.executionArn, output: { outcome: 'DEPLOYED', versionName: 'v9' }, states: [] };
    };
    const run = await cli(['retrain', '--version-name', 'v9', '--wait'], { onSleep: () => { started.resolve(); } });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('retrain v9: StartModel › WaitForStart · 0s');
    expect(inputs.map((i) => i.machine)).toEqual([ARN.train, ARN.start]);
  });

  it('retrain --wait exits 1 when the gate refuses, with the reasons in the report', async () => {
    runners[ARN.train] = async (_input, execution): Promise<LocalExecution> => {
      await putRegistry({ id: 'version#v8', versionName: 'v8', status: 'REJECTED', outcome: 'REJECTED', f1: 0.7, gate: { decision: 'REJECTED', reasons: ['F1_BELOW_MINIMUM'] }, gateSummary: 'version v8 rejected and not deployed: F1 0.700 is below the minimum 0.850' });
      return { status: 'FAILED', executionArn: execution.executionArn, error: 'ModelRejected', cause: 'version v8 rejected and not deployed: F1 0.700 is below the minimum 0.850', states: [] };
    };
    const run = await cli(['retrain', '--version-name', 'v8', '--no-start', '--wait']);
    expect(run.code).toBe(1);
    expect(inputs[0]?.input).toEqual({ versionName: 'v8', autoStart: false });
    expect(run.stdout).toContain('gate        REJECTED (F1_BELOW_MINIMUM)');
    expect(run.stderr.at(-1)).toBe('the gate refused version v8: nothing was deployed');
  });

  it('retrain --wait prints a Lambda error\'s message, not the JSON Step Functions carries it in', async () => {
    const cause = JSON.stringify({ errorType: 'TrainingInProgressError', errorMessage: 'a retrain is already running (version "v3"); wait for it to finish' });
    runners[ARN.train] = (_input, execution): Promise<LocalExecution> => Promise.resolve({ status: 'FAILED', executionArn: execution.executionArn, error: 'TrainingInProgressError', cause, states: [] });
    const run = await cli(['retrain', '--version-name', 'busy-1', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout.join('\n')).toContain('error       TrainingInProgressError: a retrain is already running (version "v3"); wait for it to finish');
    expect(run.stderr.at(-1)).toBe('retrain of busy-1 failed: TrainingInProgressError: a retrain is already running (version "v3"); wait for it to finish');
    const json = await cli(['retrain', '--version-name', 'busy-2', '--wait', '-f', 'json']);
    expect(json.json()).toMatchObject({ cause });
  });

  it('retrain validates its options before starting anything (exit 2)', async () => {
    for (const argv of [
      ['retrain', '--min-f1', '1.5'],
      ['retrain', '--min-recall', 'high'],
      ['retrain', '--testing-prefix', 'inbox/'],
      ['retrain', '--version-name', '-bad'],
      ['retrain', '--training-prefix', 'training/', '--testing-prefix', 'training/x/'],
    ]) {
      expect((await cli(argv)).code, argv.join(' ')).toBe(2);
    }
    expect(inputs).toEqual([]);
  });
});
