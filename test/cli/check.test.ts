import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { StackResource } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { DeleteObjectCommand, GetBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// S3 answers with capitalised rule names (Prefix, Suffix), which the SDK's type spells in lower case.
import type { FilterRuleName } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkData, syntheticPng } from '../../src/cli/commands/check.js';
import type { CheckResult } from '../../src/cli/commands/check.js';
import { EXPECTED_ALARMS, ROLE_EXPECTATIONS } from '../../src/cli/check-expectations.js';
import { awsTargetFromOutputs, makeClients } from '../../src/cli/target.js';
import sharp from 'sharp';
import { scanImageHeader } from '../../src/lib/image-header.js';
import { captureIo, testContext } from '../fixtures/cli.js';

const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBDocumentClient);
const cloudFormation = mockClient(CloudFormationClient);
const iam = mockClient(IAMClient);
const cloudWatch = mockClient(CloudWatchClient);
const sns = mockClient(SNSClient);

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:pneumo-prod-alarms';
const OUTPUTS = {
  BucketName: 'pneumo-prod-111122223333-eu-west-1',
  ResultsTableName: 'pneumo-prod-results',
  RegistryTableName: 'pneumo-prod-registry',
  DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/pneumo-prod-classify-dlq',
  KmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/k',
  ProjectName: 'pneumo-prod',
  EventBusName: 'pneumo-prod-events',
  AlarmTopicArn: TOPIC,
};
const CLASSIFY_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:pneumo-prod-classify';
const RESOURCES: StackResource[] = [
  ...ROLE_EXPECTATIONS.map((role) => ({ LogicalResourceId: role.logicalId, PhysicalResourceId: `pneumo-prod-${role.logicalId}`, ResourceType: 'AWS::IAM::Role', ResourceStatus: 'CREATE_COMPLETE' as const, Timestamp: new Date() })),
  { LogicalResourceId: 'ClassifyLambdaFunction', PhysicalResourceId: 'pneumo-prod-classify', ResourceType: 'AWS::Lambda::Function', ResourceStatus: 'CREATE_COMPLETE' as const, Timestamp: new Date() },
  ...['StopModelSchedule', 'GaugesSchedule'].map((id) => ({ LogicalResourceId: id, PhysicalResourceId: id, ResourceType: 'AWS::Scheduler::Schedule', ResourceStatus: 'UPDATE_COMPLETE' as const, Timestamp: new Date() })),
];
const SUFFIXES = ['.jpg', '.jpeg', '.png', '.JPG', '.JPEG', '.PNG'];

let clock = 0;
function context(): ReturnType<typeof testContext> {
  const target = awsTargetFromOutputs('prod', 'eu-west-1', OUTPUTS, makeClients({ region: 'eu-west-1' }));
  // Each pause moves the clock on a minute: a row that never comes times out after the given timeout, at once.
  return testContext(target, captureIo(), () => { clock += 60_000; }, () => clock);
}

async function run(): Promise<Record<string, CheckResult>> {
  const results = await checkData(context(), { format: 'json', timeoutMs: 120_000 });
  return Object.fromEntries(results.map((result) => [result.name, result]));
}

beforeEach(() => {
  clock = Date.parse('2026-12-01T09:00:00.000Z');
  for (const mock of [s3, dynamo, cloudFormation, iam, cloudWatch, sns]) mock.reset();
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [{ StackName: 'pneumo-prod', StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/pneumo-prod/1', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
  });
  cloudFormation.on(DescribeStackResourcesCommand).resolves({ StackResources: RESOURCES });
  s3.on(PutObjectCommand).resolves({ VersionId: 'v-check' });
  s3.on(GetBucketNotificationConfigurationCommand).resolves({
    LambdaFunctionConfigurations: SUFFIXES.map((suffix) => ({ LambdaFunctionArn: CLASSIFY_ARN, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'Prefix' as FilterRuleName, Value: 'inbox/' }, { Name: 'Suffix' as FilterRuleName, Value: suffix }] } } })),
  });
  dynamo.on(GetCommand).resolves({ Item: { imageKey: 'k', status: 'PENDING', reason: 'no-model' } });
  iam.on(SimulatePrincipalPolicyCommand).callsFake((input: { ActionNames: string[] }) => ({ EvaluationResults: input.ActionNames.map((EvalActionName) => ({ EvalActionName, EvalDecision: 'allowed' })) }));
  cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: EXPECTED_ALARMS.map((name) => ({ AlarmName: `pneumo-prod-${name}`, ActionsEnabled: true, AlarmActions: [TOPIC] })) });
  sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [{ Protocol: 'email', Endpoint: 'ops@example.org', SubscriptionArn: `${TOPIC}:sub` }] });
});

