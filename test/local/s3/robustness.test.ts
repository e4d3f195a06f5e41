import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3 } from '../../../src/local/s3.js';
import type { LocalS3 } from '../../../src/local/s3.js';

/* Requests no SDK would send, straight over HTTP (and TCP): each gets an S3 error document, none stops the server. */

const BUCKET = 'robust';
const AUTH = 'AWS4-HMAC-SHA256 Credential=S3RVER/20261201/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00';
let directory: string;
let server: LocalS3;
let port: number;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pneumo-s3-robust-'));
  server = await startLocalS3({ port: 0, directory, buckets: [BUCKET], onObjectCreated: () => undefined });
  port = Number(new URL(server.endpoint).port);
});
afterAll(async () => {
  await server.stop();
  await rm(directory, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer; auth?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers: { ...(options.auth === false ? {} : { authorization: AUTH }), ...options.headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const codeOf = (answer: Answer): string | undefined => /<Error><Code>([^<]+)<\/Code>/.exec(answer.body)?.[1];

async function stillServing(): Promise<void> {
  const answer = await send('GET', '/');
  expect(answer.status).toBe(200);
  expect(answer.body).toContain(`<Name>${BUCKET}</Name>`);
}

describe('requests no client should send', () => {
  it.each([
    ['anonymous', 'GET', `/${BUCKET}`, { auth: false }, 403, 'AccessDenied'],
    ['an unknown access key', 'GET', `/${BUCKET}`, { headers: { authorization: AUTH.replace('S3RVER', 'SOMEONE') } }, 403, 'InvalidAccessKeyId'],
    ['an unsupported Authorization scheme', 'GET', `/${BUCKET}`, { headers: { authorization: 'Bearer x' } }, 400, 'InvalidArgument'],
    ['a path that is not UTF-8', 'GET', `/${BUCKET}/%E0%A4%A`, {}, 400, 'InvalidURI'],
    ['an unknown method', 'PATCH', `/${BUCKET}/k`, {}, 405, 'MethodNotAllowed'],
    ['POST on an object', 'POST', `/${BUCKET}/k`, {}, 405, 'MethodNotAllowed'],
    ['DeleteObjects with a body that is not XML', 'POST', `/${BUCKET}?delete`, { body: '<Delete><Object>', headers: { 'content-md5': createHash('md5').update('<Delete><Object>').digest('base64') } }, 400, 'MalformedXML'],
    ['DeleteObjects with no digest', 'POST', `/${BUCKET}?delete`, { body: '<Delete><Object><Key>k</Key></Object></Delete>' }, 400, 'InvalidRequest'],
    ['a PUT with a chunked body and no length', 'PUT', `/${BUCKET}/k`, { headers: { 'transfer-encoding': 'chunked' }, body: 'abc' }, 411, 'MissingContentLength'],
    ['an aws-chunked body that is garbage', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '3' }, body: 'zz\r\nabc\r\n' }, 400, 'InvalidRequest'],
    ['an aws-chunked body cut short', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '10' }, body: 'a\r\nabc' }, 400, 'IncompleteBody'],
    ['a malformed Content-MD5', 'PUT', `/${BUCKET}/k`, { headers: { 'content-md5': 'nope' }, body: 'abc' }, 400, 'InvalidDigest'],
    ['a malformed checksum header', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-checksum-crc32': '!!' }, body: 'abc' }, 400, 'InvalidRequest'],
    ['an unknown trailer', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-trailer': 'x-amz-checksum-md4' }, body: 'abc' }, 400, 'InvalidRequest'],
    ['two checksum headers', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-checksum-crc32': 'NhCmhg==', 'x-amz-checksum-sha1': 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=' }, body: 'abc' }, 400, 'InvalidRequest'],
    ['an unknown storage class', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-storage-class': 'CHEAP' }, body: 'abc' }, 400, 'InvalidStorageClass'],
    ['an unknown encryption', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-server-side-encryption': 'rot13' }, body: 'abc' }, 400, 'InvalidArgument'],
    ['SSE-C over plain HTTP', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }, body: 'abc' }, 400, 'InvalidRequest'],
    ['metadata over 2 KB', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-meta-big': 'x'.repeat(2100) }, body: 'abc' }, 400, 'MetadataTooLarge'],
    ['a copy source without a key', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-copy-source': `/${BUCKET}` } }, 400, 'InvalidArgument'],
    ['a copy source that is not UTF-8', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-copy-source': `/${BUCKET}/%FF` } }, 400, 'InvalidArgument'],
    ['a copy from a missing bucket', 'PUT', `/${BUCKET}/k`, { headers: { 'x-amz-copy-source': '/nowhere/k' } }, 404, 'NoSuchBucket'],
    ['max-keys that is not a number', 'GET', `/${BUCKET}?list-type=2&max-keys=lots`, {}, 400, 'InvalidArgument'],
    ['an unknown encoding type', 'GET', `/${BUCKET}?list-type=2&encoding-type=base64`, {}, 400, 'InvalidArgument'],
    ['an unknown list type', 'GET', `/${BUCKET}?list-type=3`, {}, 400, 'InvalidArgument'],
    ['a version-id marker without a key marker', 'GET', `/${BUCKET}?versions&version-id-marker=null`, {}, 400, 'InvalidArgument'],
    ['an empty versionId', 'GET', `/${BUCKET}/k?versionId=`, {}, 400, 'InvalidArgument'],
    ['a sub-resource the local S3 does not have', 'GET', `/${BUCKET}/k?acl`, {}, 501, 'NotImplemented'],
    ['a bucket name S3 refuses', 'PUT', '/Bad_Bucket', {}, 400, 'InvalidBucketName'],
    ['a bucket that exists', 'PUT', `/${BUCKET}`, {}, 409, 'BucketAlreadyOwnedByYou'],
    ['a versioning document with an unknown status', 'PUT', `/${BUCKET}?versioning`, { body: '<VersioningConfiguration><Status>Sometimes</Status></VersioningConfiguration>' }, 400, 'MalformedXML'],
    ['deleting a bucket that holds objects', 'DELETE', `/${BUCKET}`, {}, 409, 'BucketNotEmpty'],
    ['an absolute-form URL that does not parse', 'GET', 'http://[::1', {}, 400, 'InvalidURI'],
  ] as const)('%s (%s %s)', async (_what, method, path, options, status, code) => {
    if (code === 'BucketNotEmpty') expect((await send('PUT', `/${BUCKET}/keep`, { body: 'x' })).status).toBe(200);
    const answer = await send(method, path, options);
    expect([answer.status, codeOf(answer)]).toEqual([status, code]);
    expect(answer.headers['content-type']).toBe('application/xml');
    expect(answer.body).toMatch(/<RequestId>[0-9A-F]+<\/RequestId>/);
    await stillServing();
  });

  it('HEAD errors carry the status without a body, as S3 does', async () => {
    const answer = await send('HEAD', `/${BUCKET}/absent`);
    expect([answer.status, answer.body]).toEqual([404, '']);
  });

  it('bytes that are not HTTP get a 400 error document and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('\u0000\u0001 this is not http\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => {
        resolve(text);
      });
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('<Code>BadRequest</Code>');
    await stillServing();
  });

  it('an upload the client abandons mid-body leaves nothing visible', async () => {
    await new Promise<void>((resolve) => {
      const outgoing = request({ host: '127.0.0.1', port, method: 'PUT', path: `/${BUCKET}/abandoned`, headers: { authorization: AUTH, 'content-length': '1000' } });
      outgoing.on('error', () => {
        resolve();
      });
      outgoing.write('only a part of it', () => {
        setImmediate(() => {
          outgoing.destroy();
          resolve();
        });
      });
    });
    await stillServing();
    const answer = await send('GET', `/${BUCKET}/abandoned`);
    expect([answer.status, codeOf(answer)]).toEqual([404, 'NoSuchKey']);
  });

  it('keys never become paths: the data folder holds only the log and content-named files, whatever the keys', async () => {
    for (const key of ['..%2F..%2Fescape', '../../escape', 'a/./b', 'a//b', `${'s'.repeat(300)}/x`]) {
      expect((await send('PUT', `/${BUCKET}/${key}`, { body: key })).status).toBe(200);
    }
    const tooLong = await send('PUT', `/${BUCKET}/${'k'.repeat(1025)}`, { body: 'x' });
    expect([tooLong.status, codeOf(tooLong)]).toEqual([400, 'KeyTooLongError']);
    const top = readdirSync(directory).sort();
    expect(top).toEqual(['blobs', 'incoming', 'objects.jsonl']);
    const files = readdirSync(join(directory, 'blobs'), { recursive: true }).map(String);
    expect(files.every((file) => /^[0-9a-f]{2}(\/[0-9a-f]{32})?$/.test(file))).toBe(true);
    expect(readdirSync(join(directory, '..')).some((name) => name === 'escape')).toBe(false);
    await stillServing();
  });
});
