import { deflateSync } from 'node:zlib';
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { StackResource } from '@aws-sdk/client-cloudformation';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DeleteObjectCommand, GetBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { ResultsTable } from '../../lib/tables/results.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { printJson } from '../format.js';
import { EXPECTED_ALARMS, ROLE_EXPECTATIONS } from '../check-expectations.js';
import type { StageArns } from '../check-expectations.js';

/*
 * `pneumo check`: finds in minutes what a first deployment gets wrong. It uploads one small synthetic image and
 * waits for its row, asks IAM's policy simulator whether each role may do what its code does, and confirms the
 * notification configuration, the schedules, the alarms and who the alarm topic reaches. One pass/fail line per
 * check with what to fix. It costs a few requests: it never trains or starts a model, and removes what it made.
 */

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to change when it fails. */
  readonly fix?: string;
}

export interface CheckOptions {
  readonly format: Format;
  /** How long to wait for the synthetic image's row. */
  readonly timeoutMs: number;
}

const SUFFIXES = ['.jpg', '.jpeg', '.png', '.JPG', '.JPEG', '.PNG'];

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 64×64 grey PNG (Rekognition's smallest side): a valid image that identifies nobody. */
export function syntheticPng(side = 64): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc(side * (side + 1), 0x80);
  for (let row = 0; row < side; row += 1) rows[row * (side + 1)] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

async function roundTrip(ctx: CommandContext, options: CheckOptions): Promise<CheckResult> {
  const { target } = ctx;
  const results = new ResultsTable(target.clients.documents, target.names.resultsTable);
  const key = `inbox/pneumo-check/${new Date(ctx.now()).toISOString().replace(/[:.]/g, '-')}.png`;
  const put = await target.clients.s3.send(new PutObjectCommand({ Bucket: target.names.bucket, Key: key, Body: syntheticPng(), ContentType: 'image/png' }));
  try {
    const deadline = ctx.now() + options.timeoutMs;
    for (;;) {
      const row = await results.get(key);
      if (row) {
        const status = typeof row.status === 'string' ? row.status : '?';
        const reason = typeof row.reason === 'string' ? ` (${row.reason})` : '';
        if (status === 'FAILED') {
          return { name: 'upload → row', status: 'fail', detail: `the row says FAILED${reason}`, fix: 'FAILED access-denied: compare the classify role with the IAM checks below; other reasons: README, results table' };
        }
        return { name: 'upload → row', status: 'pass', detail: `${key} stored as ${status}${reason}` };
      }
      if (ctx.now() >= deadline) break;
      await ctx.sleep(target.pollMs);
    }
    return {
      name: 'upload → row',
      status: 'fail',
      detail: `no row for ${key} after ${String(Math.round(options.timeoutMs / 1000))} s`,
      fix: 'check the bucket notification (below), the classify log group and `pneumo dlq list`',
    };
  } finally {
    // Only what the check made: this object version and its row.
    await target.clients.s3.send(new DeleteObjectCommand({ Bucket: target.names.bucket, Key: key, ...(put.VersionId ? { VersionId: put.VersionId } : {}) }));
    await results.delete(key);
  }
}

async function notifications(ctx: CommandContext, classifyArn: string | undefined): Promise<CheckResult> {
  const config = await ctx.target.clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: ctx.target.names.bucket }));
  const suffixes = (config.LambdaFunctionConfigurations ?? [])
    .filter((entry) => classifyArn === undefined || entry.LambdaFunctionArn === classifyArn)
    .filter((entry) => (entry.Events ?? []).some((event) => event.startsWith('s3:ObjectCreated:')))
    .filter((entry) => entry.Filter?.Key?.FilterRules?.some((rule) => rule.Name?.toLowerCase() === 'prefix' && rule.Value === 'inbox/'))
    .flatMap((entry) => entry.Filter?.Key?.FilterRules?.filter((rule) => rule.Name?.toLowerCase() === 'suffix').map((rule) => rule.Value ?? '') ?? []);
  const missing = SUFFIXES.filter((suffix) => !suffixes.includes(suffix));
  if (missing.length === 0) return { name: 'bucket notification', status: 'pass', detail: `inbox/ with ${SUFFIXES.join(' ')} → classify` };
  return { name: 'bucket notification', status: 'fail', detail: `no ObjectCreated notification to classify for inbox/ and ${missing.join(' ')}`, fix: 'redeploy (npx osls deploy); the notifications come from serverless.yml functions.classify.events' };
}

