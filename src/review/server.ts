import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import { ReviewRequestError } from './errors.js';
import type { PageAssets } from './page-assets.js';
import type { ReviewService } from './service.js';
import { decisionSchema, describeIssues, imageQuerySchema, trainingAllSchema, trainingSchema, undoSchema, worklistQuerySchema } from './schemas.js';

/*
 * The review page's server: loopback only, one person. The URL printed at start carries a one-time secret; the
 * first request with it gets a session cookie (HttpOnly, SameSite=Strict) and a redirect that drops the secret
 * from the address bar; every other request needs that cookie. The Host header must name this loopback address
 * (a DNS-rebinding page on another name is refused), state-changing requests must be same-origin JSON, and every
 * response forbids caching and carries a CSP that allows nothing but this origin's own script, style and images.
 */

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const SESSION_COOKIE = 'pneumo_review';
const BODY_MAX = 16 * 1024;

export interface ReviewServerOptions {
  readonly service: ReviewService;
  readonly assets: PageAssets;
  readonly port?: number;
  /** Where server-side failures are reported: messages only, never keys, rows or image bytes. */
  readonly log: (line: string) => void;
  /** Facts the page shows in its header (target, threshold, labels). */
  readonly session: Readonly<Record<string, unknown>>;
}

export interface ReviewServer {
  /** The address with the one-time secret: open it once. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer, extra: Readonly<Record<string, string>> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extra });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ReviewRequestError(400, 'bad-request', describeIssues(parsed.error));
  return parsed.data;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json(;|$)/.test(type)) throw new ReviewRequestError(415, 'bad-content-type', 'send JSON (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_MAX) throw new ReviewRequestError(413, 'too-large', `request body over ${BODY_MAX} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw new ReviewRequestError(400, 'bad-json', 'request body is not JSON', {}, { cause: error });
  }
}

function queryObject(url: URL): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (name in result) throw new ReviewRequestError(400, 'bad-request', `${name}: given more than once`);
    result[name] = value;
  }
  return result;
}

export async function startReviewServer(options: ReviewServerOptions): Promise<ReviewServer> {
  const { service, assets, log } = options;
  const secret = randomBytes(32).toString('base64url');
  let secretUsed = false;
  const sessions = new Set<string>();
  let allowedHosts: ReadonlySet<string> = new Set();
  let origins: ReadonlySet<string> = new Set();

  const authenticated = (request: IncomingMessage): boolean => {
    const session = cookieValue(request, SESSION_COOKIE);
    return session !== undefined && [...sessions].some((known) => sameSecret(session, known));
  };

  const routes = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const method = request.method ?? 'GET';
    const route = `${method} ${url.pathname}`;

    if (route === 'GET /' && url.searchParams.has('token')) {
      const token = url.searchParams.get('token') ?? '';
      if (secretUsed || !sameSecret(token, secret)) {
        throw new ReviewRequestError(403, 'bad-token', 'this link was already used or is not valid; start `pneumo review` again for a new one');
      }
      secretUsed = true;
      const session = randomBytes(32).toString('base64url');
      sessions.add(session);
      send(response, 303, 'text/plain; charset=utf-8', 'signed in', {
        Location: '/',
        'Set-Cookie': `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
      });
      return;
    }
    if (!authenticated(request)) throw new ReviewRequestError(401, 'unauthenticated', 'open the link `pneumo review` printed (it signs this browser in once)');
    if (method !== 'GET' && method !== 'HEAD') {
      const origin = request.headers.origin;
      if (origin !== undefined && !origins.has(origin)) throw new ReviewRequestError(403, 'bad-origin', 'cross-origin requests are refused');
    }

    switch (route) {
      case 'GET /':
        send(response, 200, 'text/html; charset=utf-8', assets.html);
        return;
      case 'GET /app.js':
        send(response, 200, 'text/javascript; charset=utf-8', assets.script);
        return;
      case 'GET /favicon.ico':
        response.writeHead(204, SECURITY_HEADERS);
        response.end();
        return;
      case 'GET /app.css':
        send(response, 200, 'text/css; charset=utf-8', assets.style);
        return;
      case 'GET /api/session':
        sendJson(response, 200, { ...options.session, reviewer: service.reviewer, labels: await service.labelChoices() });
        return;
      case 'GET /api/worklist':
        sendJson(response, 200, await service.worklist(parse(worklistQuerySchema, queryObject(url))));
        return;
      case 'GET /api/model':
        sendJson(response, 200, await service.model());
        return;
      case 'GET /api/image': {
        const { key } = parse(imageQuerySchema, queryObject(url));
        const image = await service.image(key);
        response.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': image.contentType,
          'Content-Disposition': 'inline',
          ...(image.length !== undefined ? { 'Content-Length': String(image.length) } : {}),
        });
        await pipeline(image.body, response);
        return;
      }
      case 'POST /api/decisions':
        sendJson(response, 200, { item: await service.decide(parse(decisionSchema, await readJson(request))) });
        return;
      case 'POST /api/undo':
        sendJson(response, 200, { item: await service.undo(parse(undoSchema, await readJson(request))) });
        return;
      case 'POST /api/training':
        sendJson(response, 200, { item: await service.addToTraining(parse(trainingSchema, await readJson(request)).imageKey) });
        return;
      case 'POST /api/training/all': {
        const body = parse(trainingAllSchema, await readJson(request));
        sendJson(response, 200, await service.addAllToTraining(body.filter, body.cursor));
        return;
      }
      default:
        throw new ReviewRequestError(404, 'no-route', `no ${method} ${url.pathname} here`);
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      // DNS rebinding: a foreign name resolved to 127.0.0.1 still says its own name in Host.
      if (!allowedHosts.has(request.headers.host ?? '')) throw new ReviewRequestError(421, 'bad-host', 'this server answers only on its loopback address');
      await routes(request, response, new URL(request.url ?? '/', 'http://127.0.0.1'));
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof ReviewRequestError) {
        sendJson(response, error.status, { error: error.code, message: error.message, ...error.details });
        return;
      }
      log(`review server: ${request.method ?? 'GET'} ${new URL(request.url ?? '/', 'http://127.0.0.1').pathname} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      sendJson(response, 500, { error: 'internal', message: error instanceof Error && error.name !== 'Error' ? `the server failed (${error.name}); try again` : 'the server failed; try again' });
    }
  };

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${secret}`,
    origin,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
