import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServingSchedule } from '../../src/lib/cost.js';
import { ACTIVE_MODEL_ID, SERVING_HOLD_ID } from '../../src/lib/tables/registry.js';
import { packageTemplate } from '../../src/local/template.js';
import {
  actionStrings,
  allPolicyStatements,
  asArray,
  isObject,
  objectAt,
  outputTarget,
  packagedService,
  readZip,
  render,
  resource,
  REPO_ROOT,
  resourcesOfType,
  STAGE,
} from './template.js';
import type { CfnTemplate, FoundStatement, Json, JsonObject, PackagedService } from './template.js';

/*
 * Packages the service once (osls + serverless-esbuild, offline) and checks the CloudFormation template and
 * the classify artifact that would be deployed.
 */

let packaged: PackagedService;
let template: CfnTemplate;
/** The same stack packaged with the optional features a stage turns on (image expiry, alarm e-mail). */
let retaining: CfnTemplate;

const scratch: string[] = [];

beforeAll(async () => {
  packaged = packagedService();
  template = packaged.template;
  retaining = (await packageTemplate({ projectDir: REPO_ROOT, stage: STAGE, region: 'eu-west-1', params: OPTIONAL_FEATURES })).template as CfnTemplate;
}, 120_000);

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const ACCOUNT_FOR_CI = '000000000000';
const OPTIONAL_FEATURES = { inboxRetentionDays: '30', alarmEmail: 'operators@example.org', dailyCapHours: '8' };
const BUCKET_NAME = `pneumo-${STAGE}-${ACCOUNT_FOR_CI}-eu-west-1`;
const CLASSIFY = 'ClassifyLambdaFunction';
const CLASSIFY_ROLE = 'ClassifyRole';
const INBOX_BUCKET = 'S3BucketInbox';
const SUFFIXES = ['.jpg', '.jpeg', '.png', '.JPG', '.JPEG', '.PNG'];

/** The one customer managed key of the stack. */
function stackKey(): string {
  return only(resourcesOfType(template, 'AWS::KMS::Key'))[0];
}

function classifyRoleStatements(): FoundStatement[] {
  return allPolicyStatements(template).filter((found) => found.owner === CLASSIFY_ROLE && found.path.startsWith('Policies'));
}

function statementsWithActionPrefix(statements: FoundStatement[], prefix: string): FoundStatement[] {
  return statements.filter(({ statement }) => actionStrings(statement.Action).some((action) => action.startsWith(prefix)));
}

/** The single element of a list, failing the test when there is not exactly one. */
function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  const [item] = items;
  if (item === undefined) throw new Error('expected exactly one element');
  return item;
}

function renderedResources(statement: { Resource?: Json }): string[] {
  return asArray(statement.Resource).map(render);
}

describe('inbox bucket', () => {
  it('is named per service, stage, account and region', () => {
    expect(resource(template, INBOX_BUCKET, 'AWS::S3::Bucket').Properties.BucketName).toBe(BUCKET_NAME);
  });

  it('notifies classify for exactly the six inbox/ suffix filters on every ObjectCreated event', () => {
    const notifications = resource(template, INBOX_BUCKET, 'AWS::S3::Bucket').Properties.NotificationConfiguration;
    expect(Object.keys(objectAt(notifications))).toEqual(['LambdaConfigurations']);
    const configurations = asArray(objectAt(notifications).LambdaConfigurations);
    const pairs = configurations.map((configuration) => {
      const config = objectAt(configuration);
      expect(config.Event).toBe('s3:ObjectCreated:*');
      expect(config.Function).toEqual({ 'Fn::GetAtt': [CLASSIFY, 'Arn'] });
      const rules = asArray(objectAt(config, 'Filter', 'S3Key').Rules).map((rule) => objectAt(rule));
      const prefix = rules.filter((rule) => rule.Name === 'prefix').map((rule) => rule.Value);
      const suffix = rules.filter((rule) => rule.Name === 'suffix').map((rule) => rule.Value);
      expect(rules).toHaveLength(2);
      return `${render(prefix[0])}|${render(suffix[0])}`;
    });
    expect(pairs.sort()).toEqual(SUFFIXES.map((suffix) => `inbox/|${suffix}`).sort());
  });

  it('lets only this bucket in this account invoke classify', () => {
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').filter(
      ([, permission]) => permission.Properties?.Principal === 's3.amazonaws.com',
    );
    const [logicalId, permission] = only(permissions);
    const properties = objectAt(permission.Properties);
    expect(properties.Action).toBe('lambda:InvokeFunction');
    expect(properties.FunctionName).toEqual({ 'Fn::GetAtt': [CLASSIFY, 'Arn'] });
    expect(properties.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
    expect(render(properties.SourceArn)).toBe(`arn:\${AWS::Partition}:s3:::${BUCKET_NAME}`);
    // S3 validates the notification target when the bucket is created: the permission must exist first.
    expect(asArray(template.Resources[INBOX_BUCKET]?.DependsOn)).toContain(logicalId);
  });

  it('is versioned, private, owner-enforced and encrypted with the stack key', () => {
    const bucket = resource(template, INBOX_BUCKET, 'AWS::S3::Bucket').Properties;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(objectAt(bucket, 'BucketEncryption').ServerSideEncryptionConfiguration).toEqual([
      {
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [stackKey(), 'Arn'] } },
        BucketKeyEnabled: true,
      },
    ]);
  });

  it('has a bucket policy that denies requests without TLS on the bucket and its objects', () => {
    const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy').filter(
      ([, policy]) => render(policy.Properties?.Bucket) === `\${${INBOX_BUCKET}}`,
    );
    const [, policy] = only(policies);
    const statements = asArray(objectAt(policy.Properties, 'PolicyDocument').Statement).map((s) => objectAt(s));
    const tlsDeny = statements.find((statement) => {
      const insecure = isObject(statement.Condition) ? objectAt(statement.Condition, 'Bool')['aws:SecureTransport'] : undefined;
      return statement.Effect === 'Deny' && (insecure === 'false' || insecure === false);
    });
    expect(tlsDeny).toBeDefined();
    if (!tlsDeny) return;
    expect(tlsDeny.Principal).toBe('*');
    expect(tlsDeny.Action).toBe('s3:*');
    expect(renderedResources(tlsDeny).sort()).toEqual([`\${${INBOX_BUCKET}.Arn}`, `\${${INBOX_BUCKET}.Arn}/*`]);
  });
});

