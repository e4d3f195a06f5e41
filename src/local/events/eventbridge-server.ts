import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from '../listen.js';
import type { EventLog } from './event-log.js';

/*
 * PutEvents on the awsJson1.1 protocol the SDK speaks (`x-amz-target: AWSEvents.PutEvents`), appending to the
 * event log: what record-outcome puts on the deployed bus lands in the local one. Validated like EventBridge
 * (at most 10 entries, a known bus, Source, DetailType, Detail a JSON object, 256 KB per request); a bad entry
 * fails alone, as a FailedEntry, the others are kept.
 */

const MAX_REQUEST_BYTES = 256 * 1024;

interface Entry {
  readonly EventBusName?: unknown;
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
}

type EntryResult = { readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string };

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

function fault(res: ServerResponse, type: string, message: string): void {
  reply(res, 400, { __type: type, message });
}

function putEntry(log: EventLog, buses: ReadonlySet<string>, entry: Entry): EntryResult {
  const bus = typeof entry.EventBusName === 'string' ? entry.EventBusName.split('/').pop() ?? '' : 'default';
  if (!buses.has(bus)) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
  if (typeof entry.Source !== 'string' || entry.Source === '') return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source is not valid.' };
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return { ErrorCode: 'MalformedDetail', ErrorMessage: 'DetailType is not valid.' };
  let detail: unknown;
  try {
    detail = JSON.parse(typeof entry.Detail === 'string' ? entry.Detail : '');
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  return { EventId: log.append(entry.Source, entry.DetailType, detail).id };
}

async function body(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface LocalEventBridge {
  readonly url: string;
  readonly close: () => Promise<void>;
}

export async function startLocalEventBridge(options: { readonly port: number; readonly log: EventLog; readonly buses: readonly string[] }): Promise<LocalEventBridge> {
  const buses = new Set(options.buses);
  const server = createServer((req, res) => {
    void (async () => {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
        fault(res, 'UnknownOperationException', `the local event bus supports PutEvents only, not ${String(target)}`);
        return;
      }
      const raw = await body(req);
      if (!raw) {
        fault(res, 'ValidationException', `the request is larger than ${MAX_REQUEST_BYTES} bytes`);
        return;
      }
      let request: { Entries?: unknown };
      try {
        request = JSON.parse(raw.toString('utf8')) as { Entries?: unknown };
      } catch {
        fault(res, 'SerializationException', 'the request body is not JSON');
        return;
      }
      const entries = request.Entries;
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
        fault(res, 'ValidationException', 'Entries must hold 1 to 10 entries');
        return;
      }
      const results = entries.map((entry) => putEntry(options.log, buses, typeof entry === 'object' && entry !== null ? (entry as Entry) : {}));
      reply(res, 200, { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results });
    })();
  });
  await listenOnLoopback(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
