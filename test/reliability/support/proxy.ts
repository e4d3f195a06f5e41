import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections made while cut are reset at once, and open ones are reset now: the service is unreachable. */
  cut(): void;
  restore(): void;
  readonly stats: { connections: number; refused: number };
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a local service, so a test can take the service away from its clients (like
 * a network partition or an outage) without touching the service or the code under test.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let down = false;
  const open = new Set<Socket>();
  const stats = { connections: 0, refused: 0 };
  const server = createServer((client) => {
    if (down) {
      stats.refused += 1;
      client.resetAndDestroy();
      return;
    }
    stats.connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    stats,
    cut: () => {
      down = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore: () => {
      down = false;
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
