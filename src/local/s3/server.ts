import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { authenticate } from './auth.js';
import type { Credentials } from './auth.js';
import { BlobStore } from './blobs.js';
import { BucketOperations } from './buckets.js';
import { Catalog } from './catalog.js';
import type { VersioningStatus } from './catalog.js';
import { internalError, notImplemented, S3Error } from './errors.js';
import { decodePercent } from './keys.js';
import { ObjectOperations } from './objects.js';
import type { ObjectCreated } from './objects.js';
import { headerOf, XML } from './request.js';
import type { Reply, S3Request } from './request.js';
import { escapeXml } from './xml.js';
import { listenOnLoopback } from '../listen.js';

export interface S3ServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Everything the server keeps (object log, blobs) lives here. */
  readonly directory: string;
  /** Created at start when absent; an existing bucket is brought to this versioning status. */
  readonly buckets: readonly { readonly name: string; readonly versioning: VersioningStatus }[];
  readonly credentials: readonly Credentials[];
  readonly region: string;
  /** Called synchronously before a PUT or COPY is answered (the notification journal relies on it). */
  readonly onObjectCreated: (object: ObjectCreated) => void;
}

export interface S3Server {
  readonly endpoint: string;
  readonly stop: () => Promise<void>;
}

/** Sub-resources S3 has and this stand-in does not: answered NotImplemented rather than as something else. */
const UNSUPPORTED = [
  'acl', 'policy', 'policyStatus', 'cors', 'lifecycle', 'tagging', 'encryption', 'notification', 'replication', 'website', 'logging',
  'ownershipControls', 'publicAccessBlock', 'object-lock', 'retention', 'legal-hold', 'torrent', 'restore', 'select', 'attributes',
  'accelerate', 'analytics', 'inventory', 'metrics', 'intelligent-tiering', 'requestPayment', 'uploads', 'uploadId',
];

const methodNotAllowed = (method: string, resource: string): S3Error =>
  new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', { Method: method, ResourceType: resource });

/** Path-style `/<bucket>/<key>`: the key is everything after the bucket's slash, decoded once, kept literal. */
function parseTarget(rawUrl: string): { bucket: string; key: string; query: URLSearchParams } {
  let url = rawUrl;
  if (!url.startsWith('/')) {
    try {
      const absolute = new URL(url);
      url = `${absolute.pathname}${absolute.search}`;
    } catch {
      throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.", { URI: rawUrl.slice(0, 200) });
    }
  }
  const question = url.indexOf('?');
  const path = question < 0 ? url : url.slice(0, question);
  const query = new URLSearchParams(question < 0 ? '' : url.slice(question + 1));
  const slash = path.indexOf('/', 1);
  const rawBucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const rawKey = slash < 0 ? '' : path.slice(slash + 1);
  const decode = (raw: string): string => {
    try {
      return decodePercent(raw, 'the request path');
    } catch {
      throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.", { URI: rawUrl.slice(0, 200) });
    }
  };
  return { bucket: decode(rawBucket), key: decode(rawKey), query };
}

class Router {
  constructor(
    private readonly buckets: BucketOperations,
    private readonly objects: ObjectOperations,
  ) {}

  async route(request: S3Request): Promise<Reply> {
    const { method, query } = request;
    const unsupported = UNSUPPORTED.find((name) => query.has(name));
    if (request.bucket === '') {
      if (method === 'GET') return this.buckets.listBuckets();
      throw methodNotAllowed(method, 'SERVICE');
    }
    if (request.key === '') {
      if (unsupported) throw notImplemented(`?${unsupported}`);
      switch (method) {
        case 'GET':
          if (query.has('versioning')) return this.buckets.versioning(request);
          if (query.has('location')) return this.buckets.location(request);
          return this.buckets.list(request);
        case 'HEAD':
          return this.buckets.head(request);
        case 'PUT':
          return query.has('versioning') ? this.buckets.putVersioning(request) : this.buckets.create(request);
        case 'DELETE':
          return this.buckets.remove(request);
        case 'POST':
          if (query.has('delete')) return this.objects.deleteMany(request);
          throw methodNotAllowed(method, 'BUCKET');
        default:
          throw methodNotAllowed(method, 'BUCKET');
      }
    }
    if (unsupported) throw notImplemented(`?${unsupported}`);
    switch (method) {
      case 'GET':
        return this.objects.read(request, true);
      case 'HEAD':
        return this.objects.read(request, false);
      case 'PUT': {
        const copySource = headerOf(request, 'x-amz-copy-source');
        return copySource === undefined ? this.objects.put(request) : this.objects.copy(request, copySource);
      }
      case 'DELETE':
        return this.objects.delete(request);
      default:
        throw methodNotAllowed(method, 'OBJECT');
    }
  }
}

