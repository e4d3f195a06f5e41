import { describe, expect, it } from 'vitest';
import { resolveIntrinsics, TemplateError } from '../../src/local/template.js';

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