describe('pneumo check on a deployed stage (mocked AWS)', () => {
  it('passes every check on a healthy stage, and removes the object version and the row it made', async () => {
    const results = await run();
    expect(Object.values(results).filter((result) => result.status !== 'pass')).toEqual([]);
    expect(Object.keys(results)).toEqual(['bucket notification', 'upload → row', ...ROLE_EXPECTATIONS.map((role) => `IAM ${role.logicalId}`), 'schedules', 'alarms', 'alarm topic']);
    const [put] = s3.commandCalls(PutObjectCommand);
    const key = put?.args[0].input.Key ?? '';
    expect(key).toMatch(/^inbox\/pneumo-check\/.+\.png$/);
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([{ Bucket: OUTPUTS.BucketName, Key: key, VersionId: 'v-check' }]);
    expect(dynamo.commandCalls(DeleteCommand).map((call) => call.args[0].input)).toEqual([{ TableName: OUTPUTS.ResultsTableName, Key: { imageKey: key } }]);
    // The simulator is asked with the stage's real ARNs, e.g. classify's image read on the bucket.
    const classify = iam.commandCalls(SimulatePrincipalPolicyCommand).map((call) => call.args[0].input).find((input) => input.PolicySourceArn?.endsWith('/pneumo-prod-ClassifyRole'));
    expect(classify).toMatchObject({ PolicySourceArn: 'arn:aws:iam::111122223333:role/pneumo-prod-ClassifyRole', ResourceArns: [`arn:aws:s3:::${OUTPUTS.BucketName}/inbox/pneumo-check.png`] });
  });

  it('the synthetic image passes classify\'s header check and decodes (a 64×64 grey PNG)', async () => {
    expect(scanImageHeader(syntheticPng())).toEqual({ kind: 'image', format: 'png', width: 64, height: 64 });
    const { data, info } = await sharp(syntheticPng()).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([64, 64]);
    expect(new Set(data)).toEqual(new Set([0x80]));
  });

  it('fails "upload → row" when no row comes, and still cleans up', async () => {
    dynamo.on(GetCommand).resolves({});
    const result = (await run())['upload → row'];
    expect(result).toMatchObject({ status: 'fail', detail: expect.stringMatching(/no row for inbox\/pneumo-check\/.+ after 120 s/) as unknown, fix: expect.stringContaining('dlq list') as unknown });
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it('fails "upload → row" when the row says FAILED (access denied)', async () => {
    dynamo.on(GetCommand).resolves({ Item: { status: 'FAILED', reason: 'access-denied' } });
    expect((await run())['upload → row']).toMatchObject({ status: 'fail', detail: 'the row says FAILED (access-denied)' });
  });

  it('fails the notification check when a suffix is not delivered to classify', async () => {
    s3.on(GetBucketNotificationConfigurationCommand).resolves({ LambdaFunctionConfigurations: [] });
    expect((await run())['bucket notification']).toMatchObject({ status: 'fail', detail: expect.stringContaining('.jpg .jpeg .png .JPG .JPEG .PNG') as unknown });
  });

  it('fails a role\'s IAM check naming the action, the resource and why the code needs it', async () => {
    iam.on(SimulatePrincipalPolicyCommand).callsFake((input: { ActionNames: string[]; PolicySourceArn: string }) => ({
      EvaluationResults: input.ActionNames.map((EvalActionName) => ({
        EvalActionName,
        EvalDecision: input.PolicySourceArn.endsWith('ClassifyRole') && EvalActionName === 'rekognition:DetectCustomLabels' ? 'implicitDeny' : 'allowed',
      })),
    }));
    const results = await run();
    expect(results['IAM ClassifyRole']).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('rekognition:DetectCustomLabels on arn:aws:rekognition:eu-west-1:111122223333:project/pneumo-prod/version/pneumo-check/1 (classifies with the active model version: implicitDeny)') as unknown,
      fix: expect.stringContaining('resources/roles.yml (ClassifyRole)') as unknown,
    });
    expect(results['IAM RedriveRole']?.status).toBe('pass');
  });

  it('fails a role the stack does not have', async () => {
    cloudFormation.on(DescribeStackResourcesCommand).resolves({ StackResources: RESOURCES.filter((resource) => resource.LogicalResourceId !== 'GaugesRole') });
    expect((await run())['IAM GaugesRole']).toMatchObject({ status: 'fail', detail: 'the stack has no such role' });
  });

  it('fails the schedules check without a daily stop', async () => {
    cloudFormation.on(DescribeStackResourcesCommand).resolves({ StackResources: RESOURCES.filter((resource) => resource.LogicalResourceId !== 'StopModelSchedule') });
    expect((await run()).schedules).toMatchObject({ status: 'fail', fix: expect.stringContaining('stopScheduleEnabled') as unknown });
  });

  it('fails the alarms check for a missing alarm and for one that does not notify the topic', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: EXPECTED_ALARMS.filter((name) => name !== 'review-share').map((name) => ({ AlarmName: `pneumo-prod-${name}`, ActionsEnabled: name !== 'dead-letters', AlarmActions: [TOPIC] })),
    });
    expect((await run()).alarms).toMatchObject({ status: 'fail', detail: 'missing: review-share; not notifying the topic: dead-letters' });
  });

  it('fails the topic check with no subscriber, or only unconfirmed ones', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    expect((await run())['alarm topic']).toMatchObject({ status: 'fail', detail: 'no subscription: alarms reach nobody', fix: expect.stringContaining('alarmEmail') as unknown });
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [{ Protocol: 'email', Endpoint: 'ops@example.org', SubscriptionArn: 'PendingConfirmation' }] });
    expect((await run())['alarm topic']).toMatchObject({ status: 'fail', detail: 'only unconfirmed subscriptions: email:ops@example.org', fix: expect.stringContaining('confirm') as unknown });
  });

  it('never trains or starts a model: no Rekognition or Step Functions call at all', async () => {
    const rekognition = mockClient(RekognitionClient);
    const sfn = mockClient(SFNClient);
    await run();
    expect([rekognition.calls().length, sfn.calls().length]).toEqual([0, 0]);
    rekognition.restore();
    sfn.restore();
  });
});
