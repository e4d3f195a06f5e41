import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeProjectsCommand, DescribeProjectVersionsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { gaugesFunction } from '../../src/lib/functions/operations.js';
import { readGauges } from '../../src/lib/gauges.js';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const dynamo = mockClient(documents);
const rekognition = mockClient(RekognitionClient);
const NOW = Date.parse('2026-12-01T09:00:00.000Z');
const PROJECT_ARN = 'arn:aws:rekognition:eu-west-1:1:project/pneumo-ci/1';

function deps(): Parameters<typeof readGauges>[0] {
  return { documents, rekognition: new RekognitionClient({ region: 'eu-west-1' }), resultsTable: 'results', projectName: 'pneumo-ci', now: () => NOW };
}

beforeEach(() => {
  dynamo.reset();
  rekognition.reset();
  rekognition.on(DescribeProjectsCommand).resolves({ ProjectDescriptions: [{ ProjectArn: PROJECT_ARN }] });
  rekognition.on(DescribeProjectVersionsCommand).resolves({ ProjectVersionDescriptions: [] });
});

describe('gauges', () => {
  it('the oldest PENDING row by the byStatus index, and every PENDING row counted across pages', async () => {
    dynamo.on(QueryCommand, { Limit: 1 }).resolves({ Items: [{ imageKey: 'inbox/a.png', processedAt: '2026-12-01T07:30:00.000Z' }] });
    dynamo
      .on(QueryCommand, { Select: 'COUNT' })
      .resolvesOnce({ Count: 1000, LastEvaluatedKey: { imageKey: 'x' } })
      .resolvesOnce({ Count: 234 });
    const gauges = await readGauges(deps());
    expect(gauges).toMatchObject({ pendingImages: 1234, oldestPending: { imageKey: 'inbox/a.png', since: '2026-12-01T07:30:00.000Z' }, oldestPendingAgeSeconds: 5400 });
    for (const call of dynamo.commandCalls(QueryCommand)) {
      expect(call.args[0].input).toMatchObject({ TableName: 'results', IndexName: 'byStatus' });
      expect(Object.values(call.args[0].input.ExpressionAttributeValues ?? {})).toContain('PENDING');
    }
    expect(dynamo.commandCalls(QueryCommand, { Limit: 1 })[0]?.args[0].input.ScanIndexForward).toBe(true);
  });

  it('nothing waiting: age 0, count 0', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [], Count: 0 });
    expect(await readGauges(deps())).toMatchObject({ pendingImages: 0, oldestPending: undefined, oldestPendingAgeSeconds: 0 });
  });

  it('billing units: every running, starting or stopping version over all pages, by its minimum units', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [], Count: 0 });
    rekognition
      .on(DescribeProjectVersionsCommand)
      .resolvesOnce({
        ProjectVersionDescriptions: [
          { ProjectVersionArn: `arn:aws:rekognition:eu-west-1:1:project/pneumo-ci/version/v1/1`, Status: 'RUNNING', MinInferenceUnits: 2 },
          { ProjectVersionArn: `arn:aws:rekognition:eu-west-1:1:project/pneumo-ci/version/v2/2`, Status: 'STOPPED', MinInferenceUnits: 1 },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ ProjectVersionDescriptions: [{ ProjectVersionArn: `arn:aws:rekognition:eu-west-1:1:project/pneumo-ci/version/v3/3`, Status: 'STARTING', MinInferenceUnits: 1 }] });
    const gauges = await readGauges(deps());
    expect(gauges.inferenceUnits).toBe(3);
    expect(gauges.billingVersions.map((version) => `${version.versionName} ${version.status}`)).toEqual(['v1 RUNNING', 'v3 STARTING']);
    expect(rekognition.commandCalls(DescribeProjectVersionsCommand)[1]?.args[0].input).toEqual({ ProjectArn: PROJECT_ARN, NextToken: 'page-2' });
  });

  it('no project yet: nothing bills', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [], Count: 0 });
    rekognition.on(DescribeProjectsCommand).resolves({ ProjectDescriptions: [] });
    expect(await readGauges(deps())).toMatchObject({ inferenceUnits: 0, billingVersions: [] });
  });

  it('the function publishes the overdue age the PENDING alarm watches: a user\'s hold and quiet hours are waiting by design', async () => {
    dynamo.on(QueryCommand, { Limit: 1 }).resolves({ Items: [{ imageKey: 'inbox/a.png', processedAt: '2026-12-01T07:30:00.000Z' }] });
    dynamo.on(QueryCommand, { Select: 'COUNT' }).resolves({ Count: 1 });
    dynamo.on(GetCommand, { Key: { id: 'active' } }).resolves({ Item: { id: 'active', projectVersionArn: 'arn:v1', state: 'STOPPED' } });
    dynamo.on(GetCommand, { Key: { id: 'serving#hold' } }).resolves({ Item: { id: 'serving#hold', by: 'local:op', at: '2026-12-01T07:00:00.000Z', reason: 'maintenance', until: '2026-12-01T08:40:00.000Z' } });
    const metrics = new Metrics({ namespace: 'PneumoTest', serviceName: 'gauges' });
    const published = vi.spyOn(metrics, 'addMetric');
    vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(undefined as never);
    const runtime = { s3: new S3Client({ region: 'eu-west-1' }), rekognition: new RekognitionClient({ region: 'eu-west-1' }), documents, logger: new Logger({ logLevel: 'SILENT' }), metrics, clientSettings: { region: 'eu-west-1' }, clock: () => NOW };
    const env = { REGISTRY_TABLE: 'registry', QUIET_HOURS: '20:00-07:00', SERVING_TIME_ZONE: 'Europe/London' };
    const gauges = gaugesFunction(runtime, { resultsTable: 'results', projectName: 'pneumo-ci' }, env);

    // 90 min old, but the hold lapsed at 08:40: 20 min overdue.
    expect(await gauges({})).toMatchObject({ oldestPendingAgeSeconds: 5400, overduePendingAgeSeconds: 1200 });
    expect(published.mock.calls.map(([name, , value]) => [name, value])).toEqual(expect.arrayContaining([['OldestPendingAgeSeconds', 5400], ['OverduePendingAgeSeconds', 1200]]));
  });
});
