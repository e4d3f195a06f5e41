import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import type { Runtime } from '../../src/lib/composition.js';
import { FUNCTION_BUILDERS } from '../../src/lib/functions/index.js';
import type { ResultsIndex } from '../../src/lib/tables/results.js';
import { TrainingRegistry } from '../../src/lib/training/registry.js';
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
  EVENT_BUS_NAME: 'pneumo-test',
  RETRAIN_EVENT_SOURCE: 'pneumo.training',
} as const;

/** The Lambdas of the state machines, by the substitution naming their ARN, as serverless.yml's handlers. */
const TASK_FUNCTIONS: Readonly<Record<string, string>> = {
  PrepareDatasetFunctionArn: 'src/handlers/prepare-dataset.handler',
  EvaluateFunctionArn: 'src/handlers/evaluate.handler',
  RecordOutcomeFunctionArn: 'src/handlers/record-outcome.handler',
  PlanStartFunctionArn: 'src/handlers/plan-start.handler',
  PromoteFunctionArn: 'src/handlers/promote.handler',
  RedriveFunctionArn: 'src/handlers/redrive.handler',
};

// RecordOutcome publishes a retrain's end on the stage's bus; here the bus only accepts it.
const events = mockClient(EventBridgeClient);
const published: PutEventsCommandInput[] = [];

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
  /** What RecordOutcome put on the event bus since this deployment. */
  readonly published: readonly PutEventsCommandInput[];
  readonly targets: LocalTargets;
  run(name: StateMachineName, input: unknown, executionName?: string): Promise<LocalExecution>;
}

/**
 * The three state machines "deployed" in-process: Lambda Tasks run the functions as deployed (built by the
 * builders of src/lib/functions/index.ts from TEST_ENV) over the local DynamoDB and the (mocked) S3 and
 * Rekognition clients, SDK Tasks go to the mocked Rekognition client.
 */
export function deploy(dynamo: LocalDynamo, tables: Tables, clock: () => number = Date.now): Deployment {
  const env = { ...TEST_ENV, REGISTRY_TABLE: tables.registry, RESULTS_TABLE: tables.results };
  const s3 = new S3Client({ region: 'eu-west-1' });
  const rekognition = new RekognitionClient({ region: 'eu-west-1' });
  const registry = new TrainingRegistry(dynamo.documents, tables.registry);
  published.length = 0;
  events.reset();
  events.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
    published.push(input);
    return { FailedEntryCount: 0, Entries: [{ EventId: `event-${published.length}` }] };
  });
  /** Each function its own logger and metrics, as each Lambda has. */
  const runtime = (service: string): Runtime => ({
    s3,
    rekognition,
    documents: dynamo.documents,
    logger: new Logger({ serviceName: service }),
    metrics: new Metrics({ namespace: 'PneumoTest', serviceName: service }),
    clientSettings: { region: 'eu-west-1' },
    clock,
  });
  const fn = (name: string): string => SUBSTITUTIONS[name] ?? '';
  const functions = Object.fromEntries(
    Object.entries(TASK_FUNCTIONS).map(([arnName, handler]) => {
      const build = FUNCTION_BUILDERS[handler];
      if (!build) throw new Error(`no builder for ${handler}`);
      return [fn(arnName), build(runtime(handler.slice('src/handlers/'.length, -'.handler'.length)), env)];
    }),
  );
  const targets: LocalTargets = {
    rekognition,
    functions,
    stateMachines: { [fn('StartModelStateMachineArn')]: loadDefinition('start-model') },
  };
  return {
    registry,
    published,
    targets,
    run: (name, input, executionName) => runLocally(loadDefinition(name), input, targets, { instant: true, executionName }),
  };
}
