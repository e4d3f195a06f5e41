import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resourcesOfType, TemplateError } from '../template.js';
import type { CfnTemplate } from '../template.js';
import type { EventLog } from './event-log.js';

/*
 * The local stand-in for "table stream -> EventBridge Pipe -> bus": each pipe of the template whose source is a
 * table's stream is applied, with its own filter and input template, to every item a successful write leaves in
 * that table. So the local bus carries the events the deployed pipes would, built from the deployed definitions.
 * Differences: one record per successful request (writes to one key in quick succession may both carry the
 * later image), eventName INSERT for every PutItem, and no batching.
 */

export interface StreamPipe {
  readonly name: string;
  readonly tableLogicalId: string;
  readonly filters: readonly unknown[];
  readonly source: string;
  readonly detailType: string;
  readonly inputTemplate: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function streamTable(source: unknown): string | undefined {
  const getAtt = record(source)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && getAtt[1] === 'StreamArn' && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

export function streamPipes(template: CfnTemplate): StreamPipe[] {
  return resourcesOfType(template, 'AWS::Pipes::Pipe').flatMap(([logicalId, resource]): StreamPipe[] => {
    const properties = resource.Properties ?? {};
    const tableLogicalId = streamTable(properties.Source);
    if (!tableLogicalId) return [];
    const target = record(properties.TargetParameters);
    const bus = record(target?.EventBridgeEventBusParameters);
    const inputTemplate = target?.InputTemplate;
    if (typeof bus?.Source !== 'string' || typeof bus.DetailType !== 'string' || typeof inputTemplate !== 'string') {
      throw new TemplateError(`pipe ${logicalId} needs a literal Source, DetailType and InputTemplate for the local stack`);
    }
    const filters = (record(record(properties.SourceParameters)?.FilterCriteria)?.Filters as { Pattern?: unknown }[] | undefined) ?? [];
    return [
      {
        name: typeof properties.Name === 'string' ? properties.Name : logicalId,
        tableLogicalId,
        filters: filters.map(({ Pattern }) => JSON.parse(String(Pattern)) as unknown),
        source: bus.Source,
        detailType: bus.DetailType,
        inputTemplate,
      },
    ];
  });
}

/** The part of EventBridge's pattern language the pipes use: value lists, `exists`, `prefix`, nested objects. */
export function matchesPattern(pattern: unknown, value: unknown): boolean {
  const fields = record(pattern);
  if (!fields) return false;
  return Object.entries(fields).every(([name, expected]) => {
    const actual = record(value)?.[name];
    if (!Array.isArray(expected)) return matchesPattern(expected, actual);
    return expected.some((alternative) => {
      const rule = record(alternative);
      if (!rule) return actual === alternative;
      if ('exists' in rule) return rule.exists === (actual !== undefined);
      if (typeof rule.prefix === 'string') return typeof actual === 'string' && actual.startsWith(rule.prefix);
      return false;
    });
  });
}

function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => record(node)?.[key], value);
}

/** Fills `<$.path>` placeholders as EventBridge does: a quoted one takes the value as a string, a bare one as JSON. */
export function renderInputTemplate(inputTemplate: string, event: unknown): Json {
  const text = inputTemplate.replace(/"<\$\.([^>]+)>"|<\$\.([^>]+)>/g, (_, quoted: string | undefined, bare: string | undefined) => {
    const value = at(event, quoted ?? bare ?? '');
    if (quoted !== undefined) return value === undefined ? 'null' : JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value));
    return JSON.stringify(value ?? null);
  });
  return JSON.parse(text) as Json;
}

export interface StreamRecord {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventSource: 'aws:dynamodb';
  readonly dynamodb: { readonly Keys: Record<string, AttributeValue>; readonly NewImage?: Record<string, AttributeValue> };
}

interface WriteRequest {
  readonly table: string;
  readonly key: Record<string, AttributeValue>;
  readonly eventName: StreamRecord['eventName'];
}

function keyOf(item: Record<string, AttributeValue> | undefined, keyNames: readonly string[]): Record<string, AttributeValue> | undefined {
  if (!item) return undefined;
  const key = Object.fromEntries(keyNames.flatMap((name) => (item[name] ? [[name, item[name]]] : [])));
  return Object.keys(key).length === keyNames.length ? key : undefined;
}

