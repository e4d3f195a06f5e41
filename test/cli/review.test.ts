import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positiveLabelOf, review, reviewThresholdOf } from '../../src/cli/commands/review.js';
import { runCli } from '../../src/cli/program.js';
import type { ReviewServer } from '../../src/review/server.js';
import { captureIo, startLocalServers, testContext } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';

let servers: LocalServers;

beforeAll(async () => {
  servers = await startLocalServers();
});

afterAll(async () => {
  await servers.stop();
});

describe('pneumo review', () => {
  it('prints the one-time address, serves the page signed in once, and stops when told', async () => {
    const io = captureIo();
    const controller = new AbortController();
    let served: ReviewServer | undefined;
    const done = review(testContext(servers.target({ names: { reviewThreshold: '75' } }), io), {
      open: false,
      reviewer: 'dr-jones',
      signal: controller.signal,
      onReady: (server) => {
        served = server;
      },
    });
    await expect.poll(() => served).toBeDefined();
    const url = io.stdout[0] ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
    expect(io.stderr.join('\n')).toMatch(/reviewer dr-jones/);
    expect(io.stderr.join('\n')).toMatch(/not a diagnosis/);
    const signedIn = await fetch(url, { redirect: 'manual' });
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const session = (await (await fetch(`${served?.origin ?? ''}/api/session`, { headers: { cookie } })).json()) as Record<string, unknown>;
    expect(session).toMatchObject({ reviewer: 'dr-jones', threshold: 75, labels: ['NORMAL', 'PNEUMONIA'], target: 'test servers' });
    controller.abort();
    expect(await done).toBe(0);
    expect(io.stderr.at(-1)).toBe('review page stopped');
    await expect(fetch(url)).rejects.toThrow();
  });

  it('says which port is taken, and refuses bad options with exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const controller = new AbortController();
      await expect(review(testContext(servers.target(), captureIo()), { open: false, reviewer: 'x', port, signal: controller.signal })).rejects.toThrow(`--port ${port} is taken on 127.0.0.1`);
    } finally {
      blocker.close();
    }
    for (const args of [['review', '--reviewer', ' '], ['review', '--port', '70000'], ['review', '--reviewer', 'a\u0007b']]) {
      const io = captureIo();
      expect(await runCli(args, { io, resolveTarget: () => Promise.resolve(servers.target()) }), args.join(' ')).toBe(2);
      expect(io.stderr.join('\n')).toMatch(/is invalid/);
    }
  });

  it('reads the review threshold the stack outputs, and nothing else', () => {
    expect([80, '80', '72.5', undefined, 'high', '101'].map((value) => reviewThresholdOf(servers.target({ names: { reviewThreshold: value } })))).toEqual([80, 80, 72.5, undefined, undefined, undefined]);
  });

  it('orders the positive label the stack outputs first, and falls back to PNEUMONIA for a missing or malformed one', () => {
    expect(['VIRAL', undefined, '../x', 7].map((value) => positiveLabelOf(servers.target({ names: { positiveLabel: value } })))).toEqual(['VIRAL', 'PNEUMONIA', 'PNEUMONIA', 'PNEUMONIA']);
  });
});
