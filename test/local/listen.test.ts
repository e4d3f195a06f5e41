import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../../src/local/listen.js';

const servers = [createServer(), createServer()];

afterEach(() => {
  for (const server of servers) server.close();
});

describe('listenOnLoopback', () => {
  it('listens on loopback, and names a port that is taken instead of throwing later', async () => {
    const [first, second] = servers;
    if (!first || !second) throw new Error('two servers');
    await listenOnLoopback(first, 0);
    const { address, port } = first.address() as AddressInfo;
    expect(address).toBe('127.0.0.1');
    await expect(listenOnLoopback(second, port)).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
  });
});
