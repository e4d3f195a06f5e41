import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Runtime } from '../../src/lib/composition.js';
import { loadRedriveConfig, loadRegistryConfig, loadStartConfig, loadTrainingConfig } from '../../src/lib/config.js';
import { redriveFunction } from '../../src/lib/functions/redrive.js';
import { evaluateFunction, planStartFunction, prepareDatasetFunction, promoteFunction, recordOutcomeFunction } from '../../src/lib/functions/training.js';
import type { ResultsIndex } from '../../src/lib/tables/results.js';
import { TrainingRegistry } from '../../src/lib/training/registry.js';
import { DEFAULT_POLICY } from '../../src/lib/serving/policy.js';
import { runLocally } from '../../src/local/sfn-runner.js';
import type { LocalExecution, LocalTargets } from '../../src/local/sfn-runner.js';
import type { LocalDynamo } from '../fixtures/dynamodb.js';
import { DATA_BUCKET, loadDefinition, PROJECT_NAME, SUBSTITUTIONS } from '../fixtures/statemachines.js';
import type { StateMachineName } from '../fixtures/statemachines.js';

/** Stage settings the Lambdas would get from their environment; small numbers keep the polling short. */
export const TEST_ENV = {
  PROJECT_NAME,
  DATA_BUCKET,
  POSITIVE_LABEL: 'PNEUMONIA',
  MIN_IMAGES_PER_LABEL: '2',
  DEFAULT_MIN_F1: '0.85',
  DEFAULT_MIN_PNEUMONIA_RECALL: '0.9',
  MAX_F1_DROP: '0.02',
  DEFAULT_MIN_INFERENCE_UNITS: '1',
  DEFAULT_MAX_INFERENCE_UNITS: '2',
  TRAINING_POLL_SECONDS: '600',
  // Six polls of ten minutes.
  MAX_TRAINING_HOURS: '1',
  START_POLL_SECONDS: '60',
  MAX_START_MINUTES: '5',
  REVIEW_THRESHOLD: '80',
  REGISTRY_CACHE_SECONDS: '0',
  REDRIVE_PAGE_SIZE: '2',
} as const;

let tableCounter = 0;

export interface Tables {
  readonly registry: string;
  readonly results: string;
}

/** A fresh registry table and results table (with the `byStatus` index) for one test. */
export async function createTables(dynamo: LocalDynamo): Promise<Tables> {
  tableCounter += 1;
  const tables = { registry: `registry-${tableCounter}`, results: `results-${tableCounter}` };
  await dynamo.createTable({
    TableName: tables.registry,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  await dynamo.createTable({
    TableName: tables.results,
    AttributeDefinitions: [
      { AttributeName: 'imageKey', AttributeType: 'S' },
      { AttributeName: 'status', AttributeType: 'S' },
      { AttributeName: 'processedAt', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'imageKey', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byStatus' satisfies ResultsIndex,
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'processedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  });
  return tables;
}

export interface Deployment {
  readonly registry: TrainingRegistry;
  readonly targets: LocalTargets;
  run(name: StateMachineName, input: unknown, executionName?: string): Promise<LocalExecution>;
}

/**
 * The three state machines "deployed" in-process: Lambda Tasks run the real domain functions over the local
 * DynamoDB and the (mocked) S3 and Rekognition clients, SDK Tasks go to the mocked Rekognition client.
 */
export function deploy(dynamo: LocalDynamo, tables: Tables, clock: () => number = Date.now): Deployment {
  const env = { ...TEST_ENV, REGISTRY_TABLE: tables.registry, RESULTS_TABLE: tables.results };
  const s3 = new S3Client({ region: 'eu-west-1' });
  const rekognition = new RekognitionClient({ region: 'eu-west-1' });
  const registry = new TrainingRegistry(dynamo.documents, tables.registry);
  /** Each function its own logger and metrics, as each Lambda has. */
  const runtime = (service: string): Runtime => ({
    s3,
    rekognition,
    documents: dynamo.documents,
    logger: new Logger({ serviceName: service }),
    metrics: new Metrics({ namespace: 'PneumoTest', serviceName: service }),
  });
  const registryConfig = loadRegistryConfig(env);
  const fn = (name: string): string => SUBSTITUTIONS[name] ?? '';
  const targets: LocalTargets = {
    rekognition,
    functions: {
      [fn('PrepareDatasetFunctionArn')]: prepareDatasetFunction(runtime('prepare-dataset'), loadTrainingConfig(env), { clock }),
      [fn('EvaluateFunctionArn')]: evaluateFunction(runtime('evaluate'), registryConfig, { clock }),
      [fn('RecordOutcomeFunctionArn')]: recordOutcomeFunction(runtime('record-outcome'), registryConfig, DEFAULT_POLICY, { clock }),
      [fn('PlanStartFunctionArn')]: planStartFunction(runtime('plan-start'), loadStartConfig(env), DEFAULT_POLICY, { clock }),
      [fn('PromoteFunctionArn')]: promoteFunction(runtime('promote'), registryConfig, { clock }),
      [fn('RedriveFunctionArn')]: redriveFunction(runtime('redrive'), loadRedriveConfig(env), { clock }),
    },
    stateMachines: { [fn('StartModelStateMachineArn')]: loadDefinition('start-model') },
  };
  return {
    registry,
    targets,
    run: (name, input, executionName) => runLocally(loadDefinition(name), input, targets, { instant: true, executionName }),
  };
}
