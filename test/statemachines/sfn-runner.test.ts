import { InternalServerError, RekognitionClient, ThrottlingException } from '@aws-sdk/client-rekognition';
import { describe, expect, it } from 'vitest';
import { localTaskHandlers, sdkErrorName, substituteDefinition } from '../../src/local/sfn-runner.js';

const rekognition = new RekognitionClient({ region: 'eu-west-1' });

describe('substituteDefinition', () => {
  it('fills ${Name} tokens and refuses a definition with a token left over', () => {
    expect(substituteDefinition('{"StartAt":"${First}","States":{}}', { First: 'A' })).toEqual({ StartAt: 'A', States: {} });
    expect(() => substituteDefinition('{"a":"${One}","b":"${Two}"}', { One: 'x' })).toThrow('no substitution for ${Two}');
  });
});

describe('sdkErrorName', () => {
  it('names SDK errors the way Step Functions does, Exception suffix included', () => {
    expect(sdkErrorName('Rekognition', new ThrottlingException({ message: 'slow', $metadata: {} }))).toBe('Rekognition.ThrottlingException');
    expect(sdkErrorName('Rekognition', new InternalServerError({ message: 'oops', $metadata: {} }))).toBe('Rekognition.InternalServerErrorException');
    expect(sdkErrorName('Rekognition', new Error('not from the SDK'))).toBeUndefined();
  });
});

describe('localTaskHandlers', () => {
  it('refuses, before any run, a Task resource nothing serves', () => {
    const task = (Resource: string): Parameters<typeof localTaskHandlers>[0] => ({ StartAt: 'T', States: { T: { Type: 'Task', Resource, End: true } } });
    expect(() => localTaskHandlers(task('arn:aws:states:::aws-sdk:rekognition:deleteProject'), { rekognition, functions: {} })).toThrow('not an integration the local runner supports');
    expect(() => localTaskHandlers(task('arn:aws:lambda:eu-west-1:123456789012:function:f'), { rekognition, functions: {} })).toThrow('no local function');
    expect(() => localTaskHandlers(task('arn:aws:states:::sqs:sendMessage'), { rekognition, functions: {} })).toThrow('cannot serve');
  });

  it('reports a Lambda error as its name, with the JSON cause Lambda gives', async () => {
    const definition = { StartAt: 'T', States: { T: { Type: 'Task' as const, Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:f', End: true as const } } };
    const failing = (): Promise<unknown> => Promise.reject(Object.assign(new Error('too few'), { name: 'DatasetError' }));
    const handler = localTaskHandlers(definition, { rekognition, functions: { 'arn:aws:lambda:eu-west-1:123456789012:function:f': failing } }).T;
    await expect(handler?.({})).rejects.toMatchObject({ name: 'DatasetError', message: JSON.stringify({ errorType: 'DatasetError', errorMessage: 'too few' }) });
  });
});
