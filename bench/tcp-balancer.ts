/**
 * A small TCP balancer for bench/serve-replicas.ts: one address (127.0.0.1, an ephemeral port) in
 * front of several `serve` replicas, as a Kubernetes Service spreads connections over its pods.
 * Each new connection goes to the next live backend, round robin; when a backend refuses it, the
 * next is tried for that connection (a refusal under load is not a verdict on the backend). `remove`
 * takes a backend out of the rotation and cuts its connections, as a pod that dies does (its
 * endpoint leaves the Service); connections are piped byte for byte.
 */
import net from 'node:net';

export interface Balancer {
  readonly port: number;
  /** Connections made to each backend port so far, and how many are open now. */
  counts(): Map<number, { made: number; open: number }>;
  /** Out of the rotation, and every connection to it closed. */
  remove(port: number): void;
  close(): Promise<void>;
}

/** The next live backend after `last`, round robin; undefined when none is live. */
export function nextBackend(ports: readonly number[], down: ReadonlySet<number>, last: number): { port: number; index: number } | undefined {
  for (let k = 1; k <= ports.length; k++) {
    const index = (last + k) % ports.length;
    if (!down.has(ports[index])) return { port: ports[index], index };
  }
  return undefined;
}

export async function startBalancer(ports: readonly number[]): Promise<Balancer> {
  const down = new Set<number>();
  let last = -1;
  const sockets = new Map<number, Set<net.Socket>>(ports.map((p) => [p, new Set()]));
  const made = new Map<number, number>(ports.map((p) => [p, 0]));
  const downstream = new Set<net.Socket>();

  const route = (client: net.Socket, tried: number, after = last): void => {
    const next = nextBackend(ports, down, after);
    if (!next || tried >= ports.length) {
      client.destroy();
      return;
    }
    if (tried === 0) last = next.index;
    const upstream = net.connect({ host: '127.0.0.1', port: next.port });
    upstream.setNoDelay(true);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      made.set(next.port, (made.get(next.port) ?? 0) + 1);
      sockets.get(next.port)!.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (connected) return;
      route(client, tried + 1, next.index); // refused: the next one, for this connection
    });
    upstream.on('close', () => {
      sockets.get(next.port)!.delete(upstream);
      if (connected) client.destroy();
    });
    client.on('close', () => upstream.destroy());
  };

  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (client) => {
    downstream.add(client);
    client.on('close', () => downstream.delete(client));
    client.on('error', () => client.destroy());
    route(client, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    counts: () => new Map(ports.map((p) => [p, { made: made.get(p) ?? 0, open: sockets.get(p)!.size }])),
    remove(port) {
      down.add(port);
      for (const s of sockets.get(port) ?? []) s.destroy();
    },
    async close() {
      for (const c of downstream) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
