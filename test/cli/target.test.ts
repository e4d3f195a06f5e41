import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/errors.js';
import { parseEndpointsFile, processAlive, resolveTarget, stateMachineArn } from '../../src/cli/target.js';

const OUTPUTS = {
  BucketName: 'pneumo-dev-123456789012-eu-west-1',
  ResultsTableName: 'pneumo-dev-results',
  RegistryTableName: 'pneumo-dev-registry',
  DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pneumo-dev-classify-dlq',
  ProjectName: 'pneumo-dev',
  TrainAndDeployStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:pneumo-dev-train-and-deploy',
  StartModelStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:pneumo-dev-start-model',
};

function endpointsFile(pid: number): string {
  return JSON.stringify({
    pid,
    region: 'eu-west-1',
    endpoints: { s3: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:2', rekognition: 'http://127.0.0.1:3', sfn: 'http://127.0.0.1:4' },
    names: {
      bucket: 'pneumo-local-bucket',
      tables: { ResultsTable: 'pneumo-local-results', RegistryTable: 'pneumo-local-registry' },
      stateMachines: { TrainAndDeployStateMachine: 'arn:aws:states:eu-west-1:000000000000:stateMachine:pneumo-local-train-and-deploy' },
      projectName: 'pneumo-local',
    },
    deadLetterFile: '/tmp/dead-letters.jsonl',
  });
}

describe('target resolution', () => {
  let dir: string;
  const cloudFormation = mockClient(CloudFormationClient);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pneumo-target-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    cloudFormation.restore();
  });
  afterEach(() => {
    cloudFormation.reset();
  });

  it('uses a running local stack from its endpoints file, with its names and dead-letter file', async () => {
    await writeFile(join(dir, 'endpoints.json'), endpointsFile(process.pid));
    const target = await resolveTarget({ dataDir: dir });
    expect(target).toMatchObject({
      kind: 'local',
      region: 'eu-west-1',
      names: { bucket: 'pneumo-local-bucket', resultsTable: 'pneumo-local-results', registryTable: 'pneumo-local-registry', projectName: 'pneumo-local' },
      deadLetters: { kind: 'file', path: '/tmp/dead-letters.jsonl' },
    });
    expect(stateMachineArn(target, 'trainAndDeploy')).toMatch(/train-and-deploy$/);
    expect(() => stateMachineArn(target, 'stopModel')).toThrow(/does not serve the StopModelStateMachine/);
    expect(target.clients.s3.config.forcePathStyle).toBe(true);
    expect(await target.clients.s3.config.credentials()).toMatchObject({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    target.close();
  });

  it('refuses a stopped local stack (exit 3) and mixing --local with --stage (exit 2)', async () => {
    // A pid far above any pid_max is never alive.
    await writeFile(join(dir, 'endpoints.json'), endpointsFile(2 ** 30));
    expect(processAlive(2 ** 30)).toBe(false);
    const stopped = await resolveTarget({ dataDir: dir }).catch((error: unknown) => error);
    expect(describeError(stopped)).toEqual({ message: expect.stringMatching(/is not running \(pid 1073741824 has exited\); start it with `pneumo local up`/) as string, exitCode: 3 });
    const empty = await mkdtemp(join(dir, 'empty-'));
    expect(describeError(await resolveTarget({ local: true, dataDir: empty }).catch((error: unknown) => error)).exitCode).toBe(3);
    expect(describeError(await resolveTarget({ local: true, stage: 'dev' }).catch((error: unknown) => error)).exitCode).toBe(2);
    expect(() => parseEndpointsFile('{"pid": 1}', 'x.json')).toThrow(/does not describe a local stack/);
  });

  it('uses the default folder’s running stack without options, and says so when it has stopped and AWS fails too', async () => {
    const folder = await mkdtemp(join(dir, 'default-'));
    await writeFile(join(folder, 'endpoints.json'), endpointsFile(process.pid));
    const target = await resolveTarget({}, folder);
    expect(target.kind).toBe('local');
    target.close();
    await writeFile(join(folder, 'endpoints.json'), endpointsFile(2 ** 30));
    cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const error = await resolveTarget({}, folder).catch((caught: unknown) => caught);
    expect(describeError(error)).toEqual({
      message: expect.stringMatching(/\(trying AWS stage dev because the local stack in .* is not running \(pid 1073741824 has exited\): start it with `pneumo local up`\)$/) as string,
      exitCode: 3,
    });
  });

  it('on AWS reads names from the outputs of stack pneumo-<stage>', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'pneumo-dev' }).resolves({
      Stacks: [{ StackName: 'pneumo-dev', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
    });
    const target = await resolveTarget({ stage: 'dev', region: 'eu-west-1' });
    expect(target).toMatchObject({
      kind: 'aws',
      description: 'stage dev (stack pneumo-dev, eu-west-1)',
      names: { bucket: OUTPUTS.BucketName, resultsTable: OUTPUTS.ResultsTableName, registryTable: OUTPUTS.RegistryTableName, projectName: 'pneumo-dev' },
      deadLetters: { kind: 'sqs', queueUrl: OUTPUTS.DeadLetterQueueUrl },
    });
    expect(target.names.stateMachines).toEqual({ trainAndDeploy: OUTPUTS.TrainAndDeployStateMachineArn, startModel: OUTPUTS.StartModelStateMachineArn });
    expect(() => stateMachineArn(target, 'stopModel')).toThrow(/no StopModelStateMachineArn output; redeploy it/);
    target.close();
  });

  it('says a missing stack is not deployed, and missing credentials in one line (exit 3)', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id pneumo-prod does not exist'), { name: 'ValidationError' }));
    expect(describeError(await resolveTarget({ stage: 'prod', region: 'eu-west-2' }).catch((error: unknown) => error))).toEqual({
      message: 'stack pneumo-prod is not deployed in eu-west-2',
      exitCode: 3,
    });
    cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    expect(describeError(await resolveTarget({ stage: 'prod', region: 'eu-west-2' }).catch((error: unknown) => error))).toEqual({
      message: expect.stringMatching(/^AWS credentials are missing or not valid \(Could not load credentials from any providers\)/) as string,
      exitCode: 3,
    });
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'pneumo-prod', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), Outputs: [] }] });
    expect(describeError(await resolveTarget({ stage: 'prod', region: 'eu-west-2' }).catch((error: unknown) => error)).message).toMatch(/has no output\(s\) BucketName/);
    expect(describeError(await resolveTarget({ stage: 'bad stage!' }).catch((error: unknown) => error)).exitCode).toBe(2);
  });
});
