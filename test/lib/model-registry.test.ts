import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/lib/errors.js';
import { ModelRegistry } from '../../src/lib/model-registry.js';
import { activeItem, NEXT_VERSION_ARN, VERSION_ARN } from '../fixtures/models.js';

const ddbMock = mockClient(DynamoDBDocumentClient);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));

afterEach(() => {
  ddbMock.reset();
});

function registryAt(now: { t: number }, cacheMs = 30_000): ModelRegistry {
  return new ModelRegistry(documents, 'registry', cacheMs, () => now.t);
}

describe('ModelRegistry', () => {
  it('reads the active item consistently', async () => {
    ddbMock.on(GetCommand).resolves({ Item: activeItem() });
    const lookup = await registryAt({ t: 0 }).activeModel();
    expect(lookup).toEqual({ kind: 'model', model: { projectVersionArn: VERSION_ARN, versionName: 'v-2026-11-01', running: true } });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: 'registry', Key: { id: 'active' }, ConsistentRead: true });
  });

  it('caches a running model until the TTL passes', async () => {
    const now = { t: 0 };
    const registry = registryAt(now);
    ddbMock.on(GetCommand).resolvesOnce({ Item: activeItem() }).resolves({ Item: activeItem({ projectVersionArn: NEXT_VERSION_ARN }) });
    await registry.activeModel();
    now.t = 29_999;
    expect(await registry.activeModel()).toMatchObject({ model: { projectVersionArn: VERSION_ARN } });
    now.t = 30_000;
    expect(await registry.activeModel()).toMatchObject({ model: { projectVersionArn: NEXT_VERSION_ARN } });
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('re-reads after invalidate', async () => {
    const registry = registryAt({ t: 0 });
    ddbMock.on(GetCommand).resolves({ Item: activeItem() });
    await registry.activeModel();
    registry.invalidate();
    await registry.activeModel();
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('never caches "no model" or a stopped model, so a start is seen at once', async () => {
    const registry = registryAt({ t: 0 });
    ddbMock
      .on(GetCommand)
      .resolvesOnce({})
      .resolvesOnce({ Item: activeItem({ state: 'STOPPED' }) })
      .resolves({ Item: activeItem() });
    expect(await registry.activeModel()).toEqual({ kind: 'none' });
    expect(await registry.activeModel()).toMatchObject({ model: { running: false } });
    expect(await registry.activeModel()).toMatchObject({ model: { running: true } });
  });

  it('does not cache with a TTL of 0', async () => {
    const registry = registryAt({ t: 0 }, 0);
    ddbMock.on(GetCommand).resolves({ Item: activeItem() });
    await registry.activeModel();
    await registry.activeModel();
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it.each([
    [{ projectVersionArn: undefined }, /no valid projectVersionArn/],
    [{ projectVersionArn: 'arn:aws:rekognition:eu-west-1:123456789012:project/p/1' }, /no valid projectVersionArn/],
    [{ state: 'PAUSED' }, /state "PAUSED"/],
  ])('refuses a malformed item %j', async (overrides, message) => {
    ddbMock.on(GetCommand).resolves({ Item: activeItem(overrides) });
    const attempt = registryAt({ t: 0 }).activeModel();
    await expect(attempt).rejects.toThrow(RegistryError);
    await expect(attempt).rejects.toThrow(message);
  });
});
