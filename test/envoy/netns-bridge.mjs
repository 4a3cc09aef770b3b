// Runs inside a network namespace (`ip netns exec NS node netns-bridge.mjs SPEC`) and joins it to
// the host through Unix sockets, which are files and so visible from every namespace: each
// `forward` listens on a TCP address inside the namespace and connects to a Unix socket the host
// serves; each `expose` listens on a Unix socket and connects to a TCP address inside the
// namespace. Plain bytes both ways (TLS passes through untouched). Prints `ready` once listening.
//
//   SPEC = {"forward":[{"listen":"127.0.0.1:15128","unix":"/tmp/x/xds.sock"}],
//           "expose":[{"unix":"/tmp/x/admin.sock","connect":"127.0.0.1:15000"}]}
import { connect, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const spec = JSON.parse(process.argv[2]);

function pipe(a, b) {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

function hostPort(s) {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

const listening = [];
for (const f of spec.forward ?? []) {
  const { host, port } = hostPort(f.listen);
  const server = createServer((sock) => pipe(sock, connect(f.unix)));
  listening.push(new Promise((resolve) => server.listen(port, host, resolve)));
}
for (const e of spec.expose ?? []) {
  rmSync(e.unix, { force: true });
  const { host, port } = hostPort(e.connect);
  const server = createServer((sock) => pipe(sock, connect(port, host)));
  listening.push(new Promise((resolve) => server.listen(e.unix, resolve)));
}
await Promise.all(listening);
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