function physical(resources: readonly StackResource[], logicalId: string): string | undefined {
  return resources.find((resource) => resource.LogicalResourceId === logicalId)?.PhysicalResourceId;
}

async function iamChecks(ctx: CommandContext, iam: IAMClient, resources: readonly StackResource[], arns: StageArns): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const role of ROLE_EXPECTATIONS) {
    const roleName = physical(resources, role.logicalId);
    if (!roleName) {
      results.push({ name: `IAM ${role.logicalId}`, status: 'fail', detail: 'the stack has no such role', fix: 'redeploy; resources/roles.yml defines it' });
      continue;
    }
    const roleArn = `arn:${arns.partition}:iam::${arns.account}:role/${roleName}`;
    const denied: string[] = [];
    for (const check of role.checks(arns)) {
      const { EvaluationResults = [] } = await iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: roleArn,
          ActionNames: [...check.actions],
          ResourceArns: [check.resource],
          ContextEntries: Object.entries(check.context ?? {}).map(([ContextKeyName, value]) => ({ ContextKeyName, ContextKeyType: 'string', ContextKeyValues: [value] })),
        }),
      );
      for (const result of EvaluationResults) {
        if (result.EvalDecision !== 'allowed') denied.push(`${result.EvalActionName ?? '?'} on ${check.resource} (${check.why}: ${result.EvalDecision ?? '?'})`);
      }
    }
    results.push(
      denied.length === 0
        ? { name: `IAM ${role.logicalId}`, status: 'pass', detail: 'the simulator allows every action its code performs' }
        : { name: `IAM ${role.logicalId}`, status: 'fail', detail: denied.join('; '), fix: `grant it in resources/roles.yml (${role.logicalId}) and redeploy` },
    );
  }
  return results;
}

function schedules(resources: readonly StackResource[]): CheckResult {
  const deployed = resources.filter((resource) => resource.ResourceType === 'AWS::Scheduler::Schedule');
  const broken = deployed.filter((resource) => !(resource.ResourceStatus ?? '').endsWith('_COMPLETE') || (resource.ResourceStatus ?? '').includes('FAILED'));
  const names = deployed.map((resource) => resource.LogicalResourceId ?? '?');
  if (!names.includes('StopModelSchedule')) {
    return { name: 'schedules', status: 'fail', detail: `deployed: ${names.join(', ') || 'none'}; no daily stop`, fix: 'set stopScheduleEnabled: true: without it a started model bills all night' };
  }
  if (!names.includes('GaugesSchedule') || broken.length > 0) {
    return { name: 'schedules', status: 'fail', detail: `deployed: ${names.join(', ')}${broken.length ? `; not complete: ${broken.map((r) => `${r.LogicalResourceId ?? '?'} ${r.ResourceStatus ?? '?'}`).join(', ')}` : '; no gauges schedule'}`, fix: 'redeploy; resources/schedules.yml' };
  }
  return { name: 'schedules', status: 'pass', detail: names.sort().join(', ') };
}

