import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { allStates } from '../../src/local/sfn-runner.js';
import { definitionText, loadDefinition, STATE_MACHINES, SUBSTITUTIONS, tokensOf } from '../fixtures/statemachines.js';

interface ValidationResult {
  readonly isValid: boolean;
  readonly errors: readonly unknown[];
}

// asl-validator is CommonJS with no types; it also writes into the object it checks, so each call gets a copy.
const validate = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => ValidationResult;

const RETRYABLE_REKOGNITION = [
  'Rekognition.ThrottlingException',
  'Rekognition.ProvisionedThroughputExceededException',
  'Rekognition.InternalServerErrorException',
];

describe.each(STATE_MACHINES)('%s.asl.json', (name) => {
  const definition = loadDefinition(name);
  const states = allStates(definition);

  it('passes asl-validator once CloudFormation has filled its tokens', () => {
    const result = validate(structuredClone(definition));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('names no account, region or ARN of its own: every one is a ${Name} token', () => {
    const text = definitionText(name);
    expect(text).not.toMatch(/arn:aws:(lambda|states:[a-z]|rekognition|dynamodb|s3)/);
    expect(text).not.toMatch(/\d{12}/);
    for (const token of tokensOf(name)) expect(Object.keys(SUBSTITUTIONS)).toContain(token);
  });

  it('uses JSONPath only (no JSONata, no variables)', () => {
    const text = definitionText(name);
    expect(text).not.toMatch(/QueryLanguage|"Assign"|"Arguments"|"Output"\s*:|\{%/);
  });

  it('has PascalCase state names', () => {
    for (const [stateName] of states) expect(stateName).toMatch(/^[A-Z][A-Za-z0-9]+$/);
  });

  it('gives every Task a Retry and a Catch', () => {
    const tasks = states.filter(([, state]) => state.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [stateName, state] of tasks) {
      expect(state, stateName).toHaveProperty('Retry');
      expect(state, stateName).toHaveProperty('Catch');
      expect(JSON.stringify(state), stateName).toContain('States.ALL');
    }
  });

  it('retries throttling and 5xx on every Rekognition Task, with backoff and full jitter', () => {
    const rekognitionTasks = states.filter(([, state]) => state.Type === 'Task' && state.Resource.includes(':aws-sdk:rekognition:'));
    for (const [stateName, state] of rekognitionTasks) {
      const retriers = state.Type === 'Task' ? (state.Retry ?? []) : [];
      const retrier = retriers.find((candidate) => RETRYABLE_REKOGNITION.every((error) => candidate.ErrorEquals.includes(error)));
      expect(retrier, stateName).toMatchObject({ BackoffRate: 2, JitterStrategy: 'FULL' });
    }
  });

  it('bounds every loop: each Wait is followed by a counted poll', () => {
    const waits = states.filter(([, state]) => state.Type === 'Wait');
    const counters = states.filter(([, state]) => state.Type === 'Pass' && JSON.stringify(state).includes('States.MathAdd'));
    expect(counters.length).toBeGreaterThanOrEqual(waits.length);
  });
});
