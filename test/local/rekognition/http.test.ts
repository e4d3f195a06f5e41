import {
  CreateProjectCommand,
  CreateProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  DetectCustomLabelsCommand,
  InvalidParameterException,
  ResourceInUseException,
  ResourceNotFoundException,
  StartProjectVersionCommand,
  StopProjectVersionCommand,
} from '@aws-sdk/client-rekognition';
import type * as sdk from '@aws-sdk/client-rekognition';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type * as schemas from '../../../src/local/rekognition/schemas.js';
import { BUCKET, startHarness } from './harness.js';
import type { Harness } from './harness.js';

/*
 * The awsJson1.1 layer: request shapes the service's model refuses, through the real @aws-sdk/client-rekognition
 * (which sends what it is given: it does not check ranges or patterns itself), and the wire format itself with
 * plain fetch. No training runs: the one version here fails at once (its manifest does not exist).
 */

let h: Harness;
let projectArn: string;
let failedArn: string;

beforeAll(async () => {
  h = await startHarness();
  projectArn = (await h.rekognition.send(new CreateProjectCommand({ ProjectName: 'wire' }))).ProjectArn ?? '';
  await h.rekognition.send(
    new CreateProjectVersionCommand({
      ProjectArn: projectArn,
      VersionName: 'no-data',
      OutputConfig: { S3Bucket: BUCKET },
      TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: 'absent.manifest' } } }] },
      TestingData: { AutoCreate: true },
    }),
  );
  await h.emulator.idle();
  const described = await h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: ['no-data'] }));
  expect(described.ProjectVersionDescriptions?.[0]?.Status).toBe('TRAINING_FAILED');
  failedArn = described.ProjectVersionDescriptions?.[0]?.ProjectVersionArn ?? '';
});

afterAll(async () => {
  await h.emulator.idle();
  await h.stop();
});

/** The exception `send` rejects with: its class and its message. */
async function rejection(send: Promise<unknown>): Promise<Error> {
  const error = await send.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof Error)) throw new Error('expected the call to be refused');
  return error;
}

const unknownArn = (): string => failedArn.replace('/no-data/', '/absent/');

describe('StartProjectVersion and StopProjectVersion through the SDK', () => {
  it('refuses an unknown version with ResourceNotFoundException', async () => {
    await expect(h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: unknownArn(), MinInferenceUnits: 1 }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(h.rekognition.send(new StopProjectVersionCommand({ ProjectVersionArn: unknownArn() }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses to stop a version that never ran with ResourceInUseException', async () => {
    const error = await rejection(h.rekognition.send(new StopProjectVersionCommand({ ProjectVersionArn: failedArn })));
    expect(error).toBeInstanceOf(ResourceInUseException);
    expect(error.message).toMatch(/TRAINING_FAILED, not running/);
  });

  it.each([
    [{ MinInferenceUnits: 0 }, /MinInferenceUnits must be a whole number of at least 1, got 0/],
    [{ MinInferenceUnits: 1.5 }, /MinInferenceUnits must be a whole number of at least 1, got 1\.5/],
    [{ MinInferenceUnits: 1, MaxInferenceUnits: 0 }, /MaxInferenceUnits must be a whole number of at least 1, got 0/],
    [{ MinInferenceUnits: 3, MaxInferenceUnits: 2 }, /MaxInferenceUnits must be at least MinInferenceUnits \(3\), got 2/],
  ])('refuses inference units %o with InvalidParameterException naming the field', async (units, message) => {
    const error = await rejection(h.rekognition.send(new StartProjectVersionCommand({ ProjectVersionArn: failedArn, ...units })));
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toMatch(message);
  });
});

describe('request constraints of the service model', () => {
  const detect = (input: Partial<sdk.DetectCustomLabelsRequest>): Promise<unknown> =>
    h.rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: failedArn, Image: { S3Object: { Bucket: BUCKET, Name: 'x.jpeg' } }, ...input }));

  it.each<[string, () => Promise<unknown>, RegExp]>([
    ['a version ARN that is not one', () => h.rekognition.send(new StopProjectVersionCommand({ ProjectVersionArn: projectArn })), /ProjectVersionArn must be a Custom Labels model version ARN/],
    ['a project ARN that is not one', () => h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: 'arn:aws:s3:::bucket' })), /ProjectArn must be a Custom Labels project ARN/],
    ['MinConfidence below 0', () => detect({ MinConfidence: -1 }), /MinConfidence must be a number from 0 to 100, got -1/],
    ['a negative MaxResults', () => detect({ MaxResults: -1 }), /MaxResults must be a whole number of at least 0, got -1/],
    ['a fractional MaxResults', () => detect({ MaxResults: 1.5 }), /MaxResults must be a whole number/],
    ['an image given twice', () => detect({ Image: { Bytes: new Uint8Array([1]), S3Object: { Bucket: BUCKET, Name: 'x.jpeg' } } }), /exactly one of Bytes or S3Object/],
    ['empty image bytes', () => detect({ Image: { Bytes: new Uint8Array(0) } }), /Image\.Bytes must not be empty/],
    ['a bucket name too short', () => detect({ Image: { S3Object: { Bucket: 'ab', Name: 'x.jpeg' } } }), /Image\.S3Object\.Bucket must be an S3 bucket name/],
    ['eleven version names', () => h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: Array.from({ length: 11 }, (_, i) => `v${i}`) })), /VersionNames must be a list of 1 to 10 names/],
    ['a project name too long', () => h.rekognition.send(new CreateProjectCommand({ ProjectName: 'p'.repeat(256) })), /ProjectName must be 1–255/],
    [
      'a version description with characters the service refuses',
      () =>
        h.rekognition.send(
          new CreateProjectVersionCommand({
            ProjectArn: projectArn,
            VersionName: 'described',
            VersionDescription: 'retrained <today>',
            OutputConfig: { S3Bucket: BUCKET },
            TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: 'absent.manifest' } } }] },
            TestingData: { AutoCreate: true },
          }),
        ),
      /VersionDescription must be 1–255 letters/,
    ],
    [
      'a testing dataset with neither AutoCreate nor a manifest',
      () =>
        h.rekognition.send(
          new CreateProjectVersionCommand({
            ProjectArn: projectArn,
            VersionName: 'untested',
            OutputConfig: { S3Bucket: BUCKET },
            TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: 'absent.manifest' } } }] },
            TestingData: {},
          }),
        ),
      /TestingData needs AutoCreate: true or Assets/,
    ],
  ])('refuses %s with InvalidParameterException naming the field', async (_, call, message) => {
    const error = await rejection(call());
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toMatch(message);
  });

  it('creates nothing when it refuses', async () => {
    const versions = await h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn }));
    expect(versions.ProjectVersionDescriptions?.map((v) => v.ProjectVersionArn)).toEqual([failedArn]);
    const projects = await h.rekognition.send(new DescribeProjectsCommand({}));
    expect(projects.ProjectDescriptions).toHaveLength(1);
  });

  it('takes the same request types as the SDK (checked by tsc)', () => {
    expectTypeOf<schemas.CreateProjectRequest>().toExtend<sdk.CreateProjectRequest>();
    expectTypeOf<schemas.DescribeProjectsRequest>().toExtend<sdk.DescribeProjectsRequest>();
    expectTypeOf<schemas.CreateProjectVersionRequest>().toExtend<sdk.CreateProjectVersionRequest>();
    expectTypeOf<schemas.DescribeProjectVersionsRequest>().toExtend<sdk.DescribeProjectVersionsRequest>();
    expectTypeOf<schemas.StartProjectVersionRequest>().toExtend<sdk.StartProjectVersionRequest>();
    expectTypeOf<schemas.StopProjectVersionRequest>().toExtend<sdk.StopProjectVersionRequest>();
    expectTypeOf<schemas.DeleteProjectVersionRequest>().toExtend<sdk.DeleteProjectVersionRequest>();
    expectTypeOf<schemas.DetectCustomLabelsRequest>().toExtend<sdk.DetectCustomLabelsRequest>();
  });
});

