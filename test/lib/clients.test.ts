import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DetectCustomLabelsCommand } from '@aws-sdk/client-rekognition';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/*
 * The deployed clients against a loopback server that throttles (S3: 503 Slow Down) or fails with a 5xx a set number
 * of times before it answers: what the SDK really does with them, not only the configured number. (The SDK backs
 * off between attempts with jitter, from 100 ms after a 5xx and 500 ms after throttling.)
 */

type Reply = (res: ServerResponse) => void;
const json = (status: number, body: unknown): Reply => (res) => {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
};
const unavailable: Reply = (res) => res.writeHead(503, { 'x-amz-request-id': 'local' }).end();
const SERVICES = {
  rekognition: {
    throttle: json(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }),
    fail: json(500, { __type: 'InternalServerError', message: 'oops' }),
    answer: json(200, { CustomLabels: [] }),
  },
  dynamodb: {
    throttle: json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' }),
    fail: json(500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'oops' }),
    answer: json(200, {}),
  },
  s3: {
    throttle: unavailable,
    fail: unavailable,
    answer: ((res) => res.writeHead(200, { 'content-length': '3', etag: '"x"' }).end()) as Reply,
  },
};
type Service = keyof typeof SERVICES;

const refusals: Record<Service, number> = { rekognition: 0, dynamodb: 0, s3: 0 };
let refusal: 'throttle' | 'fail' = 'throttle';
const requests: Record<Service, number> = { rekognition: 0, dynamodb: 0, s3: 0 };
let server: ReturnType<typeof createServer>;

function serviceOf(req: IncomingMessage): Service {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target.startsWith('RekognitionService.')) return 'rekognition';
  if (target.startsWith('DynamoDB_')) return 'dynamodb';
  return 's3';
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume().on('end', () => {
      const service = serviceOf(req);
      requests[service] += 1;
      if (refusals[service] > 0) {
        refusals[service] -= 1;
        SERVICES[service][refusal](res);
      } else SERVICES[service].answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Read when the composition module builds the runtime (a fresh module registry per test file).
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_ENDPOINT_URL_REKOGNITION', endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_S3', endpoint);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
});

async function call(service: Service): Promise<{ attempts: number | undefined }> {
  const { deployedRuntime } = await import('../../src/lib/composition.js');
  const { documents, rekognition, s3 } = deployedRuntime();
  const output =
    service === 'rekognition'
      ? await rekognition.send(new DetectCustomLabelsCommand({ ProjectVersionArn: 'arn:aws:rekognition:eu-west-1:123456789012:project/p/version/v/1', Image: { Bytes: new Uint8Array([1]) } }))
      : service === 'dynamodb'
        ? await documents.send(new GetCommand({ TableName: 'results', Key: { imageKey: 'inbox/a.jpeg' } }))
        : await s3.send(new HeadObjectCommand({ Bucket: 'bucket', Key: 'inbox/a.jpeg' }));
  return { attempts: output.$metadata.attempts };
}

describe('SDK clients', () => {
  const services = ['rekognition', 'dynamodb', 's3'] as const;
  const refuse = (service: Service, how: 'throttle' | 'fail', times: number): void => {
    refusal = how;
    refusals[service] = times;
    requests[service] = 0;
  };

  it.each(services)('%s: a throttled call is retried (throttled twice, answered on the third attempt)', async (service) => {
    refuse(service, 'throttle', 2);
    expect(await call(service)).toEqual({ attempts: 3 });
    expect(requests[service]).toBe(3);
  });

  it.each(services)('%s: a 5xx four times is answered on the fifth attempt (the default gives up after three)', async (service) => {
    refuse(service, 'fail', 4);
    expect(await call(service)).toEqual({ attempts: 5 });
    expect(requests[service]).toBe(5);
  });

  it.each(services)("%s: a fifth 5xx is the caller's (five attempts, then the error)", async (service) => {
    refuse(service, 'fail', 5);
    await expect(call(service)).rejects.toMatchObject({ $metadata: { attempts: 5 } });
    expect(requests[service]).toBe(5);
    refusals[service] = 0;
  });
});