/** Which item(s) a DynamoDB request writes, for the tables that have pipes. */
function writesOf(target: string, body: unknown, keys: ReadonlyMap<string, readonly string[]>): WriteRequest[] {
  const request = record(body) ?? {};
  const operation = target.split('.').pop();
  const single = (table: unknown, key: Record<string, AttributeValue> | undefined, eventName: StreamRecord['eventName']): WriteRequest[] =>
    typeof table === 'string' && key ? [{ table, key, eventName }] : [];
  if (operation === 'PutItem') {
    const names = keys.get(String(request.TableName));
    return names ? single(request.TableName, keyOf(record(request.Item) as Record<string, AttributeValue>, names), 'INSERT') : [];
  }
  if (operation === 'UpdateItem' || operation === 'DeleteItem') {
    return single(request.TableName, record(request.Key) as Record<string, AttributeValue> | undefined, operation === 'UpdateItem' ? 'MODIFY' : 'REMOVE');
  }
  if (operation === 'BatchWriteItem') {
    return Object.entries(record(request.RequestItems) ?? {}).flatMap(([table, writes]) => {
      const names = keys.get(table);
      if (!names || !Array.isArray(writes)) return [];
      return writes.flatMap((write: unknown) => {
        const put = record(record(write)?.PutRequest);
        const remove = record(record(write)?.DeleteRequest);
        if (put) return single(table, keyOf(record(put.Item) as Record<string, AttributeValue>, names), 'INSERT');
        return remove ? single(table, record(remove.Key) as Record<string, AttributeValue> | undefined, 'REMOVE') : [];
      });
    });
  }
  return [];
}

export interface ResultPipesOptions {
  readonly pipes: readonly StreamPipe[];
  /** Table name and key attribute names by logical id. */
  readonly tables: Readonly<Record<string, { readonly name: string; readonly keyNames: readonly string[] }>>;
  readonly client: DynamoDBClient;
  readonly log: EventLog;
  readonly onError: (error: unknown) => void;
}

/**
 * Hooks the DynamoDB stand-in's HTTP server: after each successful write to a table with pipes, reads the item
 * as the stream's NEW_IMAGE would carry it and runs every pipe of that table. `settled` resolves once every
 * event of the writes answered so far is in the log.
 */
export function attachResultPipes(server: Server, options: ResultPipesOptions): { readonly settled: () => Promise<void> } {
  const byTable = new Map<string, StreamPipe[]>();
  const keys = new Map<string, readonly string[]>();
  for (const pipe of options.pipes) {
    const table = options.tables[pipe.tableLogicalId];
    if (!table) throw new TemplateError(`pipe ${pipe.name} reads the stream of ${pipe.tableLogicalId}, which is not a table of the template`);
    byTable.set(table.name, [...(byTable.get(table.name) ?? []), pipe]);
    keys.set(table.name, table.keyNames);
  }
  const pending = new Set<Promise<void>>();
  const emit = async (write: WriteRequest): Promise<void> => {
    const image = write.eventName === 'REMOVE' ? undefined : (await options.client.send(new GetItemCommand({ TableName: write.table, Key: write.key, ConsistentRead: true }))).Item;
    const streamRecord: StreamRecord = { eventName: write.eventName, eventSource: 'aws:dynamodb', dynamodb: { Keys: write.key, ...(image ? { NewImage: image } : {}) } };
    for (const pipe of byTable.get(write.table) ?? []) {
      if (pipe.filters.length > 0 && !pipe.filters.some((filter) => matchesPattern(filter, streamRecord))) continue;
      options.log.append(pipe.source, pipe.detailType, renderInputTemplate(pipe.inputTemplate, streamRecord));
    }
  };
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const chunks: Buffer[] = [];
    // A second 'data' listener sees the same chunks as dynalite's own, attached synchronously below.
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('finish', () => {
      if (res.statusCode !== 200 || !/\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(target)) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return;
      }
      for (const write of writesOf(target, body, keys)) {
        const done: Promise<void> = emit(write)
          .catch(options.onError)
          .finally(() => pending.delete(done));
        pending.add(done);
      }
    });
    for (const handler of handlers) handler.call(server, req, res);
  });
  return {
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
