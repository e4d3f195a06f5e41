import { STATUS_INDEX } from '../lib/tables/results.js';

/*
 * What each role's code performs, as `pneumo check` asks IAM's policy simulator about it: the actions, on the
 * resources the code touches (one representative ARN per resource pattern), with the context keys the calls
 * carry. Kept beside the code's behaviour, not derived from the template: the point is to catch a template that
 * forgot something the code needs.
 */

export interface StageArns {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly bucket: string;
  readonly resultsTable: string;
  readonly registryTable: string;
  readonly projectName: string;
  readonly keyArn: string;
  readonly deadLetterQueueArn: string;
  readonly eventBusArn: string;
}

export interface ActionCheck {
  readonly actions: readonly string[];
  readonly resource: string;
  /** e.g. kms:ViaService for a key used through S3. */
  readonly context?: Readonly<Record<string, string>>;
  /** What the code does with it, for the fix line. */
  readonly why: string;
}

export interface RoleExpectation {
  readonly logicalId: string;
  readonly checks: (arns: StageArns) => readonly ActionCheck[];
}

const table = (a: StageArns, name: string): string => `arn:${a.partition}:dynamodb:${a.region}:${a.account}:table/${name}`;
const object = (a: StageArns, key: string): string => `arn:${a.partition}:s3:::${a.bucket}/${key}`;
const version = (a: StageArns): string => `arn:${a.partition}:rekognition:${a.region}:${a.account}:project/${a.projectName}/version/pneumo-check/1`;
const project = (a: StageArns): string => `arn:${a.partition}:rekognition:${a.region}:${a.account}:project/${a.projectName}/1`;
const via = (a: StageArns, service: string): Record<string, string> => ({ 'kms:ViaService': `${service}.${a.region}.amazonaws.com` });

export const ROLE_EXPECTATIONS: readonly RoleExpectation[] = [
  {
    logicalId: 'ClassifyRole',
    checks: (a) => [
      { actions: ['s3:GetObject', 's3:GetObjectVersion'], resource: object(a, 'inbox/pneumo-check.png'), why: 'reads the uploaded image (and Rekognition reads it as classify)' },
      { actions: ['rekognition:DetectCustomLabels'], resource: version(a), why: 'classifies with the active model version' },
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resource: table(a, a.resultsTable), why: 'reads and writes the result row' },
      { actions: ['dynamodb:GetItem'], resource: table(a, a.registryTable), why: 'reads the active model' },
      { actions: ['sqs:SendMessage'], resource: a.deadLetterQueueArn, why: 'dead-letters what fails every retry' },
      { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: a.keyArn, context: via(a, 's3'), why: 'decrypts the image through S3' },
      { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: a.keyArn, context: via(a, 'dynamodb'), why: 'uses the encrypted tables' },
    ],
  },
  {
    logicalId: 'RedriveRole',
    checks: (a) => [
      { actions: ['dynamodb:Query'], resource: `${table(a, a.resultsTable)}/index/${STATUS_INDEX}`, why: 'finds PENDING rows' },
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resource: table(a, a.resultsTable), why: 'rewrites the row' },
      { actions: ['s3:GetObjectVersion'], resource: object(a, 'inbox/pneumo-check.png'), why: 'reads the waiting image' },
      { actions: ['rekognition:DetectCustomLabels'], resource: version(a), why: 'classifies with the started model' },
    ],
  },
  {
    logicalId: 'GaugesRole',
    checks: (a) => [
      { actions: ['dynamodb:Query'], resource: `${table(a, a.resultsTable)}/index/${STATUS_INDEX}`, why: 'measures the PENDING backlog' },
      { actions: ['dynamodb:GetItem'], resource: table(a, a.registryTable), why: 'reads the serving state (a hold, the cap)' },
      { actions: ['rekognition:DescribeProjectVersions'], resource: project(a), why: 'counts billing inference units' },
    ],
  },
  {
    logicalId: 'PrepareDatasetRole',
    checks: (a) => [
      { actions: ['s3:PutObject'], resource: object(a, 'manifests/pneumo-check.manifest'), why: 'writes the training manifests' },
      { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resource: table(a, a.registryTable), why: 'takes the training lock' },
    ],
  },
  {
    logicalId: 'EvaluateRole',
    checks: (a) => [
      { actions: ['s3:GetObject'], resource: object(a, 'evaluation/pneumo-check.json'), why: 'reads the evaluation summary' },
      { actions: ['dynamodb:UpdateItem'], resource: table(a, a.registryTable), why: 'records the gate decision' },
    ],
  },
  {
    logicalId: 'RecordOutcomeRole',
    checks: (a) => [
      { actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resource: table(a, a.registryTable), why: 'records the outcome, releases the lock' },
      { actions: ['events:PutEvents'], resource: a.eventBusArn, why: 'puts the Retrain Finished event' },
    ],
  },
  {
    logicalId: 'TrainAndDeployStateMachineRole',
    checks: (a) => [
      { actions: ['rekognition:CreateProjectVersion', 'rekognition:DescribeProjectVersions'], resource: project(a), why: 'trains and polls a version' },
      { actions: ['s3:GetObject'], resource: object(a, 'training/NORMAL/pneumo-check.png'), why: 'Rekognition reads the training images as the caller' },
      { actions: ['s3:PutObject'], resource: object(a, 'evaluation/pneumo-check.json'), why: 'Rekognition writes the evaluation as the caller' },
      { actions: ['kms:CreateGrant', 'kms:Decrypt', 'kms:GenerateDataKey'], resource: a.keyArn, why: 'Rekognition encrypts its copies with the stack key' },
    ],
  },
  {
    logicalId: 'StartModelStateMachineRole',
    checks: (a) => [{ actions: ['rekognition:StartProjectVersion', 'rekognition:StopProjectVersion'], resource: project(a), why: 'starts and stops versions' }],
  },
  {
    logicalId: 'StopModelStateMachineRole',
    checks: (a) => [{ actions: ['rekognition:StopProjectVersion', 'rekognition:DescribeProjectVersions'], resource: project(a), why: 'stops every running version' }],
  },
];

/** The alarms resources/alarms.yml defines, by name after the stage prefix. */
export const EXPECTED_ALARMS = [
  'dead-letters',
  'classify-errors',
  'classify-throttles',
  'pending-too-long',
  'serving-too-long',
  'review-share',
  'train-and-deploy-failed',
  'start-model-failed',
  'stop-model-failed',
] as const;
