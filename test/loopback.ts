/** An HTTP app (e.g. a fake OpenAI-compatible endpoint) listening on a free loopback port for a test. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Loopback {
  readonly server: Server;
  readonly port: number;
  /** The OpenAI-compatible base URL, `http://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** Drops the open connections (kept-alive or held replies) and waits until the server is closed. */
  close(): Promise<void>;
}

/** Starts `app` (an express app or anything with node's `listen(port, host, cb)`) on 127.0.0.1 and a free port. */
export async function listenLoopback(app: { listen(port: number, host: string, cb: () => void): Server }): Promise<Loopback> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
