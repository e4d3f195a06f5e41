import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, tableDefinitions } from '../../src/local/tables.js';
import { startLocalDynamo } from '../fixtures/dynamodb.js';
import type { LocalDynamo } from '../fixtures/dynamodb.js';
import { miniTemplate } from '../fixtures/template.js';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

describe('tableDefinitions', () => {
  it('keeps keys and indexes and drops AWS-only settings', () => {
    const [definition] = tableDefinitions(miniTemplate());
    expect(definition?.logicalId).toBe('ResultsTable');
    expect(definition?.input).toMatchObject({ TableName: 'pneumo-local-results', BillingMode: 'PAY_PER_REQUEST' });
    expect(definition?.input.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('byStatus');
    expect(definition?.input).not.toHaveProperty('SSESpecification');
  });

  it('refuses a table without a literal name', () => {
    const template = miniTemplate();
    const table = template.Resources.ResultsTable as { Properties: Record<string, unknown> };
    table.Properties.TableName = { 'Fn::Sub': '${AWS::StackName}-results' };
    expect(() => tableDefinitions(template)).toThrow(/ResultsTable needs a literal TableName/);
  });
});

describe('ensureTables', () => {
  it('creates the tables once and keeps their data on a second start', async () => {
    const { client } = dynamo;
    const definitions = tableDefinitions(miniTemplate());
    await ensureTables(client, definitions);
    await dynamo.documents.send(new PutCommand({ TableName: 'pneumo-local-results', Item: { imageKey: 'inbox/a.jpeg' } }));
    await ensureTables(client, definitions);
    const { Item } = await dynamo.documents.send(new GetCommand({ TableName: 'pneumo-local-results', Key: { imageKey: 'inbox/a.jpeg' } }));
    expect(Item).toEqual({ imageKey: 'inbox/a.jpeg' });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'pneumo-local-results' }));
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byStatus']);
  });
});