async function alarms(ctx: CommandContext, prefix: string, topicArn: string | undefined): Promise<CheckResult> {
  const found: MetricAlarm[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.target.clients.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, NextToken: nextToken }));
    found.push(...(page.MetricAlarms ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  const byName = new Map(found.map((alarm) => [(alarm.AlarmName ?? '').slice(prefix.length), alarm]));
  const missing = EXPECTED_ALARMS.filter((name) => !byName.has(name));
  const silent = [...byName.entries()]
    .filter(([, alarm]) => alarm.ActionsEnabled === false || (topicArn !== undefined && !(alarm.AlarmActions ?? []).includes(topicArn)))
    .map(([name]) => name);
  if (missing.length === 0 && silent.length === 0) return { name: 'alarms', status: 'pass', detail: `${String(byName.size)} alarms, each notifying the alarm topic` };
  return {
    name: 'alarms',
    status: 'fail',
    detail: [missing.length ? `missing: ${missing.join(', ')}` : '', silent.length ? `not notifying the topic: ${silent.join(', ')}` : ''].filter(Boolean).join('; '),
    fix: 'redeploy (resources/alarms.yml); `aws cloudwatch enable-alarm-actions` for disabled ones',
  };
}

async function subscriptions(sns: SNSClient, topicArn: string | undefined): Promise<CheckResult> {
  if (!topicArn) return { name: 'alarm topic', status: 'fail', detail: 'the stack has no AlarmTopicArn output', fix: 'redeploy with this version of the stack' };
  const confirmed: string[] = [];
  const pending: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: nextToken }));
    for (const subscription of page.Subscriptions ?? []) {
      const who = `${subscription.Protocol ?? '?'}:${subscription.Endpoint ?? '?'}`;
      if (subscription.SubscriptionArn === 'PendingConfirmation') pending.push(who);
      else confirmed.push(who);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  if (confirmed.length > 0) return { name: 'alarm topic', status: 'pass', detail: `reaches ${confirmed.join(', ')}${pending.length ? `; awaiting confirmation: ${pending.join(', ')}` : ''}` };
  return {
    name: 'alarm topic',
    status: 'fail',
    detail: pending.length ? `only unconfirmed subscriptions: ${pending.join(', ')}` : 'no subscription: alarms reach nobody',
    fix: pending.length ? 'confirm the subscription from the e-mail AWS sent' : 'deploy with --param="alarmEmail=ops@…" or subscribe an endpoint to the topic',
  };
}

export async function checkData(ctx: CommandContext, options: CheckOptions): Promise<CheckResult[]> {
  const { target } = ctx;
  if (target.kind === 'local' || !target.names.stackName) {
    const local: CheckResult[] = [await roundTrip(ctx, options)];
    for (const name of ['IAM', 'alarms', 'alarm topic', 'schedules']) {
      local.push({ name, status: 'skip', detail: 'the local stack has no IAM, CloudWatch, SNS or Scheduler' });
    }
    return local;
  }
  const cloudFormation = new CloudFormationClient({ region: target.region });
  const iam = new IAMClient({ region: target.region });
  const sns = new SNSClient({ region: target.region });
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: target.names.stackName }));
    const stack = Stacks[0];
    const [, partition = 'aws', , region = target.region, account = ''] = (stack?.StackId ?? '').split(':');
    const outputs = Object.fromEntries((stack?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']));
    const { StackResources: resources = [] } = await cloudFormation.send(new DescribeStackResourcesCommand({ StackName: target.names.stackName }));
    const queueName = (outputs.DeadLetterQueueUrl ?? '').split('/').pop() ?? '';
    const arns: StageArns = {
      partition,
      region,
      account,
      bucket: target.names.bucket,
      resultsTable: target.names.resultsTable,
      registryTable: target.names.registryTable,
      projectName: target.names.projectName ?? '',
      keyArn: outputs.KmsKeyArn ?? '',
      deadLetterQueueArn: `arn:${partition}:sqs:${region}:${account}:${queueName}`,
      eventBusArn: `arn:${partition}:events:${region}:${account}:event-bus/${outputs.EventBusName ?? ''}`,
    };
    const classifyName = physical(resources, 'ClassifyLambdaFunction');
    const classifyArn = classifyName ? `arn:${partition}:lambda:${region}:${account}:function:${classifyName}` : undefined;
    return [
      await notifications(ctx, classifyArn),
      await roundTrip(ctx, options),
      ...(await iamChecks(ctx, iam, resources, arns)),
      schedules(resources),
      await alarms(ctx, target.names.alarmPrefix ?? `${target.names.stackName}-`, outputs.AlarmTopicArn),
      await subscriptions(sns, outputs.AlarmTopicArn),
    ];
  } finally {
    cloudFormation.destroy();
    iam.destroy();
    sns.destroy();
  }
}

export async function check(ctx: CommandContext, options: CheckOptions): Promise<ExitCode> {
  const results = await checkData(ctx, options);
  if (options.format === 'json') printJson(ctx.io, results);
  else {
    for (const result of results) {
      ctx.io.out(`${result.status.toUpperCase().padEnd(4)}  ${result.name}: ${result.detail}`);
      if (result.status === 'fail' && result.fix) ctx.io.out(`      fix: ${result.fix}`);
    }
  }
  return results.some((result) => result.status === 'fail') ? EXIT.failed : EXIT.ok;
}
