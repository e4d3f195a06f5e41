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

  it('bounds every loop: each Wait is followed by its poll, and every way back to it counts and checks the count', () => {
    const byName = new Map<string, unknown>(states);
    const field = (state: unknown, key: string): unknown => (state as Record<string, unknown> | undefined)?.[key];
    const list = (state: unknown, key: string): Record<string, unknown>[] => (field(state, key) as Record<string, unknown>[] | undefined) ?? [];
    const successors = (state: unknown): string[] =>
      [field(state, 'Next'), field(state, 'Default'), ...list(state, 'Choices').map((c) => c.Next), ...list(state, 'Catch').map((c) => c.Next)].filter(
        (next): next is string => typeof next === 'string',
      );
    // The path a Pass state's MathAdd counter writes, e.g. `$.polls.count`.
    const counted = (state: unknown): string | undefined => {
      if (field(state, 'Type') !== 'Pass') return undefined;
      const entry = Object.entries((field(state, 'Parameters') as Record<string, unknown> | undefined) ?? {}).find(([, value]) => String(value).startsWith('States.MathAdd('));
      return entry ? `${String(field(state, 'ResultPath'))}.${entry[0].replace(/\.\$$/, '')}` : undefined;
    };
    const bounds = (state: unknown, variable: string): boolean =>
      field(state, 'Type') === 'Choice' &&
      list(state, 'Choices').some((choice) => choice.Variable === variable && Object.keys(choice).some((key) => key.startsWith('NumericGreaterThan')));
    const waits = states.filter(([, state]) => state.Type === 'Wait');
    for (const [waitName, wait] of waits) {
      const pollName = String(field(wait, 'Next'));
      expect(field(byName.get(pollName), 'Type'), `${waitName} is followed by a Task that polls`).toBe('Task');
      // Every way from the Wait back to itself, without repeating a state.
      const cycles: string[][] = [];
      const walk = (name: string, path: readonly string[]): void => {
        if (name === waitName) {
          cycles.push([...path]);
          return;
        }
        if (path.includes(name) || !byName.has(name)) return;
        for (const next of successors(byName.get(name))) walk(next, [...path, name]);
      };
      walk(pollName, []);
      expect(cycles.length, `${waitName} is in a loop`).toBeGreaterThan(0);
      // The poll's result goes straight to its counter.
      const counter = counted(byName.get(String(field(byName.get(pollName), 'Next'))));
      expect(counter, `${pollName} is followed by a MathAdd counter`).toBeDefined();
      for (const cycle of cycles) expect(cycle.map((name) => counted(byName.get(name))), `${cycle.join(' → ')} counts its poll`).toContain(counter);
      // The loop can end on that count (a state taken once, such as the start itself, may skip the check).
      expect(
        cycles.some((cycle) => cycle.some((name) => bounds(byName.get(name), counter ?? ''))),
        `a way back to ${waitName} checks ${counter ?? 'the count'} against a bound`,
      ).toBe(true);
    }
  });
});
