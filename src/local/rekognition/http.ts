import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod/mini';
import { parseWith } from '../../lib/schema.js';
import { ApiError, internalError, invalidParameter } from './errors.js';
import type { Faults } from './faults.js';
import * as requests from './schemas.js';
import type { CustomLabelsService, HoldHook } from './service.js';

/*
 * The service's wire protocol, awsJson1.1: `POST /` with `X-Amz-Target: RekognitionService.<Operation>` and a JSON
 * body of PascalCase fields; the answer is the response as JSON (timestamps as epoch seconds), or an error
 * document `{"__type": …, "message": …}` whose `__type` the SDK turns into its exception class. Under
 * `/__emulator/` sit the emulator's own routes: health and the fault switches.
 */

const TARGET_PREFIX = 'RekognitionService.';
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** Parses the body against the operation's schema and calls its service method. */
type Operation = (service: CustomLabelsService, body: Record<string, unknown>) => unknown;

function operation<S extends z.ZodMiniType>(schema: S, invoke: (service: CustomLabelsService, request: z.output<S>) => unknown): Operation {
  return (service, body) => invoke(service, parseWith(schema, body, invalidParameter));
}

const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateProject: operation(requests.CreateProjectRequest, (s, r) => s.createProject(r)),
  DescribeProjects: operation(requests.DescribeProjectsRequest, (s, r) => s.describeProjects(r)),
  CreateProjectVersion: operation(requests.CreateProjectVersionRequest, (s, r) => s.createProjectVersion(r)),
  DescribeProjectVersions: operation(requests.DescribeProjectVersionsRequest, (s, r) => s.describeProjectVersions(r)),
  StartProjectVersion: operation(requests.StartProjectVersionRequest, (s, r) => s.startProjectVersion(r)),
  StopProjectVersion: operation(requests.StopProjectVersionRequest, (s, r) => s.stopProjectVersion(r)),
  DeleteProjectVersion: operation(requests.DeleteProjectVersionRequest, (s, r) => s.deleteProjectVersion(r)),
  DetectCustomLabels: operation(requests.DetectCustomLabelsRequest, (s, r) => s.detectCustomLabels(r)),
};

const FAULT = { error: (): string => 'a fault needs operation (a string), count (a whole number ≥ 0) and optionally error (a string)' };
const FaultRequest = z.object({ operation: z.string(FAULT), count: z.int(FAULT).check(z.gte(0, FAULT)), error: z.optional(z.string(FAULT)) }, FAULT);

/** awsJson reads a member that is null as absent. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, member]) => (member === null ? [] : [[key, withoutNulls(member)]])));
}

/** The response as the wire carries it: a timestamp is epoch seconds (fractional), as the service writes them. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, toWire(member)]));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) throw new ApiError('ImageTooLargeException', 'Request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as a JSON object (an empty body is `{}`), nulls read as absent. */
async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError('SerializationException', 'Request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('SerializationException', 'Request body must be a JSON object');
  return withoutNulls(body) as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(toWire(payload));
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
  res.end(text);
}

function sendError(res: ServerResponse, error: ApiError): void {
  res.setHeader('x-amzn-errortype', error.type);
  send(res, error.status, { __type: error.type, message: error.message, Message: error.message });
}

export interface HttpOptions {
  readonly service: CustomLabelsService;
  readonly faults: Faults;
  readonly log: (line: string) => void;
  /** TESTS ONLY. */
  readonly hold?: HoldHook;
}

/** The request listener: routes, parses, checks, calls the service, and writes its answer or its error. */
export function awsJsonHandler(options: HttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { service, faults, log } = options;

  const admin = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/__emulator/health') {
      send(res, 200, { ok: true });
      return;
    }
    if (path !== '/__emulator/faults') {
      send(res, 404, { __type: 'NotFound', message: path });
      return;
    }
    if (req.method === 'POST') faults.inject(parseWith(FaultRequest, await readJsonObject(req), invalidParameter));
    else if (req.method === 'DELETE') faults.clear();
    send(res, 200, { faults: faults.list() });
  };

  const call = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.method !== 'POST' || path !== '/') throw new ApiError('UnknownOperationException', `${req.method ?? ''} ${path} is not an operation`, 404);
    const target = String(req.headers['x-amz-target'] ?? '');
    const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const op = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined; // not `toString` & co.
    if (!op) throw new ApiError('UnknownOperationException', `Unknown operation ${target}`);
    const body = await readJsonObject(req);
    const fault = faults.take(name);
    if (fault) throw fault;
    await options.hold?.({ at: 'call', operation: name });
    send(res, 200, await op(service, body));
  };

  return async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path.startsWith('/__emulator/')) await admin(req, res, path);
      else await call(req, res, path);
    } catch (error) {
      if (error instanceof ApiError) {
        sendError(res, error);
        return;
      }
      log(`rekognition: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendError(res, internalError('Amazon Rekognition experienced a service issue. Try your call again.', error));
    }
  };
}

export interface Listening {
  readonly server: Server;
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, port: number, host: string): Promise<Listening> {
  const server = createServer((req, res) => {
    void handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
