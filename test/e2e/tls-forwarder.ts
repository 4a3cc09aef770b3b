/**
 * A node-local agent for proxyless gRPC's xDS connection: grpc-js-xds (1.14) only dials its xDS
 * server in plaintext (bootstrap `channel_creds` types `insecure` and `google_default`; the `tls`
 * type of gRFC A65 is not implemented in Node), while `serve --ca` takes mTLS only. The agent
 * listens on 127.0.0.1 and forwards each connection over mTLS with the workload's certificate,
 * as an Istio agent does for proxyless gRPC. grpc-go can skip it: its bootstrap takes `tls`
 * channel credentials with the same files.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';

export interface Forwarder {
  readonly port: number;
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<port> to 127.0.0.1:`targetPort` over TLS with the files `ca issue` wrote in `certDir`. */
export async function startTlsForwarder(targetPort: number, certDir: string): Promise<Forwarder> {
  const read = (f: string): Buffer => readFileSync(join(certDir, f));
  const sockets = new Set<Socket>();
  const server = createServer((plain) => {
    const secure = connect({
      host: '127.0.0.1',
      port: targetPort,
      servername: 'localhost', // a name the xDS server's certificate carries
      cert: read('tls.crt'),
      key: read('tls.key'),
      ca: read('ca.crt'),
      ALPNProtocols: ['h2'], // gRPC servers take HTTP/2 only
    });
    for (const s of [plain, secure]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        plain.destroy();
        secure.destroy();
      });
    }
    plain.pipe(secure).pipe(plain);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
