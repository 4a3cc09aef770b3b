/**
 * End to end, mTLS: `serve --ca` and real @grpc/grpc-js-xds on both sides.
 *
 * - The CA and every certificate come from the CLI: `ca init`, then `ca issue` for the client,
 *   the greeter server and an intruder; gRPC reads them with `file_watcher` certificate
 *   providers named in its bootstrap.
 * - The greeter is an `XdsServer` with `XdsServerCredentials`: it asks for its listener
 *   `grpc/server?xds.resource.listening_address=127.0.0.1:<port>` and gets TLS with client
 *   certificates required plus RBAC from the TrafficTarget (GRPC_XDS_EXPERIMENTAL_RBAC=true).
 * - The client dials `xds:///greeter.demo.svc.cluster.local:50051` with `XdsChannelCredentials`:
 *   its cluster carries TLS pinned to the greeter's identity.
 * - Both xDS connections are mTLS to the server (through tls-forwarder.ts: grpc-js-xds cannot
 *   dial its xDS server over TLS itself).
 *
 * Loopback and ephemeral ports, except that grpc-js-xds's XdsServer listens on its port on every
 * interface (it binds the port alone); the test only dials 127.0.0.1.
 */
process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true'; // read when grpc-js-xds loads: it is imported below, dynamically

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryLogger } from '../../src/serve/ops/logger.ts';
import { startServer, type ServerHandle } from '../../src/serve/server.ts';
import { runCli } from '../cli-harness.ts';
import { renderScenario } from './fixtures/render.ts';
import { exitWhenDone, within } from './support.ts';
import { startTlsForwarder, type Forwarder } from './tls-forwarder.ts';

const BOOTSTRAP_KEY = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';
const TARGET = 'xds:///greeter.demo.svc.cluster.local:50051';
const AUTHORITY = 'greeter.demo.svc.cluster.local:50051';

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')),
};
const SAY_HELLO = {
  path: '/helloworld.Greeter/SayHello',
  requestStream: false,
  responseStream: false,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
} as const;

let grpcXds: typeof import('@grpc/grpc-js-xds');
let dir: string;
let server: ServerHandle;
let greeter: grpc.Server;
let greeterPort: number;
let client: grpc.Client;
const forwarders: Forwarder[] = [];
const extraClients: grpc.Client[] = [];
const logger = memoryLogger('info');
/** What the greeter saw of each caller's certificate. */
const callers: string[] = [];

const certs = (who: string): string => join(dir, 'certs', who);
const readText = (p: string): string => readFileSync(p, 'utf8');

/** A grpc-js-xds bootstrap: node, xDS through the workload's mTLS agent, and the `mesh` file_watcher provider. */
function bootstrap(nodeId: string, agentPort: number, certDir: string): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${agentPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, cluster: nodeId, locality: {} },
    server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
    certificate_providers: {
      mesh: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: join(certDir, 'tls.crt'),
          private_key_file: join(certDir, 'tls.key'),
          ca_certificate_file: join(certDir, 'ca.crt'),
          refresh_interval: '60s',
        },
      },
    },
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function sayHello(c: grpc.Client, waitForReady = false): Promise<{ from?: string; error?: grpc.ServiceError }> {
  return new Promise((resolve) =>
    c.makeUnaryRequest(
      SAY_HELLO.path,
      json.serialize,
      json.deserialize,
      { name: 'e2e' },
      new grpc.Metadata({ waitForReady }),
      { deadline: Date.now() + 5000 },
      (error, value) => resolve(error ? { error } : { from: (value as { from: string }).from }),
    ),
  );
}

/** A caller that skips xDS and dials the greeter directly, as `who`, with its own mesh certificate. */
function directCaller(who: string): grpc.Client {
  const creds = grpc.credentials.createSsl(
    Buffer.from(readText(join(certs(who), 'ca.crt'))),
    Buffer.from(readText(join(certs(who), 'tls.key'))),
    Buffer.from(readText(join(certs(who), 'tls.crt'))),
    { checkServerIdentity: (_host, cert) => (cert.subjectaltname?.includes('URI:spiffe://cluster.local/ns/demo/sa/greeter') ? undefined : new Error(`not the greeter: ${cert.subjectaltname}`)) },
  );
  // The authority a mesh caller sends, so that routing matches and RBAC alone decides.
  const c = new grpc.Client(`127.0.0.1:${greeterPort}`, creds, { 'grpc.default_authority': AUTHORITY, 'grpc.ssl_target_name_override': 'greeter.demo.svc.cluster.local' });
  extraClients.push(c);
  return c;
}

