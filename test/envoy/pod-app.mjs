// The application container of a test pod, run inside its network namespace:
//   node pod-app.mjs SPEC
//   SPEC = {"name":"bookstore-v1","http":[14001],"serverFirst":[3306],"control":"/tmp/x/app.sock"}
// - `http` ports: an HTTP server answering every request with JSON {from, method, path, xfcc}
//   (0.0.0.0, as an app in a pod listens);
// - `serverFirst` ports: a TCP server that speaks first (a greeting naming the app, as MySQL's
//   handshake does), then echoes;
// - `control`: a Unix socket the test drives the app's own client through (the test runs on the
//   host; the client must run in the pod, where its traffic is redirected to the sidecar):
//   POST /http {host, port, path, method, headers} -> {status, body} or {error};
//   POST /tcp {host, port} -> {greeting} or {error}.
// Prints `ready` once everything listens.
import { createServer as createHttpServer, request } from 'node:http';
import { connect, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const spec = JSON.parse(process.argv[2]);
const ready = [];

for (const port of spec.http ?? []) {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ from: spec.name, method: req.method, path: req.url, xfcc: req.headers['x-forwarded-client-cert'] ?? null }));
    });
  });
  ready.push(new Promise((resolve) => server.listen(port, '0.0.0.0', resolve)));
}

for (const port of spec.serverFirst ?? []) {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.write(`hello from ${spec.name}\n`);
    sock.pipe(sock);
  });
  ready.push(new Promise((resolve) => server.listen(port, '0.0.0.0', resolve)));
}

function httpCall({ host, port, path, method = 'GET', headers = {} }) {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method, headers, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

function tcpGreeting({ host, port }) {
  return new Promise((resolve) => {
    const sock = connect(port, host);
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ error: data ? `partial: ${data}` : 'timeout' });
    }, 10_000);
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      data += d;
      if (data.includes('\n')) {
        clearTimeout(timer);
        sock.destroy();
        resolve({ greeting: data.trim() });
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.code ?? err.message });
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data ? { greeting: data.trim() } : { error: 'closed' });
    });
  });
}

if (spec.control) {
  rmSync(spec.control, { force: true });
  const control = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const args = JSON.parse(body || '{}');
      const out = req.url === '/http' ? await httpCall(args) : req.url === '/tcp' ? await tcpGreeting(args) : { error: 'unknown' };
      res.end(JSON.stringify(out));
    });
  });
  ready.push(new Promise((resolve) => control.listen(spec.control, resolve)));
}

await Promise.all(ready);
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