function errorReply(error: S3Error, resource: string, requestId: string, withBody: boolean): Reply {
  const details = Object.entries(error.details)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>${details}` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>local</HostId></Error>`;
  return { status: error.status, headers: { ...error.headers, ...(withBody ? XML : {}) }, ...(withBody ? { body } : {}) };
}

async function send(response: ServerResponse, reply: Reply, requestId: string): Promise<void> {
  response.statusCode = reply.status;
  response.setHeader('x-amz-request-id', requestId);
  response.setHeader('x-amz-id-2', requestId);
  response.setHeader('server', 'pneumo-local-s3');
  for (const [name, value] of Object.entries(reply.headers ?? {})) response.setHeader(name, value);
  const body = reply.body;
  if (body === undefined) {
    if (!response.hasHeader('content-length') && reply.status !== 204 && reply.status !== 304) response.setHeader('content-length', '0');
    response.end();
    return;
  }
  if (typeof body === 'string') {
    response.setHeader('content-length', Buffer.byteLength(body));
    response.end(body);
    return;
  }
  try {
    await pipeline(body, response);
  } catch {
    // The client went away mid-body, or the file could not be read: nothing left to answer on this socket.
    response.destroy();
  }
}

/** The client closed the connection mid-request: nothing to report, nobody to answer. */
function clientWentAway(error: unknown): boolean {
  return error instanceof Error && ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || error.message === 'aborted');
}

/**
 * A focused S3 on loopback for the local stack: path-style, versioned buckets, literal keys, listings of any
 * size. Every request is answered: a failure is an S3 error document, never a crash.
 */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const blobs = new BlobStore(options.directory);
  await blobs.open();
  const { catalog, cutShort, referenced } = Catalog.open(options.directory);
  for (const { bucket, key } of cutShort) {
    process.emitWarning(`removed s3://${bucket}/${key}, an upload cut short by a stopped process; it was never acknowledged`);
  }
  for (const blob of await blobs.list()) if (!referenced.has(blob)) await blobs.remove(blob);
  for (const { name, versioning } of options.buckets) {
    const existing = catalog.bucket(name);
    if (!existing) await catalog.createBucket(name, versioning);
    else if (existing.versioning !== versioning && versioning !== 'Unversioned') await catalog.setVersioning(name, versioning);
  }
  const router = new Router(new BucketOperations(catalog, options.region), new ObjectOperations(catalog, blobs, options.onObjectCreated));

  const handle = async (incoming: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const method = incoming.method ?? 'GET';
    const rawUrl = incoming.url ?? '/';
    let reply: Reply;
    try {
      const target = parseTarget(rawUrl);
      authenticate(incoming.headers, target.query, options.credentials);
      reply = await router.route({ method, ...target, headers: incoming.headers, body: incoming });
    } catch (error) {
      const s3Error = error instanceof S3Error ? error : internalError();
      if (!(error instanceof S3Error) && !clientWentAway(error)) process.emitWarning(`local S3: ${method} ${rawUrl.slice(0, 200)} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      reply = errorReply(s3Error, rawUrl.split('?')[0] ?? '/', requestId, method !== 'HEAD');
      if (incoming.readable) response.setHeader('connection', 'close');
    }
    // What is left of a refused body is read and dropped, so the client gets to read the answer.
    if (incoming.readable) incoming.resume();
    await send(response, reply, requestId);
  };

  const server: Server = createServer((incoming, response) => {
    handle(incoming, response).catch(() => response.destroy());
  });
  // A request Node cannot parse as HTTP still gets an S3 error document, not a bare close.
  server.on('clientError', (_error, socket) => {
    if (!socket.writable) return;
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadRequest</Code><Message>An error occurred when parsing the HTTP request.</Message></Error>';
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  await listenOnLoopback(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
      catalog.close();
    },
  };
}
