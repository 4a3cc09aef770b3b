import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { nextBackend, startBalancer } from './tcp-balancer.ts';

test('nextBackend: round robin over the live backends', () => {
  const ports = [1, 2, 3];
  assert.equal(nextBackend(ports, new Set(), -1), { port: 1, index: 0 });
  assert.equal(nextBackend(ports, new Set(), 0), { port: 2, index: 1 });
  assert.equal(nextBackend(ports, new Set(), 2), { port: 1, index: 0 });
  assert.equal(nextBackend(ports, new Set([2]), 0), { port: 3, index: 2 });
  assert.is(nextBackend(ports, new Set([1, 2, 3]), 0), undefined);
});

/** A TCP server that answers every connection with its name, then keeps it open. */
async function named(name: string): Promise<{ port: number; server: net.Server; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.write(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, server, sockets };
}

const first = (port: number): Promise<{ text: string; socket: net.Socket; closed: Promise<void> }> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.once('data', (d) => resolve({ text: d.toString(), socket, closed }));
    socket.once('error', reject);
  });

test('connections spread over the backends; a removed one gets no more, and its connections are cut', async () => {
  const a = await named('a');
  const b = await named('b');
  const lb = await startBalancer([a.port, b.port]);
  try {
    const c1 = await first(lb.port);
    const c2 = await first(lb.port);
    assert.equal([c1.text, c2.text].sort(), ['a', 'b']);
    const onA = c1.text === 'a' ? c1 : c2;
    lb.remove(a.port);
    await onA.closed;
    const c3 = await first(lb.port);
    const c4 = await first(lb.port);
    assert.equal([c3.text, c4.text], ['b', 'b']);
    assert.equal(lb.counts().get(a.port), { made: 1, open: 0 });
    assert.is(lb.counts().get(b.port)!.made, 3);
    for (const c of [c1, c2, c3, c4]) c.socket.destroy();
  } finally {
    await lb.close();
    for (const x of [a, b]) {
      for (const s of x.sockets) s.destroy();
      x.server.close();
    }
  }
});

test('a backend that refuses is skipped', async () => {
  const b = await named('b');
  const gone = await named('gone');
  const gonePort = gone.port;
  await new Promise<void>((r) => gone.server.close(() => r()));
  const lb = await startBalancer([gonePort, b.port]);
  try {
    const c = await first(lb.port);
    assert.is(c.text, 'b');
    c.socket.destroy();
  } finally {
    await lb.close();
    for (const s of b.sockets) s.destroy();
    b.server.close();
  }
});

test.run();
