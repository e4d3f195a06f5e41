import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTemplate, resolveIntrinsics, TemplateError } from '../../src/local/template.js';

const names = { ResultsTable: 'results-local', 'Queue.Arn': 'arn:aws:sqs:local:000000000000:dlq', 'AWS::Region': 'eu-west-1' };

describe('resolveIntrinsics', () => {
  it('resolves Ref, GetAtt, Sub and Join deep inside properties', () => {
    const value = {
      Variables: {
        RESULTS_TABLE: { Ref: 'ResultsTable' },
        DLQ: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        DLQ2: { 'Fn::GetAtt': 'Queue.Arn' },
        WHERE: { 'Fn::Sub': 'region ${AWS::Region} table ${ResultsTable}' },
        LIST: { 'Fn::Join': [',', ['a', { Ref: 'ResultsTable' }]] },
        PLAIN: ['x', 1],
      },
    };
    expect(resolveIntrinsics(value, names)).toEqual({
      Variables: {
        RESULTS_TABLE: 'results-local',
        DLQ: 'arn:aws:sqs:local:000000000000:dlq',
        DLQ2: 'arn:aws:sqs:local:000000000000:dlq',
        WHERE: 'region eu-west-1 table results-local',
        LIST: 'a,results-local',
        PLAIN: ['x', 1],
      },
    });
  });

  it('names what it cannot resolve', () => {
    expect(() => resolveIntrinsics({ Ref: 'Nope' }, names)).toThrow(new TemplateError('the local stack cannot resolve "Nope" from the template'));
  });
});

describe('readTemplate', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pneumo-template-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function read(template: unknown): Promise<unknown> {
    const file = join(dir, 'template.json');
    await writeFile(file, JSON.stringify(template));
    return readTemplate(file);
  }

  it('keeps every field of a template, including the ones it does not check', async () => {
    const template = {
      AWSTemplateFormatVersion: '2010-09-09',
      Resources: { Table: { Type: 'AWS::DynamoDB::Table', Condition: 'IsProd', Properties: { TableName: 't' } } },
      Outputs: { ProjectName: { Value: 'pneumo', Export: { Name: 'x' } } },
    };
    await expect(read(template)).resolves.toEqual(template);
  });

  it.each([
    [{}, 'has no Resources'],
    [{ Resources: [] }, 'has no Resources'],
    [[], 'has no Resources'],
    [{ Resources: { Table: {} } }, ': resource Table has no Type'],
    [{ Resources: { Table: 'x' } }, ': resource Table is not an object'],
    [{ Resources: { Table: { Type: 'AWS::DynamoDB::Table', Properties: [] } } }, ': resource Table has Properties that are not an object'],
    [{ Resources: {}, Outputs: { ProjectName: 'pneumo' } }, ': output ProjectName is not an object'],
  ])('names what is wrong in %j', async (template, problem) => {
    await expect(read(template)).rejects.toThrow(new TemplateError(`${join(dir, 'template.json')}${problem.startsWith(':') ? '' : ' '}${problem}`));
  });
});
