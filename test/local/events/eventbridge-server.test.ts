import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../../src/local/events/event-log.js';
import { startLocalEventBridge } from '../../../src/local/events/eventbridge-server.js';
import type { LocalEventBridge } from '../../../src/local/events/eventbridge-server.js';

let dir: string;
let bus: LocalEventBridge;
let client: EventBridgeClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pneumo-events-'));
  bus = await startLocalEventBridge({ port: 0, log: new EventLog(join(dir, 'events.jsonl'), '000000000000', 'eu-west-1'), buses: ['pneumo-ci-events'] });
  client = new EventBridgeClient({ endpoint: bus.url, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
});

afterAll(async () => {
  client.destroy();
  await bus.close();
  await rm(dir, { recursive: true, force: true });
});

async function logged(): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dir, 'events.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('local EventBridge PutEvents (real SDK client)', () => {
  it('keeps good entries as EventBridge-shaped events and fails bad ones alone, by name', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'pneumo-ci-events', Source: 'pneumo.training', DetailType: 'Retrain Finished', Detail: '{"outcome":"DEPLOYED"}' },
          { EventBusName: 'arn:aws:events:eu-west-1:000000000000:event-bus/other', Source: 's', DetailType: 'd', Detail: '{}' },
          { EventBusName: 'pneumo-ci-events', Source: 's', DetailType: 'd', Detail: '[1]' },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.map((entry) => entry.ErrorCode ?? 'ok')).toEqual(['ok', 'ResourceNotFoundException', 'MalformedDetail']);
    const events = await logged();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ version: '0', id: result.Entries?.[0]?.EventId, source: 'pneumo.training', 'detail-type': 'Retrain Finished', account: '000000000000', region: 'eu-west-1', detail: { outcome: 'DEPLOYED' } });
    expect(String(events[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('refuses more than 10 entries as a whole, like EventBridge', async () => {
    const entry = { EventBusName: 'pneumo-ci-events', Source: 's', DetailType: 'd', Detail: '{}' };
    await expect(client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry) }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