describe('stack key', () => {
  function keyStatements(): JsonObject[] {
    return asArray(objectAt(resource(template, stackKey(), 'AWS::KMS::Key').Properties, 'KeyPolicy').Statement).map((s) => objectAt(s));
  }
  function bySid(sid: string): JsonObject {
    const found = keyStatements().find((statement) => statement.Sid === sid);
    if (!found) throw new Error(`no key policy statement ${sid}`);
    return found;
  }

  it('rotates, has the stage alias and gives the account root AWS\'s default kms:*', () => {
    const key = resource(template, stackKey(), 'AWS::KMS::Key').Properties;
    expect(key.EnableKeyRotation).toBe(true);
    const aliases = resourcesOfType(template, 'AWS::KMS::Alias');
    expect(aliases.map(([, alias]) => alias.Properties)).toEqual([{ AliasName: `alias/pneumo-${STAGE}`, TargetKeyId: { Ref: stackKey() } }]);
    const root = keyStatements().find((statement) => isObject(statement.Principal) && render(statement.Principal.AWS) === 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root');
    expect(root).toMatchObject({ Effect: 'Allow', Action: 'kms:*', Resource: '*' });
    expect(root?.Condition).toBeUndefined();
  });

  it('denies scheduling its deletion to every principal but the named break-glass role', () => {
    const guard = bySid('DenyKeyDeletionExceptBreakGlass');
    expect(guard).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:ScheduleKeyDeletion', Resource: '*' });
    expect(render(objectAt(guard.Condition, 'StringNotEquals')['aws:PrincipalArn'])).toBe(
      `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/pneumo-${STAGE}-key-break-glass`,
    );
    // Nothing else in the policy may Deny what an operator needs to administer the key.
    expect(keyStatements().filter((statement) => statement.Effect === 'Deny')).toHaveLength(1);
  });

  it('lets CloudWatch Logs use it only for this stage\'s log groups (the encryption-context condition)', () => {
    const logs = bySid('CloudWatchLogsEncryptsStageLogGroups');
    expect(logs.Effect).toBe('Allow');
    expect(render(objectAt(logs.Principal).Service)).toBe('logs.${AWS::Region}.amazonaws.com');
    expect(actionStrings(logs.Action)).toEqual(expect.arrayContaining(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']));
    const arns = asArray(objectAt(logs.Condition, 'ArnLike')['kms:EncryptionContext:aws:logs:arn']).map(render);
    expect(arns.sort()).toEqual([
      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/pneumo-${STAGE}-*`,
      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/vendedlogs/states/pneumo-${STAGE}-*`,
    ]);
  });

  it('encrypts every log group of the stack, and each falls under the CloudWatch Logs statement', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(10);
    const patterns = asArray(objectAt(bySid('CloudWatchLogsEncryptsStageLogGroups').Condition, 'ArnLike')['kms:EncryptionContext:aws:logs:arn'])
      .map(render)
      .map((arn) => new RegExp(`^${arn.replace(/[.$^{}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
    for (const [logicalId, group] of groups) {
      expect(group.Properties?.KmsKeyId, logicalId).toEqual({ 'Fn::GetAtt': [stackKey(), 'Arn'] });
      const arn = `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${render(group.Properties?.LogGroupName)}`;
      expect(patterns.some((pattern) => pattern.test(arn)), `${logicalId} ${arn}`).toBe(true);
    }
  });
});

describe('data that survives the stack', () => {
  it.each([
    ['the inbox bucket', INBOX_BUCKET],
    ['the results table', 'ResultsTable'],
    ['the registry table', 'RegistryTable'],
    ['the stack key', 'EncryptionKey'],
  ])('%s is retained on stack deletion and on replacement', (_, logicalId) => {
    const found = template.Resources[logicalId];
    expect(found?.DeletionPolicy).toBe('Retain');
    expect(found?.UpdateReplacePolicy).toBe('Retain');
  });

  it('keeps inbox images by default: the expiry rule is there but its condition is false', () => {
    const rules = asArray(objectAt(resource(template, INBOX_BUCKET, 'AWS::S3::Bucket').Properties, 'LifecycleConfiguration').Rules);
    const conditional = rules.filter((rule) => isObject(rule) && 'Fn::If' in rule).map((rule) => asArray(objectAt(rule)['Fn::If']));
    expect(conditional.map(([condition]) => condition)).toEqual(['InboxImagesExpire']);
    expect(template.Conditions?.InboxImagesExpire).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['days-0', 'days-0'] }] });
    // Every unconditional rule is about incomplete uploads, never about expiring objects.
    for (const rule of rules.filter((rule) => isObject(rule) && !('Fn::If' in rule))) {
      expect(objectAt(rule).Expiration ?? objectAt(rule).ExpirationInDays).toBeUndefined();
    }
  });

  it('expires inbox/ objects and their non-current versions after inboxRetentionDays, never training/', () => {
    const rules = asArray(objectAt(resource(retaining, INBOX_BUCKET, 'AWS::S3::Bucket').Properties, 'LifecycleConfiguration').Rules);
    const [, expire] = asArray(objectAt(rules.find((rule) => isObject(rule) && 'Fn::If' in rule))['Fn::If']);
    // A --param value arrives as a string; CloudFormation reads "30" as the integer 30.
    const rule = objectAt(expire);
    expect(Object.keys(rule).sort()).toEqual(['ExpirationInDays', 'Id', 'NoncurrentVersionExpiration', 'Prefix', 'Status']);
    expect(rule).toMatchObject({ Id: 'ExpireInboxImages', Status: 'Enabled', Prefix: 'inbox/' });
    expect(Number(rule.ExpirationInDays)).toBe(30);
    expect(Number(objectAt(rule, 'NoncurrentVersionExpiration').NoncurrentDays)).toBe(30);
    expect(retaining.Conditions?.InboxImagesExpire).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['days-30', 'days-0'] }] });
  });

  it('the framework deployment bucket blocks public access and denies requests without TLS', () => {
    const bucket = resource(template, 'ServerlessDeploymentBucket', 'AWS::S3::Bucket').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const { statement } = only(allPolicyStatements(template).filter(({ owner }) => owner === 'ServerlessDeploymentBucketPolicy'));
    expect(statement).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*' });
    expect([false, 'false']).toContain(objectAt(statement.Condition, 'Bool')['aws:SecureTransport']);
    expect(renderedResources(statement)).toHaveLength(2);
  });
});

describe('tables', () => {
  it('results: imageKey hash key and exactly the byLabel and byStatus indexes', () => {
    const table = resource(template, outputTarget(template, 'ResultsTableName'), 'AWS::DynamoDB::Table').Properties;
    expect(table.KeySchema).toEqual([{ AttributeName: 'imageKey', KeyType: 'HASH' }]);
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byLabel',
        KeySchema: [
          { AttributeName: 'label', KeyType: 'HASH' },
          { AttributeName: 'processedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'byStatus',
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'processedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    const attributes = asArray(table.AttributeDefinitions).map((a) => objectAt(a));
    expect(attributes.map((a) => `${render(a.AttributeName)}:${render(a.AttributeType)}`).sort()).toEqual(
      ['imageKey:S', 'label:S', 'processedAt:S', 'status:S'],
    );
    expect(table.LocalSecondaryIndexes).toBeUndefined();
  });

  it('registry: id hash key', () => {
    const table = resource(template, outputTarget(template, 'RegistryTableName'), 'AWS::DynamoDB::Table').Properties;
    expect(table.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'id', AttributeType: 'S' }]);
    expect(table.GlobalSecondaryIndexes).toBeUndefined();
  });

  it.each(['ResultsTableName', 'RegistryTableName'])('%s: on-demand, point-in-time recovery, encrypted with the stack key', (output) => {
    const table = resource(template, outputTarget(template, output), 'AWS::DynamoDB::Table').Properties;
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [stackKey(), 'Arn'] } });
    expect(typeof table.DeletionProtectionEnabled).toBe('boolean');
  });
});

describe('dead-letter queue', () => {
  it('keeps messages 14 days, encrypted with the stack key', () => {
    const queue = resource(template, outputTarget(template, 'DeadLetterQueueUrl'), 'AWS::SQS::Queue').Properties;
    expect(queue.MessageRetentionPeriod).toBe(1209600);
    expect(queue.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [stackKey(), 'Arn'] });
  });
});

describe('classify function', () => {
  it('runs Node 22 on arm64 with its own role, sized for header reads and SDK retries', () => {
    const fn = resource(template, CLASSIFY, 'AWS::Lambda::Function').Properties;
    expect(fn.Handler).toBe('src/handlers/classify.handler');
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.MemorySize).toBe(256);
    expect(fn.Timeout).toBe(30);
    expect(fn.ReservedConcurrentExecutions).toBe(5);
    expect(fn.Role).toEqual({ 'Fn::GetAtt': [CLASSIFY_ROLE, 'Arn'] });
  });

  it('gets its settings from the environment', () => {
    const variables = objectAt(resource(template, CLASSIFY, 'AWS::Lambda::Function').Properties, 'Environment', 'Variables');
    expect(variables).toEqual({
      RESULTS_TABLE: { Ref: outputTarget(template, 'ResultsTableName') },
      REGISTRY_TABLE: { Ref: outputTarget(template, 'RegistryTableName') },
      REVIEW_THRESHOLD: '80',
      REGISTRY_CACHE_SECONDS: '30',
      START_MODEL_STATE_MACHINE_ARN: { Ref: 'StartModelStateMachine' },
      ON_DEMAND_START: 'true',
      IDLE_STOP_MINUTES: '5',
      QUIET_HOURS: 'off',
      DAILY_CAP_HOURS: '0',
      START_RETRY_MINUTES: '15',
      MAX_START_MINUTES: '60',
      SERVING_TIME_ZONE: 'Europe/London',
      POWERTOOLS_SERVICE_NAME: 'classify',
      POWERTOOLS_METRICS_NAMESPACE: 'Pneumo',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('retries asynchronous events twice within an hour, then sends them to the dead-letter queue', () => {
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').filter(
      ([, config]) => render(config.Properties?.FunctionName) === `\${${CLASSIFY}}`,
    );
    const [, config] = only(configs);
    const properties = objectAt(config.Properties);
    expect(properties.MaximumRetryAttempts).toBe(2);
    expect(properties.MaximumEventAgeInSeconds).toBe(3600);
    const queue = outputTarget(template, 'DeadLetterQueueUrl');
    expect(objectAt(properties, 'DestinationConfig')).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } });
  });

  it('logs to a log group the stack creates, with retention', () => {
    const logGroup = resource(template, 'ClassifyLogGroup', 'AWS::Logs::LogGroup').Properties;
    expect(logGroup.LogGroupName).toBe(`/aws/lambda/pneumo-${STAGE}-classify`);
    expect(logGroup.RetentionInDays).toBe(30);
  });
});

describe('IAM', () => {
  const ACCOUNT_ROOT = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root';

  it('walks a policy document of every kind in the stack', () => {
    const owners = new Set(allPolicyStatements(template).map(({ ownerType }) => ownerType));
    expect([...owners].sort()).toEqual(expect.arrayContaining(['AWS::IAM::Role', 'AWS::KMS::Key', 'AWS::S3::BucketPolicy']));
    expect(classifyRoleStatements().length).toBeGreaterThanOrEqual(6);
  });

  it('has no wildcard in any Allow granted to a role or service; only the key policy\'s account-root statement is kms:*', () => {
    const allows = allPolicyStatements(template).filter(({ statement }) => statement.Effect === 'Allow');
    const rootStatements = allows.filter(({ statement }) => isObject(statement.Principal) && render(statement.Principal.AWS) === ACCOUNT_ROOT);
    const offending = allows
      .filter((found) => !rootStatements.includes(found))
      .flatMap(({ owner, path, statement }) => [
        ...actionStrings(statement.Action)
          .filter((action) => action.includes('*'))
          .map((action) => `${owner} ${path}: Action ${action}`),
        ...(statement.NotAction === undefined ? [] : [`${owner} ${path}: NotAction`]),
      ]);
    expect(offending).toEqual([]);
    expect(rootStatements.map(({ ownerType, statement }) => [ownerType, statement.Action])).toEqual([['AWS::KMS::Key', 'kms:*']]);
    // Lambda permissions carry a single action outside any policy document.
    for (const [logicalId, permission] of resourcesOfType(template, 'AWS::Lambda::Permission')) {
      expect(actionStrings(permission.Properties?.Action).join(' '), logicalId).not.toContain('*');
    }
  });

  it('every Deny is a guardrail: TLS-only (s3:* on a bucket, sns:Publish on the topic) or the key-deletion guard', () => {
    const denies = allPolicyStatements(template).filter(({ statement }) => statement.Effect === 'Deny');
    expect(denies.length).toBeGreaterThanOrEqual(3);
    for (const { owner, ownerType, statement } of denies) {
      if (ownerType === 'AWS::S3::BucketPolicy' || ownerType === 'AWS::SNS::TopicPolicy') {
        expect(statement.Action, owner).toBe(ownerType === 'AWS::S3::BucketPolicy' ? 's3:*' : 'sns:Publish');
        expect([false, 'false'], owner).toContain(objectAt(statement.Condition, 'Bool')['aws:SecureTransport']);
      } else {
        expect([ownerType, statement.Action]).toEqual(['AWS::KMS::Key', 'kms:ScheduleKeyDeletion']);
      }
    }
  });

  it('classify role: trusted by Lambda only, no Resource "*"', () => {
    const role = resource(template, CLASSIFY_ROLE, 'AWS::IAM::Role').Properties;
    expect(asArray(objectAt(role, 'AssumeRolePolicyDocument').Statement)).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    for (const { statement } of classifyRoleStatements()) {
      expect(statement.Effect).toBe('Allow');
      expect(renderedResources(statement)).not.toContain('*');
    }
  });

  it('classify role: reads S3 objects under inbox/ only', () => {
    const s3 = statementsWithActionPrefix(classifyRoleStatements(), 's3:');
    expect(s3.length).toBeGreaterThan(0);
    for (const { statement } of s3) {
      expect(actionStrings(statement.Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
      expect(renderedResources(statement)).toEqual([`arn:\${AWS::Partition}:s3:::${BUCKET_NAME}/inbox/*`]);
    }
  });

  it('classify role: DetectCustomLabels on the project versions of the configured project only', () => {
    const { statement } = only(statementsWithActionPrefix(classifyRoleStatements(), 'rekognition:'));
    expect(actionStrings(statement.Action)).toEqual(['rekognition:DetectCustomLabels']);
    expect(renderedResources(statement)).toEqual([
      `arn:\${AWS::Partition}:rekognition:\${AWS::Region}:\${AWS::AccountId}:project/pneumo-${STAGE}/version/*`,
    ]);
    expect(template.Outputs.ProjectName?.Value).toBe(`pneumo-${STAGE}`);
  });

  it('classify role: writes only the results table and the `active` registry item, reads only the two tables', () => {
    const results = `\${${outputTarget(template, 'ResultsTableName')}.Arn}`;
    const registry = `\${${outputTarget(template, 'RegistryTableName')}.Arn}`;
    const dynamodb = statementsWithActionPrefix(classifyRoleStatements(), 'dynamodb:');
    const granted = dynamodb.flatMap(({ statement }) =>
      actionStrings(statement.Action).flatMap((action) => renderedResources(statement).map((arn) => `${action} ${arn}`)),
    );
    expect(granted.sort()).toEqual(
      [`dynamodb:GetItem ${results}`, `dynamodb:PutItem ${results}`, `dynamodb:GetItem ${registry}`, `dynamodb:UpdateItem ${registry}`].sort(),
    );
    // The serving marks (on-demand start request, last use) go to the `active` item and nowhere else.
    const update = only(dynamodb.filter(({ statement }) => actionStrings(statement.Action).includes('dynamodb:UpdateItem')));
    expect(update.statement.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['active'] } });
  });

  it('classify role: may start exactly the start-model machine, nothing else of Step Functions', () => {
    const { statement } = only(statementsWithActionPrefix(classifyRoleStatements(), 'states:'));
    expect(actionStrings(statement.Action)).toEqual(['states:StartExecution']);
    expect(statement.Resource).toEqual({ Ref: 'StartModelStateMachine' });
  });

  it('classify role: writes its own log streams, sends to the dead-letter queue, uses the key only through S3, SQS and DynamoDB', () => {
    const statements = classifyRoleStatements();
    const logs = statementsWithActionPrefix(statements, 'logs:');
    expect(logs.map(({ statement }) => renderedResources(statement))).toEqual([['${ClassifyLogGroup.Arn}']]);
    const sqs = statementsWithActionPrefix(statements, 'sqs:');
    expect(sqs.map(({ statement }) => [actionStrings(statement.Action), renderedResources(statement)])).toEqual([
      [['sqs:SendMessage'], [`\${${outputTarget(template, 'DeadLetterQueueUrl')}.Arn}`]],
    ]);
    const { statement } = only(statementsWithActionPrefix(statements, 'kms:'));
    expect(actionStrings(statement.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(renderedResources(statement)).toEqual([`\${${stackKey()}.Arn}`]);
    const viaService = asArray(objectAt(statement.Condition, 'StringEquals')['kms:ViaService']).map(render);
    expect(viaService.sort()).toEqual(['dynamodb.${AWS::Region}.amazonaws.com', 's3.${AWS::Region}.amazonaws.com', 'sqs.${AWS::Region}.amazonaws.com']);
  });
});

describe('tracing: off by default (README, "Tracing")', () => {
  // Active tracing would need an Allow on Resource "*" (X-Ray's Put* actions take no resource), which no role may
  // have; the decision is kept here so that turning it on is a visible change, not a drift.
  const bothTemplates = (): [string, CfnTemplate][] => [['default', template], ['optional features', retaining]];

  it('every function passes tracing through (no Active mode), on every stage setting', () => {
    for (const [name, t] of bothTemplates()) {
      const functions = resourcesOfType(t, 'AWS::Lambda::Function');
      expect(functions.length, name).toBeGreaterThanOrEqual(9);
      for (const [logicalId, fn] of functions) expect(fn.Properties?.TracingConfig, `${name} ${logicalId}`).toEqual({ Mode: 'PassThrough' });
    }
  });

  it('no state machine has X-Ray tracing enabled', () => {
    for (const [name, t] of bothTemplates()) {
      const machines = resourcesOfType(t, 'AWS::StepFunctions::StateMachine');
      expect(machines, name).toHaveLength(3);
      for (const [logicalId, machine] of machines) expect(machine.Properties?.TracingConfiguration, `${name} ${logicalId}`).toEqual({ Enabled: false });
    }
  });

  it('no policy statement names an xray action and no role attaches an X-Ray managed policy', () => {
    for (const [name, t] of bothTemplates()) {
      const xray = allPolicyStatements(t).flatMap(({ owner, path, statement }) =>
        [...actionStrings(statement.Action), ...actionStrings(statement.NotAction)].filter((action) => action.toLowerCase().startsWith('xray:')).map((action) => `${owner} ${path}: ${action}`),
      );
      expect(xray, name).toEqual([]);
      for (const [logicalId, role] of resourcesOfType(t, 'AWS::IAM::Role')) {
        expect(JSON.stringify(role.Properties?.ManagedPolicyArns ?? []), `${name} ${logicalId}`).not.toMatch(/xray/i);
      }
    }
  });
});

describe('state machines', () => {
  const machines = [
    ['TrainAndDeployStateMachine', 'train-and-deploy'],
    ['StartModelStateMachine', 'start-model'],
    ['StopModelStateMachine', 'stop-model'],
  ] as const;

  it.each(machines)('%s deploys statemachines/%s.asl.json unchanged (the tested file is the deployed file)', (logicalId, file) => {
    // The framework rewrites what it embeds (it once dropped every null); any difference here would make the
    // local and unit tests exercise a different machine from the one deployed.
    const asl = JSON.parse(readFileSync(join(REPO_ROOT, 'statemachines', `${file}.asl.json`), 'utf8')) as Json;
    expect(resource(template, logicalId, 'AWS::StepFunctions::StateMachine').Properties.Definition).toEqual(asl);
  });

  it.each(machines)('%s fills every ${token} of its file by DefinitionSubstitutions, and nothing more', (logicalId, file) => {
    const text = readFileSync(join(REPO_ROOT, 'statemachines', `${file}.asl.json`), 'utf8');
    const tokens = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1]));
    const substitutions = objectAt(resource(template, logicalId, 'AWS::StepFunctions::StateMachine').Properties, 'DefinitionSubstitutions');
    expect(new Set(Object.keys(substitutions))).toEqual(tokens);
    expect(text).not.toMatch(/arn:aws[a-z-]*:(lambda|states|dynamodb|rekognition):[a-z0-9-]+:\d{12}:/);
  });

  it.each(machines)('%s logs to CloudWatch', (logicalId) => {
    const logging = objectAt(resource(template, logicalId, 'AWS::StepFunctions::StateMachine').Properties, 'LoggingConfiguration');
    expect(logging.Level).toBe('ALL');
    expect(asArray(logging.Destinations)).toHaveLength(1);
  });

  it('schedules the daily stop and the optional daily start, each switchable per stage', () => {
    const schedules = Object.fromEntries(resourcesOfType(template, 'AWS::Scheduler::Schedule'));
    expect(Object.keys(schedules).sort()).toEqual(['GaugesSchedule', 'ServingCheckSchedule', 'StartModelSchedule', 'StopModelSchedule']);
    expect(schedules.StopModelSchedule?.Condition).toBe('StopScheduleEnabled');
    expect(schedules.StartModelSchedule?.Condition).toBe('StartScheduleEnabled');
    expect(objectAt(schedules.StopModelSchedule?.Properties, 'Target').Arn).toEqual({ Ref: 'StopModelStateMachine' });
    expect(objectAt(schedules.StartModelSchedule?.Properties, 'Target').Arn).toEqual({ Ref: 'StartModelStateMachine' });
    // Each run says why it started or stopped the model.
    expect(objectAt(schedules.StopModelSchedule?.Properties, 'Target').Input).toBe('{"reason":"schedule"}');
    expect(objectAt(schedules.StartModelSchedule?.Properties, 'Target').Input).toBe('{"reason":"schedule"}');
  });

  it('runs the serving check every minute on the serving-check function, whose role reaches only the active item, the status index, and starts and follows runs of the two machines only', () => {
    const schedule = resource(template, 'ServingCheckSchedule', 'AWS::Scheduler::Schedule').Properties;
    expect(schedule.ScheduleExpression).toBe('rate(1 minute)');
    expect(objectAt(schedule, 'Target').Arn).toEqual({ 'Fn::GetAtt': ['ServingCheckLambdaFunction', 'Arn'] });
    const fn = resource(template, 'ServingCheckLambdaFunction', 'AWS::Lambda::Function').Properties;
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['ServingCheckRole', 'Arn'] });
    const statements = allPolicyStatements(template).filter((found) => found.owner === 'ServingCheckRole' && found.path.startsWith('Policies'));
    const granted = statements.map(({ statement }) => `${render(statement.Sid)} ${actionStrings(statement.Action).join(',')} ${renderedResources(statement).join(',')}`);
    expect(granted).toEqual([
      'WriteOwnLogs logs:CreateLogStream,logs:PutLogEvents ${ServingCheckLogGroup.Arn}',
      'ReadServingStateAndHold dynamodb:GetItem ${RegistryTable.Arn}',
      'ServingStateOfActiveModel dynamodb:UpdateItem ${RegistryTable.Arn}',
      'FindWaitingImages dynamodb:Query ${ResultsTable.Arn}/index/byStatus',
      'StartAndStopModel states:StartExecution ${StartModelStateMachine},${StopModelStateMachine}',
      'FollowStartAndStopRuns states:DescribeExecution arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:pneumo-ci-start-model:*,arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:pneumo-ci-stop-model:*',
      'UseDataKeyThroughServices kms:Decrypt,kms:GenerateDataKey ${EncryptionKey.Arn}',
    ]);
    // ServingStore.read() gets both items: a role limited to `active` would be denied the hold on AWS.
    const leadingKeys = (sid: string): unknown => objectAt(objectAt(statements.find(({ statement }) => statement.Sid === sid)?.statement.Condition, 'ForAllValues:StringEquals'))['dynamodb:LeadingKeys'];
    expect(leadingKeys('ReadServingStateAndHold')).toEqual([ACTIVE_MODEL_ID, SERVING_HOLD_ID]);
    expect(leadingKeys('ServingStateOfActiveModel')).toEqual([ACTIVE_MODEL_ID]);
  });
});

describe('alarms', () => {
  const TOPIC = 'AlarmTopic';
  function alarm(logicalId: string): JsonObject {
    return resource(template, logicalId, 'AWS::CloudWatch::Alarm').Properties;
  }
  /** The metrics of a metric-math alarm by id. */
  function metricsOf(logicalId: string): Record<string, JsonObject> {
    return Object.fromEntries(asArray(alarm(logicalId).Metrics).map((m) => [render(objectAt(m).Id), objectAt(m)]));
  }
  function stat(metric: JsonObject | undefined): JsonObject {
    return objectAt(metric, 'MetricStat');
  }

  it('one topic per stage, encrypted with the stack key; e-mail subscription only when alarmEmail is set', () => {
    const topic = resource(template, TOPIC, 'AWS::SNS::Topic').Properties;
    expect(topic.TopicName).toBe(`pneumo-${STAGE}-alarms`);
    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [stackKey(), 'Arn'] });
    expect(resourcesOfType(template, 'AWS::SNS::Topic')).toHaveLength(1);
    const subscription = resource(template, 'AlarmEmailSubscription', 'AWS::SNS::Subscription');
    expect(subscription.Condition).toBe('AlarmEmailGiven');
    expect(template.Conditions?.AlarmEmailGiven).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['email-', 'email-'] }] });
    expect(retaining.Conditions?.AlarmEmailGiven).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['email-operators@example.org', 'email-'] }] });
    expect(resource(retaining, 'AlarmEmailSubscription', 'AWS::SNS::Subscription').Properties).toMatchObject({
      Protocol: 'email',
      Endpoint: 'operators@example.org',
      TopicArn: { Ref: TOPIC },
    });
  });

  it('the topic policy lets this stage\'s alarms and the retrain rule publish, and nothing else', () => {
    const statements = allPolicyStatements(template).filter(({ ownerType }) => ownerType === 'AWS::SNS::TopicPolicy').map(({ statement }) => statement);
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allows.map((statement) => [render(objectAt(statement.Principal).Service), statement.Action, render(statement.Resource)])).toEqual([
      ['cloudwatch.amazonaws.com', 'sns:Publish', `\${${TOPIC}}`],
      ['events.amazonaws.com', 'sns:Publish', `\${${TOPIC}}`],
    ]);
    expect(render(objectAt(allows[0]?.Condition, 'ArnLike')['aws:SourceArn'])).toBe(`arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:pneumo-${STAGE}-*`);
    expect(render(objectAt(allows[1]?.Condition, 'ArnEquals')['aws:SourceArn'])).toBe('${RetrainProblemRule.Arn}');
    // Every alarm's name falls under the CloudWatch statement's pattern.
    for (const [logicalId, found] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
      expect(render(found.Properties?.AlarmName), logicalId).toMatch(new RegExp(`^pneumo-${STAGE}-`));
    }
  });

  it('the key policy lets CloudWatch and EventBridge use the key for this topic only (what an encrypted topic needs)', () => {
    const key = asArray(objectAt(resource(template, stackKey(), 'AWS::KMS::Key').Properties, 'KeyPolicy').Statement).map((x) => objectAt(x));
    const publishers = key.find((statement) => statement.Sid === 'AlarmPublishersUseAlarmTopic');
    expect(publishers?.Effect).toBe('Allow');
    expect(asArray(objectAt(publishers?.Principal).Service).map(render).sort()).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
    expect(actionStrings(publishers?.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    const topicArn = render(objectAt(publishers?.Condition, 'StringEquals')['kms:EncryptionContext:aws:sns:topicArn']);
    expect(topicArn).toBe(`arn:\${AWS::Partition}:sns:\${AWS::Region}:\${AWS::AccountId}:pneumo-${STAGE}-alarms`);
    expect(topicArn.endsWith(`:${render(resource(template, TOPIC, 'AWS::SNS::Topic').Properties.TopicName)}`)).toBe(true);
  });

  it.each([
    ['DeadLetterQueueAlarm', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 'QueueName', '${ClassifyDeadLetterQueue.QueueName}', 'notBreaching'],
    ['ClassifyErrorsAlarm', 'AWS/Lambda', 'Errors', 'Sum', 'FunctionName', '${ClassifyLambdaFunction}', 'notBreaching'],
    ['ClassifyThrottlesAlarm', 'AWS/Lambda', 'Throttles', 'Sum', 'FunctionName', '${ClassifyLambdaFunction}', 'notBreaching'],
    ['ServingTooLongAlarm', 'Pneumo', 'BillingInferenceUnits', 'Minimum', 'service', 'gauges', 'breaching'],
  ])('%s: %s %s (%s) by %s, above its threshold', (logicalId, namespace, metric, statistic, dimension, value, missing) => {
    const properties = alarm(logicalId);
    expect(properties).toMatchObject({ Namespace: namespace, MetricName: metric, Statistic: statistic, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: missing });
    expect(asArray(properties.Dimensions).map((d) => [objectAt(d).Name, render(objectAt(d).Value)])).toEqual([[dimension, value]]);
  });

  it('thresholds and periods are the stage parameters\' defaults', () => {
    expect([alarm('DeadLetterQueueAlarm').Threshold, alarm('DeadLetterQueueAlarm').Period]).toEqual([0, 300]);
    expect([alarm('ClassifyErrorsAlarm').Threshold, alarm('ClassifyErrorsAlarm').Period]).toEqual([0, 300]);
    expect([alarm('ClassifyThrottlesAlarm').Threshold, alarm('ClassifyThrottlesAlarm').Period]).toEqual([0, 300]);
    // maxServingHours hours in a row of an hourly minimum above 0 units: 13 without a daily cap.
    expect(alarm('ServingTooLongAlarm')).toMatchObject({ Period: 3600, EvaluationPeriods: 13, DatapointsToAlarm: 13, Threshold: 0 });
  });

  it('with a daily cap, maxServingHours defaults to the cap plus an hour (the cap ends every run before it)', () => {
    expect(resource(retaining, 'ServingTooLongAlarm', 'AWS::CloudWatch::Alarm').Properties).toMatchObject({ EvaluationPeriods: 9, DatapointsToAlarm: 9 });
  });

  it('PENDING too long: the oldest PENDING image\'s overdue wait (quiet hours, cap and hold not counted) in minutes above maxPendingMinutes; a silent gauge alarms too', () => {
    const properties = alarm('PendingTooLongAlarm');
    expect(properties).toMatchObject({ Threshold: 30, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'breaching', EvaluationPeriods: 1 });
    const metrics = metricsOf('PendingTooLongAlarm');
    expect(metrics.minutes).toMatchObject({ Expression: 'age / 60', ReturnData: true });
    expect(stat(metrics.age)).toEqual({
      Stat: 'Maximum',
      Period: 300,
      Metric: { Namespace: 'Pneumo', MetricName: 'OverduePendingAgeSeconds', Dimensions: [{ Name: 'service', Value: 'gauges' }] },
    });
    // What it counts as waiting by design is the serving policy the gauges function is given.
    expect(Object.keys(objectAt(resource(template, 'GaugesLambdaFunction', 'AWS::Lambda::Function').Properties, 'Environment', 'Variables'))).toEqual(
      expect.arrayContaining(['QUIET_HOURS', 'DAILY_CAP_HOURS', 'SERVING_TIME_ZONE', 'REGISTRY_TABLE']),
    );
  });

  it('NEEDS_REVIEW share over a day: review / labelled of classify and re-drive, whatever the labels, once enough images', () => {
    const properties = alarm('ReviewShareAlarm');
    expect(properties).toMatchObject({ Threshold: 0.3, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    const metrics = metricsOf('ReviewShareAlarm');
    const series = Object.values(metrics).filter((metric) => metric.MetricStat !== undefined);
    const described = series.map((metric) => {
      const { Metric, Stat, Period } = stat(metric);
      const dims = Object.fromEntries(asArray(objectAt(Metric).Dimensions).map((d) => [render(objectAt(d).Name), render(objectAt(d).Value)]));
      return `${render(objectAt(Metric).MetricName)} ${dims.service ?? ''} ${dims.label ?? ''} ${render(Stat)} ${render(Period)}`;
    });
    expect(described.sort()).toEqual(
      // No label dimension: the per-service totals classify emits next to the per-label counts.
      ['Classified', 'NeedsReview'].flatMap((name) => ['classify', 'redrive'].map((service) => `${name} ${service}  Sum 86400`)).sort(),
    );
    const expression = render(metrics.share?.Expression);
    const reviewIds = Object.entries(metrics).filter(([, m]) => m.MetricStat !== undefined && objectAt(stat(m), 'Metric').MetricName === 'NeedsReview').map(([id]) => id);
    expect(expression).toMatch(/^IF\(\(.+\) >= 20, \(.+\) \/ \(.+\), 0\)$/);
    for (const id of reviewIds) expect(expression).toContain(`FILL(${id},0)`);
    expect(metrics.share?.ReturnData).toBe(true);
  });

  it.each([
    ['TrainAndDeployExecutionsAlarm', 'TrainAndDeployStateMachine'],
    ['StartModelExecutionsAlarm', 'StartModelStateMachine'],
    ['StopModelExecutionsAlarm', 'StopModelStateMachine'],
  ])('%s: failed + timed-out executions of %s', (logicalId, machine) => {
    const metrics = metricsOf(logicalId);
    expect(metrics.problems).toMatchObject({ Expression: 'FILL(failed,0) + FILL(timedOut,0)', ReturnData: true });
    for (const [id, name] of [['failed', 'ExecutionsFailed'], ['timedOut', 'ExecutionsTimedOut']] as const) {
      expect(stat(metrics[id])).toEqual({ Stat: 'Sum', Period: 300, Metric: { Namespace: 'AWS/States', MetricName: name, Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine } }] } });
    }
    expect(alarm(logicalId)).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
  });

  it('every alarm notifies the topic on ALARM and on OK', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBe(9);
    for (const [logicalId, found] of alarms) {
      expect(found.Properties?.AlarmActions, logicalId).toEqual([{ Ref: TOPIC }]);
      expect(found.Properties?.OKActions, logicalId).toEqual([{ Ref: TOPIC }]);
      expect(render(found.Properties?.AlarmDescription), logicalId).toContain('Runbook');
    }
  });

  it('the gauges the PENDING and serving alarms watch are published every 5 minutes by a function with read-only access', () => {
    const schedule = resource(template, 'GaugesSchedule', 'AWS::Scheduler::Schedule').Properties;
    expect(schedule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(objectAt(schedule, 'Target').Arn).toEqual({ 'Fn::GetAtt': ['GaugesLambdaFunction', 'Arn'] });
    const granted = allPolicyStatements(template)
      .filter(({ owner, path }) => owner === 'GaugesRole' && path.startsWith('Policies'))
      .flatMap(({ statement }) => actionStrings(statement.Action));
    expect(granted.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 'rekognition:DescribeProjectVersions', 'rekognition:DescribeProjects']);
  });

  it('a dashboard shows status per hour, latency p50/p95, errors, DLQ depth, PENDING backlog, serving units and the alarms', () => {
    const body = render(resource(template, 'Dashboard', 'AWS::CloudWatch::Dashboard').Properties.DashboardBody);
    const widgets = (JSON.parse(body) as { widgets: { properties: { title: string } }[] }).widgets.map((widget) => widget.properties.title);
    expect(widgets).toEqual([
      'Images by status per hour',
      'classify latency (ms)',
      'classify errors and throttles',
      'Dead-letter queue depth',
      'PENDING backlog',
      'Model serving: billing inference units',
      'Retrain and serving runs',
      'Alarms',
    ]);
    expect(body).toContain('"stat":"p95"');
    for (const [logicalId] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) expect(body).toContain(`\${${logicalId}.Arn}`);
  });
});

