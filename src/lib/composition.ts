import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What every function is built from: its clients and its telemetry. Tests and the local stack pass their own. */
export interface Runtime {
  readonly s3: S3Client;
  readonly rekognition: RekognitionClient;
  readonly documents: DynamoDBDocumentClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

// Throttling, ProvisionedThroughputExceeded and 5xx are retried by the SDK's standard mode with backoff and
// jitter; a few more attempts than the default ride out a short burst before the Lambda-level retry kicks in.
const MAX_ATTEMPTS = 5;

/** Client settings every client shares: endpoint, region and credentials come from `settings` or the environment. */
type ClientSettings = Pick<DynamoDBClientConfig, 'endpoint' | 'region' | 'credentials'>;

export function awsClients(settings: ClientSettings = {}): Pick<Runtime, 's3' | 'rekognition' | 'documents'> {
  return {
    s3: new S3Client({ ...settings, maxAttempts: MAX_ATTEMPTS, ...(settings.endpoint ? { forcePathStyle: true } : {}) }),
    rekognition: new RekognitionClient({ ...settings, maxAttempts: MAX_ATTEMPTS }),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ ...settings, maxAttempts: MAX_ATTEMPTS }), {
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
  deployed ??= { ...awsClients(), logger: new Logger(), metrics: new Metrics() };
  return deployed;
}
