// One HTTP/1.1 request over mesh mTLS straight to a pod, as a sidecar would make it (SNI the
// service's name, ALPN `osm`, the caller's certificate), bypassing the caller's own sidecar: run
// as the proxy's uid, which OSM's iptables rules do not redirect. Prints {status, body} or {error}.
//   node tls-call.mjs '{"host":"10.250.0.11","port":14001,"sni":"bookstore.bookstore.svc.cluster.local",
//     "cert":"tls.crt","key":"tls.key","ca":"ca.crt","path":"/x","headers":{}}'
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';

const a = JSON.parse(process.argv[2]);
const sock = connect({
  host: a.host,
  port: a.port,
  servername: a.sni,
  ALPNProtocols: ['osm'],
  cert: readFileSync(a.cert),
  key: readFileSync(a.key),
  ca: readFileSync(a.ca),
  checkServerIdentity: () => undefined, // the peer's identity is not what this probe checks
});
let data = '';
const done = (out) => {
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
};
sock.setTimeout(10_000, () => done({ error: 'timeout' }));
sock.on('secureConnect', () => {
  const headers = Object.entries({ host: a.sni, connection: 'close', ...a.headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  sock.write(`GET ${a.path} HTTP/1.1\r\n${headers}\r\n`);
});
sock.setEncoding('utf8');
sock.on('data', (d) => (data += d));
sock.on('error', (err) => done({ error: err.code ?? err.message, partial: data }));
sock.on('close', () => {
  const m = /^HTTP\/1\.1 (\d+)/.exec(data);
  done(m ? { status: Number(m[1]), body: data.slice(data.indexOf('\r\n\r\n') + 4) } : { error: 'closed', partial: data });
});
