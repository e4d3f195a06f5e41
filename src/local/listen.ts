import type { Server } from 'node:net';

/** Listens on 127.0.0.1; a taken port rejects (naming it) instead of surfacing as an uncaught exception. */
export function listenOnLoopback(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} on 127.0.0.1 is in use; pick another or 0 for any free port`, { cause: error }) : error);
    };
    server.once('error', failed);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', failed);
      resolve();
    });
  });
}