describe('result events', () => {
  it('the stage bus is encrypted with the stack key, and EventBridge may use the key for that bus only', () => {
    const bus = resource(template, 'EventBus', 'AWS::Events::EventBus').Properties;
    expect(bus).toMatchObject({ Name: `pneumo-${STAGE}-events`, KmsKeyIdentifier: { 'Fn::GetAtt': [stackKey(), 'Arn'] } });
    const key = asArray(objectAt(resource(template, stackKey(), 'AWS::KMS::Key').Properties, 'KeyPolicy').Statement).map((x) => objectAt(x));
    const events = key.find((statement) => statement.Sid === 'EventBridgeEncryptsEventBus');
    expect(actionStrings(events?.Action).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey']);
    expect(render(objectAt(events?.Condition, 'StringEquals')['aws:SourceArn'])).toBe(`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/pneumo-${STAGE}-events`);
  });

  it('the results table streams its new rows to two pipes that put them on the bus, dead letters to a queue', () => {
    const table = resource(template, 'ResultsTable', 'AWS::DynamoDB::Table').Properties;
    expect(table.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    const pipes = resourcesOfType(template, 'AWS::Pipes::Pipe');
    expect(pipes.map(([id]) => id).sort()).toEqual(['LabelledResultEventsPipe', 'UnlabelledResultEventsPipe']);
    const patterns = pipes.map(([, pipe]) => {
      const properties = objectAt(pipe.Properties);
      expect(properties.Source).toEqual({ 'Fn::GetAtt': ['ResultsTable', 'StreamArn'] });
      expect(properties.Target).toEqual({ 'Fn::GetAtt': ['EventBus', 'Arn'] });
      expect(render(properties.RoleArn)).toBe('${ResultEventsPipeRole.Arn}');
      const source = objectAt(properties, 'SourceParameters', 'DynamoDBStreamParameters');
      expect(source.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
      const template_ = render(objectAt(properties, 'TargetParameters').InputTemplate);
      // No image bytes or patient attributes: the template names exactly the documented fields.
      expect(Object.keys(JSON.parse(template_.replace(/"<[^>]+>"/g, '"x"')) as object).sort()).toEqual(['confidence', 'key', 'label', 'modelVersion', 'processedAt', 'status']);
      return asArray(objectAt(properties, 'SourceParameters', 'FilterCriteria').Filters).map((f) => render(objectAt(f).Pattern));
    });
    // Together the two filters cover every row exactly once: with a label and without.
    expect(patterns.flat().sort()).toEqual([
      '{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"label":{"S":[{"exists":false}]}}}}',
      '{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"label":{"S":[{"exists":true}]}}}}',
    ]);
  });

  it('the pipe role reads only the stream and puts only on the bus; record-outcome may put retrain events', () => {
    const pipe = allPolicyStatements(template).filter(({ owner, path }) => owner === 'ResultEventsPipeRole' && path.startsWith('Policies'));
    const byAction = Object.fromEntries(pipe.flatMap(({ statement }) => actionStrings(statement.Action).map((action) => [action, asArray(statement.Resource).map(render)])));
    expect(byAction['dynamodb:GetRecords']).toEqual(['${ResultsTable.StreamArn}']);
    expect(byAction['events:PutEvents']).toEqual(['${EventBus.Arn}']);
    expect(byAction['sqs:SendMessage']).toEqual(['${EventsDeadLetterQueue.Arn}']);
    expect(Object.keys(byAction)).not.toContain('dynamodb:PutItem');
    const outcome = allPolicyStatements(template).filter(({ owner }) => owner === 'RecordOutcomeRole');
    expect(outcome.filter(({ statement }) => actionStrings(statement.Action).includes('events:PutEvents')).map(({ statement }) => render(statement.Resource))).toEqual(['${EventBus.Arn}']);
    const env = objectAt(resource(template, 'RecordOutcomeLambdaFunction', 'AWS::Lambda::Function').Properties, 'Environment', 'Variables');
    expect(env).toMatchObject({ EVENT_BUS_NAME: { Ref: 'EventBus' }, RETRAIN_EVENT_SOURCE: 'pneumo.training' });
  });

  it('failed and rejected retrains also reach the alarm topic through a rule on the bus', () => {
    const rule = resource(template, 'RetrainProblemRule', 'AWS::Events::Rule').Properties;
    expect(rule.EventBusName).toEqual({ Ref: 'EventBus' });
    expect(rule.EventPattern).toEqual({ source: ['pneumo.training'], 'detail-type': ['Retrain Finished'], detail: { outcome: ['FAILED', 'REJECTED'] } });
    expect(asArray(rule.Targets).map((target) => objectAt(target).Arn)).toEqual([{ Ref: 'AlarmTopic' }]);
  });
});

describe('outputs', () => {
  it('names every resource the CLI needs', () => {
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining(['BucketName', 'ResultsTableName', 'RegistryTableName', 'DeadLetterQueueUrl', 'KmsKeyArn', 'ProjectName', 'ClassifyFunctionName']),
    );
    expect(outputTarget(template, 'BucketName')).toBe(INBOX_BUCKET);
    expect(outputTarget(template, 'KmsKeyArn')).toBe(stackKey());
    expect(outputTarget(template, 'ClassifyFunctionName')).toBe(CLASSIFY);
  });

  it('gives the review page the same review threshold classify applies', () => {
    const environment = objectAt(objectAt(resource(template, CLASSIFY, 'AWS::Lambda::Function').Properties, 'Environment'), 'Variables');
    // CloudFormation hands every output back as a string (cfn-lint accepts the number the framework writes).
    const threshold = template.Outputs.ReviewThreshold?.Value;
    expect(typeof threshold === 'number' ? String(threshold) : threshold).toBe(environment.REVIEW_THRESHOLD);
    expect(threshold).toBe(80);
  });

  it('gives the review page the positive label the quality gate checks', () => {
    const environment = objectAt(objectAt(resource(template, 'PrepareDatasetLambdaFunction', 'AWS::Lambda::Function').Properties, 'Environment'), 'Variables');
    expect(environment.POSITIVE_LABEL).toBe('PNEUMONIA');
    expect(template.Outputs.PositiveLabel?.Value).toBe(environment.POSITIVE_LABEL);
  });

  it('describes the serving schedule the CLI prices, as valid JSON matching the schedules deployed', () => {
    const schedule = parseServingSchedule(template.Outputs.ServingSchedule?.Value);
    const stop = resource(template, 'StopModelSchedule', 'AWS::Scheduler::Schedule').Properties;
    expect(schedule).toMatchObject({ stopEnabled: true, stopExpression: stop.ScheduleExpression, timeZone: stop.ScheduleExpressionTimezone, startEnabled: false });
  });
});

describe('classify artifact', () => {
  function classifyZip(): string {
    const code = objectAt(resource(template, CLASSIFY, 'AWS::Lambda::Function').Properties, 'Code');
    const key = render(code.S3Key);
    expect(key).toMatch(/\/classify\.zip$/);
    return join(packaged.dir, 'classify.zip');
  }

  it('holds a minified ESM bundle with a linked source map, its own chunks with theirs, and nothing else', () => {
    const entries = readZip(classifyZip());
    const names = entries.map((entry) => entry.name);
    const chunks = names.filter((name) => name.startsWith('src/handlers/chunks-classify/') && name.endsWith('.mjs'));
    expect(chunks.length).toBeGreaterThan(0);
    expect(names.sort()).toEqual(['src/handlers/classify.mjs', 'src/handlers/classify.mjs.map', ...chunks.flatMap((chunk) => [chunk, `${chunk}.map`])].sort());
    const bundle = entries.find((entry) => entry.name === 'src/handlers/classify.mjs');
    if (!bundle) throw new Error('no bundle');
    // The SDK clients and Powertools are bundled, minified: hundreds of KB, not MB.
    expect(bundle.size).toBeGreaterThan(100_000);
    expect(bundle.size).toBeLessThan(1_500_000);
    const code = bundle.read().toString('utf8');
    const lines = code.split('\n');
    expect(code.length / lines.length).toBeGreaterThan(1_000);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=classify.mjs.map')).toBe(true);
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    const map = entries.find((entry) => entry.name === 'src/handlers/classify.mjs.map');
    const parsed = JSON.parse(map?.read().toString('utf8') ?? '{}') as { sources?: string[] };
    expect(parsed.sources).toEqual(expect.arrayContaining([expect.stringMatching(/src\/handlers\/classify\.ts$/)]));
  });

  it('keeps the Step Functions client out of what a cold start loads: it is a chunk imported on the first start', () => {
    const files = new Map(readZip(classifyZip()).map((entry) => [entry.name, entry.read().toString('utf8')]));
    // The SFN client's awsJson1.0 target prefix: in the client's own code, in no other client.
    const hasSfnClient = (file: string): boolean => (files.get(file) ?? '').includes('"AWSStepFunctions"');
    const coldPath = staticallyLoaded('src/handlers/classify.mjs', files);
    expect(coldPath.length).toBeGreaterThan(1);
    expect(coldPath.filter(hasSfnClient)).toEqual([]);
    const lazy = [...files.keys()].filter(hasSfnClient);
    expect(lazy).toHaveLength(1);
    expect(lazy[0]).toMatch(/^src\/handlers\/chunks-classify\//);
    expect(importedModules('src/handlers/classify.mjs', files.get('src/handlers/classify.mjs') ?? '').dynamic).toContain(lazy[0]);
  });

  it('gives every function the chunks its bundle imports, in its own zip only', () => {
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const zips = functions.map((fn) => render(objectAt(fn.Properties, 'Code').S3Key).split('/').pop() ?? '');
    expect(zips).toHaveLength(9);
    for (const zip of zips) {
      const files = new Map(readZip(join(packaged.dir, zip)).map((entry) => [entry.name, entry.read().toString('utf8')]));
      const folders = new Set([...files.keys()].map((name) => /^src\/handlers\/(chunks-[^/]+)\//.exec(name)?.[1]).filter((folder) => folder !== undefined));
      expect([...folders], zip).toHaveLength(1);
      for (const [name, code] of files) {
        if (!name.endsWith('.mjs')) continue;
        const { static: loaded, dynamic } = importedModules(name, code);
        for (const imported of [...loaded, ...dynamic]) expect(files.has(imported), `${zip}: ${name} imports ${imported}`).toBe(true);
      }
    }
  });

  function unpackedClassify(): string {
    const dir = mkdtempSync(join(tmpdir(), 'pneumo-bundle-'));
    scratch.push(dir);
    for (const entry of readZip(classifyZip())) {
      const target = join(dir, entry.name);
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, entry.read());
    }
    return join(dir, 'src/handlers/classify.mjs');
  }

  /** Runs `script` in a fresh node as the function's runtime would (source maps on), with a minimal environment. */
  function runNode(script: string): Promise<string> {
    return new Promise<string>((done, fail) => {
      execFile(
        process.execPath,
        ['--enable-source-maps', '--input-type=module', '-e', script],
        { env: { PATH: process.env.PATH, RESULTS_TABLE: 'results', REGISTRY_TABLE: 'registry', START_MODEL_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:start', AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' }, timeout: 30_000 },
        (error, stdout, stderr) => {
          if (error) fail(new Error(`${error.message}\n${stderr}`));
          else done(stdout.trim());
        },
      );
    });
  }

  it('loads in Node and exports the handler, and the on-demand start\'s chunk loads from the zip', async () => {
    const bundle = unpackedClassify();
    expect(await runNode(`const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`)).toBe('function');
    const files = new Map(readZip(classifyZip()).map((entry) => [entry.name, entry.read().toString('utf8')]));
    const sfnChunk = [...files.keys()].find((name) => (files.get(name) ?? '').includes('"AWSStepFunctions"')) ?? '';
    const chunk = join(bundle, '../../..', sfnChunk);
    // Its exports are minified: a client class with `send` and a command class among them.
    const script = `const m = await import(${JSON.stringify(chunk)}); console.log(Object.values(m).some((v) => typeof v === 'function' && typeof v.prototype?.send === 'function'));`;
    expect(await runNode(script)).toBe('true');
  });

  it('maps a stack trace from the minified bundle back to TypeScript lines', async () => {
    const bundle = unpackedClassify();
    const stack = await runNode(
      `const m = await import(${JSON.stringify(bundle)});\n` +
        `try { await m.handler({ Records: [{ eventSource: 'not-s3' }] }, { functionName: 'classify', awsRequestId: 'r' }); } catch (error) { console.log(error.stack); }`,
    );
    expect(stack).toMatch(/^RecordsNotProcessedError/);
    expect(stack).toMatch(/at classifyS3Event \(\S*src\/lib\/classify\.ts:\d+:\d+\)/);
    expect(stack).toMatch(/\S*src\/handlers\/classify\.ts:\d+:\d+/);
  });

  it('meets the size goal: dependencies are mapped by file only, so the map stays small', () => {
    const entries = readZip(classifyZip());
    const map = JSON.parse(entries.find((entry) => entry.name.endsWith('.map'))?.read().toString('utf8') ?? '{}') as { sources?: string[] };
    const sources = map.sources ?? [];
    // A dependency frame still names its package file; its line is the file's first (src/build/esbuild-plugins.cjs).
    expect(sources.some((source) => /node_modules\/@aws-sdk\/client-rekognition\//.test(source))).toBe(true);
    expect(sources.filter((source) => source.includes('/src/')).length).toBeGreaterThan(5);
    expect(statSync(classifyZip()).size).toBeLessThanOrEqual(300_000);
  });
});

/** The relative modules a bundle file imports, resolved to zip paths: statically (loaded with it) and by `import()`. */
function importedModules(file: string, code: string): { static: string[]; dynamic: string[] } {
  const resolve = (specifier: string): string => posix.join(posix.dirname(file), specifier);
  const all = (pattern: RegExp): string[] => [...code.matchAll(pattern)].map((match) => resolve(match[1] ?? ''));
  return { static: all(/(?:\bfrom|\bimport)\s*["'](\.\.?\/[^"']+)["']/g), dynamic: all(/\bimport\(\s*["'](\.\.?\/[^"']+)["']\s*\)/g) };
}

/** Every file Node loads when it imports `entry` (the static import graph within the zip). */
function staticallyLoaded(entry: string, files: ReadonlyMap<string, string>): string[] {
  const loaded = new Set<string>();
  const visit = (file: string): void => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const imported of importedModules(file, files.get(file) ?? '').static) visit(imported);
  };
  visit(entry);
  return [...loaded];
}
