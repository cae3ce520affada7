/**
 * A TCP proxy on 127.0.0.1 in front of another service, to simulate its outage without
 * touching the shared server: `stop()` cuts every connection and refuses new ones,
 * `start()` listens again on the same port.
 *
 *   const proxy = await startTcpProxy({ port: 6379 });  // proxy.port → point REDIS_URL at it
 *   await proxy.stop();   // outage
 *   await proxy.start();  // back
 *   await proxy.close();  // teardown
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections currently open through the proxy. */
  openConnections(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export const startTcpProxy = async (target: { host?: string; port: number }): Promise<TcpProxy> => {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const listen = async () => {
    const next = createServer((client) => {
      const upstream = connect(target.port, target.host ?? '127.0.0.1');
      track(client);
      track(upstream);
      client.pipe(upstream).pipe(client);
      const destroyBoth = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', destroyBoth).on('close', destroyBoth);
      upstream.on('error', destroyBoth).on('close', destroyBoth);
    });
    next.listen(port, '127.0.0.1');
    await once(next, 'listening');
    port = (next.address() as { port: number }).port;
    server = next;
  };

  const stop = async () => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    openConnections: () => sockets.size,
    stop,
    start: async () => {
      if (!server) await listen();
    },
    close: stop,
  };
};
