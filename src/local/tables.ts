import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resourcesOfType, TemplateError } from './template.js';
import type { CfnTemplate } from './template.js';

export interface TableDefinition {
  readonly logicalId: string;
  readonly input: CreateTableCommandInput;
}

/**
 * The template's tables as CreateTable calls: keys, attributes and indexes as deployed; encryption, PITR and
 * deletion protection are AWS-side settings with no local meaning.
 */
export function tableDefinitions(template: CfnTemplate): TableDefinition[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table').map(([logicalId, resource]) => {
    const properties = resource.Properties ?? {};
    const name = properties.TableName;
    if (typeof name !== 'string') throw new TemplateError(`table ${logicalId} needs a literal TableName for the local stack`);
    const indexes = properties.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'];
    return {
      logicalId,
      input: {
        TableName: name,
        AttributeDefinitions: properties.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
        KeySchema: properties.KeySchema as CreateTableCommandInput['KeySchema'],
        BillingMode: 'PAY_PER_REQUEST',
        ...(indexes ? { GlobalSecondaryIndexes: indexes } : {}),
      },
    };
  });
}

/** Creates each table unless it exists (a restarted local stack keeps its data). */
export async function ensureTables(client: DynamoDBClient, definitions: readonly TableDefinition[]): Promise<void> {
  for (const { input } of definitions) {
    try {
      await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await client.send(new CreateTableCommand(input));
    }
  }
}