describe('the wire', () => {
  const post = (target: string, body: string): Promise<Response> =>
    fetch(h.emulator.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, body });

  it('answers an error document with __type, message and the x-amzn-errortype header', async () => {
    const response = await post('RekognitionService.DeleteProject', '{}');
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException', message: 'Unknown operation RekognitionService.DeleteProject' });
    const inherited = await post('RekognitionService.toString', '{}');
    expect(await inherited.json()).toMatchObject({ __type: 'UnknownOperationException' });
    expect((await fetch(h.emulator.url)).status).toBe(404);
  });

  it.each([
    ['not JSON', '{"ProjectName":', 'Request body is not valid JSON'],
    ['a JSON array', '[]', 'Request body must be a JSON object'],
  ])('refuses a body that is %s with SerializationException', async (_, body, message) => {
    const response = await post('RekognitionService.CreateProject', body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException', message });
  });

  it('reads a null member as absent, and writes timestamps as epoch seconds', async () => {
    const response = await post('RekognitionService.DescribeProjects', JSON.stringify({ ProjectNames: ['wire'], MaxResults: null, NextToken: null }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ProjectDescriptions: { ProjectArn: string; CreationTimestamp: unknown }[] };
    expect(body.ProjectDescriptions.map((p) => p.ProjectArn)).toEqual([projectArn]);
    const created = Number(projectArn.split('/').at(-1));
    expect(body.ProjectDescriptions[0]?.CreationTimestamp).toBe(created / 1000);
  });

  it('validates the fault switches and lists them', async () => {
    const bad = await fetch(`${h.emulator.url}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ operation: 'DetectCustomLabels', count: -1 }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ __type: 'InvalidParameterException', message: expect.stringContaining('count (a whole number ≥ 0)') as unknown });
    const armed = await fetch(`${h.emulator.url}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ operation: 'DescribeProjects', count: 1 }) });
    expect(await armed.json()).toEqual({ faults: [{ operation: 'DescribeProjects', count: 1 }] });
    const cleared = await fetch(`${h.emulator.url}/__emulator/faults`, { method: 'DELETE' });
    expect(await cleared.json()).toEqual({ faults: [] });
    await expect(h.rekognition.send(new DescribeProjectsCommand({}))).resolves.toHaveProperty('ProjectDescriptions');
  });
});
