import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/*
 * Built once per container and handed to domain functions, so tests inject mocks and warm invocations reuse
 * connections. Endpoints come from AWS_ENDPOINT_URL_<SERVICE>, which is how the local stack points them at
 * its emulators without the code knowing.
 */

// Throttling, ProvisionedThroughputExceeded and 5xx are retried by the SDK's standard mode with backoff and
// jitter; a few more attempts than the default ride out a short burst before the Lambda-level retry kicks in.
const maxAttempts = 5;

export const s3Client = new S3Client({ maxAttempts });
export const rekognitionClient = new RekognitionClient({ maxAttempts });
export const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts }), {
  marshallOptions: { removeUndefinedValues: true },
});