test.before(async () => {
  grpcXds = await import('@grpc/grpc-js-xds');
  grpcXds.register();
  dir = mkdtempSync(join(tmpdir(), 'smi-e2e-mtls-'));
  const ca = join(dir, 'ca');
  const cli = async (...args: string[]): Promise<void> => {
    const r = await runCli(args);
    assert.is(r.code, 0, `smi-compile ${args.join(' ')}: ${r.stderr}`);
  };
  await cli('ca', 'init', ca);
  for (const who of ['client', 'greeter', 'intruder']) await cli('ca', 'issue', ca, '--identity', `${who}.demo`, '--out', certs(who));

  greeterPort = await freePort();
  mkdirSync(join(dir, 'mesh'));
  renderScenario('greeter-mtls', join(dir, 'mesh'), { GREETER_PORT: greeterPort });
  server = await startServer({ paths: [join(dir, 'mesh')], port: 0, adminPort: 0, debugEndpoints: true, logger, processMetrics: false, ca: { provider: 'builtin', dir: ca } });
  const [clientAgent, greeterAgent] = await Promise.all([startTlsForwarder(server.port, certs('client')), startTlsForwarder(server.port, certs('greeter'))]);
  forwarders.push(clientAgent, greeterAgent);

  greeter = new grpcXds.XdsServer({ [BOOTSTRAP_KEY]: bootstrap('demo/greeter', greeterAgent.port, certs('greeter')) } as grpc.ServerOptions);
  greeter.addService({ SayHello: SAY_HELLO } as unknown as grpc.ServiceDefinition, {
    SayHello: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      callers.push(call.getAuthContext()?.sslPeerCertificate?.subjectaltname ?? '(no certificate)');
      cb(null, { from: 'greeter' });
    },
  });
  await within(10_000, 'the XdsServer serving (its listener and routes over mTLS xDS)', new Promise<void>((resolve, reject) =>
    greeter.bindAsync(`127.0.0.1:${greeterPort}`, new grpcXds.XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (err) => (err ? reject(err) : resolve())),
  ));
  client = new grpc.Client(TARGET, new grpcXds.XdsChannelCredentials(grpc.credentials.createInsecure()), {
    [BOOTSTRAP_KEY]: bootstrap('demo/client', clientAgent.port, certs('client')),
  } as grpc.ChannelOptions);
});

test.after(async () => {
  client?.close();
  for (const c of extraClients) c.close();
  greeter?.forceShutdown();
  await Promise.all(forwarders.map((f) => f.close()));
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  exitWhenDone();
});

test('the admitted identity calls through xds:/// with XdsChannelCredentials; the server sees its mesh certificate', async () => {
  const t0 = performance.now();
  const r = await within(10_000, 'first call', sayHello(client, true));
  assert.is(r.from, 'greeter', r.error?.message);
  console.log(`  first mTLS call through xDS after ${(performance.now() - t0).toFixed(0)} ms; caller ${callers.at(-1)}`);
  assert.match(callers.at(-1)!, 'URI:spiffe://cluster.local/ns/demo/sa/client');
  for (let i = 0; i < 20; i++) assert.is((await sayHello(client)).from, 'greeter');
});

test('another identity with a valid mesh certificate gets PERMISSION_DENIED from the server\'s RBAC', async () => {
  const denied = await sayHello(directCaller('intruder'), true);
  assert.is(denied.error?.code, grpc.status.PERMISSION_DENIED, `got ${denied.error?.code} ${denied.error?.details}`);
  console.log(`  intruder: ${denied.error!.code} ${denied.error!.details}`);
  // The same direct path with the admitted identity works: identity, not the path, decided.
  const admitted = await sayHello(directCaller('client'), true);
  assert.is(admitted.from, 'greeter', admitted.error?.message);
});

test('a plaintext caller never reaches the greeter: it requires client certificates', async () => {
  const plain = new grpc.Client(`127.0.0.1:${greeterPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': AUTHORITY });
  extraClients.push(plain);
  const r = await sayHello(plain);
  assert.is(r.error?.code, grpc.status.UNAVAILABLE, `got ${r.error?.code} ${r.error?.details}`);
});

test('both xDS clients are connected over mTLS as their own workloads, and accepted everything', async () => {
  const streams = (await (await fetch(`http://127.0.0.1:${server.adminPort}/debug/streams`)).json()) as { node: string; flavour: string; types: Record<string, { acks: number; nacks: number }> }[];
  for (const node of ['demo/client', 'demo/greeter']) {
    const s = streams.find((x) => x.node === node);
    assert.ok(s, `${node} connected`);
    assert.is(s!.flavour, 'proxyless');
    for (const [type, t] of Object.entries(s!.types)) assert.is(t.nacks, 0, `${node} ${type} not NACKed`);
  }
  assert.not.ok(logger.records.some((r) => r.code === 'SMI6007'), 'no unauthenticated-xDS warning with --ca');
  assert.equal(logger.records.filter((r) => r.level === 'warn' || r.level === 'error').map((r) => r.msg), [], 'no warning, no error');
});

test.run();
