import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ModelStatus } from '../../src/cli/commands/model.js';
import type { RetrainReport } from '../../src/cli/commands/retrain.js';
import { runCli } from '../../src/cli/program.js';
import type { ResultView } from '../../src/cli/results-view.js';
import { localTarget, parseEndpointsFile } from '../../src/cli/target.js';
import { writeEndpointsFile } from '../../src/local/endpoints-file.js';
import type { LocalStack } from '../../src/local/stack.js';
import { captureIo } from '../fixtures/cli.js';
import type { CapturedIo } from '../fixtures/cli.js';
import { fixtureImage } from '../fixtures/images.js';
import { startTestStack } from '../fixtures/local-stack.js';
import type { TestStack } from '../fixtures/local-stack.js';

/*
 * The CLI against the real local stack (S3 notifications → the classify handler, the production state machines
 * behind the Step Functions endpoint), through the endpoints file the stack's runner writes. No model is trained
 * here (that takes seconds): what a user sees before the first retrain is what is checked.
 */
let testStack: TestStack;
let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  testStack = await startTestStack(inject('packageDir'));
  ({ stack, dataDir } = testStack);
  // What src/local/main.ts writes, with this process as the stack's pid.
  await writeEndpointsFile(stack, dataDir, 'eu-west-1');
  await writeFile(join(dataDir, 'chest.jpeg'), fixtureImage('normal-1.jpeg'));
});

afterAll(async () => {
  await testStack.stop();
});

async function cli(argv: string[]): Promise<{ code: number; io: CapturedIo }> {
  const io = captureIo();
  const code = await runCli(['--data-dir', dataDir, ...argv], {
    io,
    // The stack runs in this process: waiting for it to settle replaces the pause between polls.
    sleep: () => stack.idle(),
  });
  return { code, io };
}

describe('pneumo against the local stack', () => {
  it('reads the endpoints file the stack writes', async () => {
    const file = parseEndpointsFile(await readFile(join(dataDir, 'endpoints.json'), 'utf8'), 'endpoints.json');
    const target = localTarget(file, dataDir);
    expect(target.names).toMatchObject({ bucket: stack.names.bucket, projectName: stack.names.projectName });
    expect(Object.keys(target.names.stateMachines).sort()).toEqual(['startModel', 'stopModel', 'trainAndDeploy']);
    target.close();
  });

  it('submit --wait follows an upload through classify to its row (PENDING: no model yet)', async () => {
    const { code, io } = await cli(['submit', join(dataDir, 'chest.jpeg'), '--prefix', 'ward-1', '--wait', '-f', 'json']);
    expect(code).toBe(0);
    const [view] = JSON.parse(io.text()) as ResultView[];
    expect(view).toMatchObject({ key: 'inbox/ward-1/chest.jpeg', status: 'PENDING', reason: 'no-model', imageFormat: 'jpeg', width: 224, height: 224 });
    expect(io.stderr.at(-1)).toMatch(/1 image\(s\) are PENDING: no model has been promoted yet; they are classified after the first retrain \(pneumo retrain --wait\)/);
    const listed = await cli(['results', '--status', 'PENDING', '-f', 'json']);
    expect((JSON.parse(listed.io.text()) as ResultView[]).map((v) => v.key)).toEqual(['inbox/ward-1/chest.jpeg']);
  });

  it('dlq redrive sends a dead letter’s image through classify again', async () => {
    const before = (JSON.parse((await cli(['result', 'ward-1/chest.jpeg', '-f', 'json'])).io.text()) as ResultView).processedAt;
    const letter = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId: 'r1', functionArn: 'arn', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { Records: [{ s3: { bucket: { name: stack.names.bucket }, object: { key: 'inbox/ward-1/chest.jpeg' } } }] },
      responsePayload: { errorType: 'RecordsNotProcessedError', errorMessage: 'throttled' },
    };
    await appendFile(stack.deadLetterFile, `${JSON.stringify(letter)}\n`);
    const { code, io } = await cli(['dlq', 'redrive']);
    expect(code).toBe(0);
    expect(io.stderr.at(-1)).toMatch(/re-drove 1 image\(s\); 0 no longer exist; 0 failed; removed 1 of 1/);
    await stack.idle();
    const after = (JSON.parse((await cli(['result', 'inbox/ward-1/chest.jpeg', '-f', 'json'])).io.text()) as ResultView).processedAt;
    expect(after > before).toBe(true);
    expect(JSON.parse((await cli(['dlq', 'list', '-f', 'json'])).io.text())).toEqual([]);
  });

  it('runs the production state machines through the Step Functions endpoint, with their outcomes as exit codes', async () => {
    const stop = await cli(['model', 'stop', '--wait', '-f', 'json']);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.io.text())).toMatchObject({ status: 'SUCCEEDED' });

    const start = await cli(['model', 'start', '--wait', '-f', 'json']);
    expect(start.code).toBe(1);
    expect(JSON.parse(start.io.text())).toMatchObject({ status: 'FAILED', error: 'NoModelToStartError' });

    const retrain = await cli(['retrain', '--version-name', 'empty-set', '--wait', '-f', 'json']);
    expect(retrain.code).toBe(1);
    const report = JSON.parse(retrain.io.text()) as RetrainReport;
    expect(report).toMatchObject({ versionName: 'empty-set', status: 'FAILED', error: 'DatasetError', gate: null });
    expect(retrain.io.stderr.at(-1)).toMatch(/^retrain of empty-set failed: DatasetError: /);

    const status = await cli(['model', 'status', '-f', 'json']);
    expect(status.code).toBe(0);
    const model = JSON.parse(status.io.text()) as ModelStatus;
    expect(model.active).toBeNull();
    expect(model.versions.map((v) => [v.versionName, v.status])).toEqual([['empty-set', 'FAILED']]);
  });
});
