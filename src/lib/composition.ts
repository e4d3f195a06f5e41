import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { Env } from './env.js';

/** A function's environment variables, read once when the function is built (src/lib/env.ts reads them). */
export type { Env };

/** The services a function's clients talk to. */
export type AwsService = 's3' | 'dynamodb' | 'rekognition' | 'sfn' | 'eventbridge';

/**
 * Where a runtime's clients connect. Deployed, everything is unset and the SDK finds region, role credentials and
 * any AWS_ENDPOINT_URL_<SERVICE> itself; the local stack sets all of it, so nothing is read from process.env.
 */
export interface ClientSettings extends Pick<DynamoDBClientConfig, 'region' | 'credentials'> {
  readonly endpoints?: Readonly<Partial<Record<AwsService, string>>>;
}

/** What every function is built from: its clients, its telemetry and its clock. Tests and the local stack pass their own. */
export interface Runtime {
  readonly s3: S3Client;
  readonly rekognition: RekognitionClient;
  readonly documents: DynamoDBDocumentClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** For the clients a single function makes itself (Step Functions for a start, EventBridge for events). */
  readonly clientSettings: ClientSettings;
  readonly clock: () => number;
}

export type LambdaEntry<T> = (event: unknown, context?: Context) => Promise<T>;

/** How a function is built from a runtime and its environment: one per Lambda, src/lib/functions/index.ts lists them. */
export type FunctionBuilder<T = unknown> = (runtime: Runtime, env: Env) => LambdaEntry<T>;

// Throttling, ProvisionedThroughputExceeded and 5xx are retried by the SDK's standard mode with backoff and
// jitter; a few more attempts than the default ride out a short burst before the Lambda-level retry kicks in.
const MAX_ATTEMPTS = 5;

/** One client's configuration from the settings: endpoint, region and credentials only where they are set. */
export function clientConfig(settings: ClientSettings, service: AwsService): Pick<DynamoDBClientConfig, 'region' | 'credentials' | 'endpoint' | 'maxAttempts'> {
  const endpoint = settings.endpoints?.[service];
  return {
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: MAX_ATTEMPTS,
  };
}

export function awsClients(settings: ClientSettings = {}): Pick<Runtime, 's3' | 'rekognition' | 'documents'> {
  return {
    s3: new S3Client({ ...clientConfig(settings, 's3'), ...(settings.endpoints?.s3 ? { forcePathStyle: true } : {}) }),
    rekognition: new RekognitionClient(clientConfig(settings, 'rekognition')),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(settings, 'dynamodb')), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  };
}

let deployed: Runtime | undefined;

/**
 * The deployed function's runtime, built once per container so warm invocations reuse connections. Endpoints come
 * from AWS_ENDPOINT_URL_<SERVICE>; the logger's service and the metrics namespace from POWERTOOLS_* variables.
 */
export function deployedRuntime(): Runtime {
  deployed ??= { ...awsClients(), logger: new Logger(), metrics: new Metrics(), clientSettings: {}, clock: Date.now };
  return deployed;
}
