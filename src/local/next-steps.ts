import { STATUS_INDEX } from '../lib/tables/results.js';
import type { LocalStack } from './stack.js';

const TRAIN_AND_DEPLOY = 'TrainAndDeployStateMachine';

/**
 * The endpoints and the exact `aws` commands for them that `npm start` prints. The region goes in both variables:
 * the aws CLI v1 reads only `AWS_DEFAULT_REGION`, the SDKs and the CLI v2 `AWS_REGION`.
 */
export function nextSteps(stack: Pick<LocalStack, 'endpoints' | 'names'>, region: string): string {
  const results = stack.names.tables.ResultsTable ?? '';
  return `
Endpoints:  S3 ${stack.endpoints.s3}   DynamoDB ${stack.endpoints.dynamodb}   Rekognition ${stack.endpoints.rekognition}   Step Functions ${stack.endpoints.sfn}
Events:     ${stack.names.eventsFile} (result and retrain events, as the stage's bus carries them: pneumo watch --events)
Try (credentials S3RVER/S3RVER, any region works locally):
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=${region} AWS_DEFAULT_REGION=${region}
  aws --endpoint-url ${stack.endpoints.s3} s3 cp my-xray.jpeg s3://${stack.names.bucket}/inbox/my-xray.jpeg
  aws --endpoint-url ${stack.endpoints.dynamodb} dynamodb get-item --table-name ${results} --key '{"imageKey":{"S":"inbox/my-xray.jpeg"}}'
  aws --endpoint-url ${stack.endpoints.dynamodb} dynamodb query --table-name ${results} --index-name ${STATUS_INDEX} \\
      --key-condition-expression '#s = :s' --expression-attribute-names '{"#s":"status"}' --expression-attribute-values '{":s":{"S":"NEEDS_REVIEW"}}'
  aws --endpoint-url ${stack.endpoints.sfn} stepfunctions list-executions --state-machine-arn ${stack.names.stateMachines[TRAIN_AND_DEPLOY] ?? ''}`;
}
