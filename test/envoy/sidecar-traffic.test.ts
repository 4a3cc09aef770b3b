/**
 * Traffic through real Envoy sidecars, as in pods. Each workload of the bookstore fixture is a
 * network namespace on a private subnet (netns.ts PodNetwork: a bridge in a router namespace,
 * veth pairs) holding its app (pod-app.mjs: an HTTP server, or a server-first TCP server for
 * mysql, and a client the test drives) and its Envoy, started as uid 1500 from the unchanged
 * `bootstrap.yaml` of `compile --ca --emit-secrets`, with the iptables rules OSM's init container
 * installs (outbound to 15001, inbound to 15003, uid 1500 excluded). Services have ClusterIPs and
 * Endpoints with the pods' addresses, set in the manifests; between Envoys, mTLS with
 * certificates from the CA over SDS, from `serve --ca --watch` on the host's 127.0.0.1.
 *
 * Waits poll a bounded number of times; nothing asserts a duration. Needs root, Envoy and
 * iptables; skipped without them, failed under CI=true.
 */
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { parseAllDocuments, stringify } from 'yaml';
import { BuiltinCa } from '../../src/identity/index.ts';
import { memoryLogger } from '../../src/serve/logger.ts';
import { startServer, type ServerHandle } from '../../src/serve/server.ts';
import { runCli } from '../cli-harness.ts';
import { EnvoyPod, iptablesUnavailable, namespacePrefix, netnsUnavailable, osmIptables, PodNetwork, removeStaleNamespaces, UnixToTcp } from './netns.ts';
import { envoy, envoyTest, poll as pollFor } from './support.ts';

type Json = Record<string, any>;

const unavailable = envoy ? (netnsUnavailable() ?? iptablesUnavailable()) : undefined;
const PROXY_UID = 1500;
/** Workload certificates served over SDS live this long (renewed at 2/3 of it): several rotations happen during the suite. */
const CERT_LIFETIME_MS = 6_000;
const POLLS = 400;
const POLL_MS = 50;

/** Pod addresses and ClusterIPs of the test subnet (10.250.0.0/24 for pods, 10.96.0.0/24 for services). */
const PODS: Record<string, { ip: string; app: Json }> = {
  'bookbuyer/bookbuyer': { ip: '10.250.0.10', app: { name: 'bookbuyer' } },
  'bookstore/bookstore': { ip: '10.250.0.11', app: { name: 'bookstore-v1', http: [14001] } },
  'bookstore/bookstore-v2': { ip: '10.250.0.12', app: { name: 'bookstore-v2', http: [14001] } },
  'bookthief/bookthief': { ip: '10.250.0.13', app: { name: 'bookthief' } },
  'bookwarehouse/bookwarehouse': { ip: '10.250.0.14', app: { name: 'bookwarehouse', http: [14001] } },
  'bookwarehouse/mysql': { ip: '10.250.0.15', app: { name: 'mysql', serverFirst: [3306] } },
};
const CLUSTER_IPS: Record<string, string> = {
  'bookstore/bookstore': '10.96.0.10',
  'bookstore/bookstore-v1': '10.96.0.11',
  'bookstore/bookstore-v2': '10.96.0.12',
  'bookwarehouse/bookwarehouse': '10.96.0.14',
};
const ENDPOINTS: Record<string, { pods: string[]; port: number; portName: string }> = {
  'bookstore/bookstore': { pods: ['bookstore/bookstore', 'bookstore/bookstore-v2'], port: 14001, portName: 'bookstore-port' },
  'bookstore/bookstore-v1': { pods: ['bookstore/bookstore'], port: 14001, portName: 'bookstore-port' },
  'bookstore/bookstore-v2': { pods: ['bookstore/bookstore-v2'], port: 14001, portName: 'bookstore-port' },
  'bookwarehouse/bookwarehouse': { pods: ['bookwarehouse/bookwarehouse'], port: 14001, portName: 'bookwarehouse-port' },
  'bookwarehouse/mysql': { pods: ['bookwarehouse/mysql'], port: 3306, portName: 'client' },
};

let dir = '';
let mesh = '';
let out = '';
let server: ServerHandle | undefined;
let relay: UnixToTcp | undefined;
let network: PodNetwork | undefined;
const pods = new Map<string, EnvoyPod>();
const logger = memoryLogger('info');

/** The bookstore fixture with ClusterIPs on its Services and Endpoints for the pods' addresses. */
function writeMesh(target: string): void {
  cpSync('fixtures/bookstore', target, { recursive: true });
  for (const file of readdirSync(target)) {
    const path = join(target, file);
    const docs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Json | null);
    let touched = false;
    for (const doc of docs) {
      const key = doc && `${doc.metadata?.namespace}/${doc.metadata?.name}`;
      if (doc?.kind === 'Service' && key && CLUSTER_IPS[key]) {
        doc.spec.clusterIP = CLUSTER_IPS[key];
        touched = true;
      }
    }
    if (touched) writeFileSync(path, docs.filter(Boolean).map((d) => stringify(d)).join('---\n'));
  }
  const endpoints = Object.entries(ENDPOINTS).map(([key, e]) => {
    const [namespace, name] = key.split('/');
    return {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace },
      subsets: [{ addresses: e.pods.map((p) => ({ ip: PODS[p].ip })), ports: [{ name: e.portName, port: e.port, protocol: 'TCP' }] }],
    };
  });
  writeFileSync(join(target, 'endpoints.yaml'), endpoints.map((d) => stringify(d)).join('---\n'));
}

const poll = <T>(what: string, probe: () => Promise<T | string>): Promise<T> => pollFor(what, probe, POLLS, POLL_MS);

/** Asks the app in `pod` to make a call from inside its pod (pod-app.mjs's control socket). */
function fromPod(pod: string, kind: 'http' | 'tcp', args: Json): Promise<Json> {
  const socketPath = join(dir, 'apps', `${pod.replace('/', '_')}.sock`);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/${kind}`, method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body) as Json));
    });
    req.on('error', reject);
    req.end(JSON.stringify(args));
  });
}

const BOOKSTORE = { host: CLUSTER_IPS['bookstore/bookstore'], port: 14001 };
const AS_BOOKBUYER = { host: 'bookstore.bookstore.svc.cluster.local:14001', 'user-agent': 'node-http-client/1.0', 'client-app': 'bookbuyer' };

function buy(pod = 'bookbuyer/bookbuyer', path = '/books-bought', method = 'GET', headers: Json = AS_BOOKBUYER): Promise<Json> {
  return fromPod(pod, 'http', { ...BOOKSTORE, path, method, headers });
}

test.before(async () => {
  if (!envoy || unavailable) return;
  removeStaleNamespaces();
  dir = mkdtempSync(join(tmpdir(), 'smi-sidecars-'));
  chmodSync(dir, 0o755); // Envoy runs as uid 1500 and reads its bootstrap and certificate from here
  const ca = join(dir, 'ca');
  await (await BuiltinCa.init(ca)).close();
  writeFileSync(join(dir, 'trust.pem'), readFileSync(join(ca, 'ca.crt')));
  mesh = join(dir, 'mesh');
  writeMesh(mesh);
  server = await startServer({ paths: [mesh], port: 0, adminPort: 0, watch: true, logger, processMetrics: false, ca: { provider: 'builtin', dir: ca, lifetimeMs: CERT_LIFETIME_MS } });
  out = join(dir, 'out');
  const r = await runCli([mesh, '--ca', ca, '--emit-secrets', '--xds-port', String(server.port), '-o', out]);
  assert.is(r.code, 0, r.stderr);
  relay = await UnixToTcp.start(join(dir, 'xds.sock'), server.port);
  network = PodNetwork.create(`${namespacePrefix()}r`, '10.250.0.1');
  mkdirSync(join(dir, 'apps'));
  for (const [i, [name, spec]] of Object.entries(PODS).entries()) {
    chownSync(join(out, name, 'tls.key'), PROXY_UID, PROXY_UID);
    const podDir = join(dir, 'pods', String(i));
    mkdirSync(podDir, { recursive: true });
    const pod = await EnvoyPod.start({
      name,
      netns: `${namespacePrefix()}${i}`,
      dir: podDir,
      envoyBin: envoy,
      bootstrap: join(out, name, 'bootstrap.yaml'),
      xdsPort: server.port,
      xdsSocket: join(dir, 'xds.sock'),
      uid: PROXY_UID,
      prepare: (netns) => {
        network!.attach(netns, spec.ip, i);
        osmIptables(netns, PROXY_UID);
      },
    });
    pods.set(name, pod);
    await pod.startApp({ ...spec.app, control: join(dir, 'apps', `${name.replace('/', '_')}.sock`) });
  }
  for (const pod of pods.values()) {
    await poll(`${pod.name} has its listeners`, async () => {
      if (!pod.running) throw new Error(`${pod.name}: Envoy exited:\n${pod.envoyLog}`);
      const s = await pod.stats();
      if (!s) return 'no admin yet';
      return (s.get('listener_manager.lds.update_success') ?? 0) >= 1 && s.get('listener_manager.total_listeners_warming') === 0 && s.get('cluster_manager.warming_clusters') === 0
        ? true
        : `lds ${s.get('listener_manager.lds.update_success')}, warming ${s.get('listener_manager.total_listeners_warming')}/${s.get('cluster_manager.warming_clusters')}`;
    });
  }
});

test.after(async () => {
  await Promise.all([...pods.values()].map((p) => p.stop()));
  network?.remove();
  await relay?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

envoyTest(
  "bookbuyer reaches bookstore on its allowed routes; a path, a method or headers its HTTPRouteGroup does not admit are refused by bookstore's sidecar",
  async () => {
    const first = await poll('the first request through both sidecars', async () => {
      const r = await buy();
      return r.status === 200 ? r : `${JSON.stringify(r)}`;
    });
    assert.match(JSON.parse(first.body).from, /^bookstore-v[12]$/);
    assert.is((await buy('bookbuyer/bookbuyer', '/buy-a-book/new')).status, 200);
    // As in OSM, the inbound route configuration holds only the admitted matches, each with its
    // RBAC: a request no admitted match covers finds no route there (404 from Envoy's router,
    // the app never sees it). 403 is for a route admitted to another source (RBAC per route).
    for (const [path, method, headers] of [
      ['/admin', 'GET', AS_BOOKBUYER],
      ['/books-bought', 'POST', AS_BOOKBUYER],
      ['/books-bought', 'GET', { host: AS_BOOKBUYER.host }],
    ] as const) {
      const r = await buy('bookbuyer/bookbuyer', path, method, headers);
      assert.is(r.status, 404, `${method} ${path}: ${JSON.stringify(r)}`);
      assert.not.ok(r.body.includes('"from"'), 'the app did not answer');
    }
  },
  unavailable,
);

envoyTest(
  'bookthief, admitted by nothing, cannot reach bookstore at all: not through the ClusterIP, not at the pod address',
  async () => {
    for (const target of [BOOKSTORE, { host: PODS['bookstore/bookstore'].ip, port: 14001 }]) {
      const r = await fromPod('bookthief/bookthief', 'http', { ...target, path: '/books-bought', headers: AS_BOOKBUYER });
      assert.ok(r.error !== undefined || (r.status !== 200 && r.status !== undefined), `${target.host}: ${JSON.stringify(r)}`);
      assert.not.ok(r.body?.includes('"from"'), 'no app answered');
    }
  },
  unavailable,
);

/** A direct mTLS request from `pod` to bookstore's pod as `identity`'s workload (tls-call.mjs), past the caller's own sidecar. */
function directCall(pod: string, identity: string, path: string): Json {
  const spec = {
    host: PODS['bookstore/bookstore'].ip,
    port: 14001,
    sni: 'bookstore.bookstore.svc.cluster.local',
    cert: join(out, identity, 'tls.crt'),
    key: join(out, identity, 'tls.key'),
    ca: join(dir, 'trust.pem'), // ca/ is private to root: the probe runs as the proxy's uid
    path,
    headers: { 'user-agent': AS_BOOKBUYER['user-agent'], 'client-app': 'bookbuyer' },
  };
  const script = fileURLToPath(new URL('./tls-call.mjs', import.meta.url));
  const r = spawnSync('ip', ['netns', 'exec', pods.get(pod)!.netns, 'setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups', process.execPath, script, JSON.stringify(spec)], { encoding: 'utf8' });
  return JSON.parse(r.stdout || JSON.stringify({ error: r.stderr }));
}

envoyTest(
  "bookstore's sidecar decides on the caller's verified identity: bookbuyer's certificate is let in, bookthief's is not, from the same pod",
  async () => {
    const admitted = directCall('bookthief/bookthief', 'bookbuyer/bookbuyer', '/books-bought');
    assert.is(admitted.status, 200, JSON.stringify(admitted));
    assert.match(admitted.body, /"from":"bookstore-v1"/);
    const refused = directCall('bookthief/bookthief', 'bookthief/bookthief', '/books-bought');
    assert.is(refused.status, undefined, `refused by l4_rbac before HTTP: ${JSON.stringify(refused)}`);
    assert.not.ok(String(refused.partial ?? '').includes('"from"'));
  },
  unavailable,
);

envoyTest(
  'the bookstore TrafficSplit: a few hundred requests land within ±10 points of 50/50',
  async () => {
    const counts = new Map<string, number>();
    const N = 300;
    for (let i = 0; i < N; i++) {
      const r = await buy();
      assert.is(r.status, 200, JSON.stringify(r));
      const from = JSON.parse(r.body).from as string;
      counts.set(from, (counts.get(from) ?? 0) + 1);
    }
    const v1 = ((counts.get('bookstore-v1') ?? 0) * 100) / N;
    console.log(`  (split: ${JSON.stringify(Object.fromEntries(counts))})`);
    assert.ok(v1 >= 40 && v1 <= 60, `v1 ${v1}%`);
  },
  unavailable,
);

envoyTest(
  'the server-first TCP service (mysql) works through the tcp_proxy chain; a source its TCPRoute rule does not admit gets nothing',
  async () => {
    const mysql = { host: PODS['bookwarehouse/mysql'].ip, port: 3306 };
    const ok = await poll('bookwarehouse reads the mysql greeting', async () => {
      const r = await fromPod('bookwarehouse/bookwarehouse', 'tcp', mysql);
      return r.greeting ? r : JSON.stringify(r);
    });
    assert.is(ok.greeting, 'hello from mysql');
    const denied = await fromPod('bookbuyer/bookbuyer', 'tcp', mysql);
    assert.is(denied.greeting, undefined, JSON.stringify(denied));
  },
  unavailable,
);

envoyTest(
  "bookbuyer's sidecar holds the bookstore clusters with the pods' addresses, as EDS gave them (the README shows this session)",
  async () => {
    const pod = pods.get('bookbuyer/bookbuyer')!;
    const clusters = (await pod.admin('/clusters'))!.split('\n').filter((l) => /^bookstore\/.*::(10\.250|observability)/.test(l) && /::(health_flags|cx_total|rq_total)::|observability/.test(l));
    const hosts = (name: string): string[] => [...new Set(clusters.filter((l) => l.startsWith(`${name}::10.`)).map((l) => l.split('::')[1]))];
    assert.equal(hosts('bookstore/bookstore-v1|14001'), ['10.250.0.11:14001']);
    assert.equal(hosts('bookstore/bookstore-v2|14001'), ['10.250.0.12:14001']);
    const dump = JSON.parse((await pod.admin('/config_dump?resource=dynamic_active_clusters'))!) as { configs: Json[] };
    const listeners = JSON.parse((await pod.admin('/config_dump?resource=dynamic_listeners'))!) as { configs: Json[] };
    const routes = JSON.parse((await pod.admin('/config_dump?resource=dynamic_route_configs'))!) as { configs: Json[] };
    console.log(
      [
        '  $ curl -s localhost:15000/config_dump?resource=dynamic_listeners   # name and version of each',
        ...listeners.configs.map((c) => `  ${c.name}  ${c.active_state.version_info}`),
        '  $ curl -s localhost:15000/config_dump?resource=dynamic_route_configs',
        ...routes.configs.map((c) => `  ${c.route_config.name}  ${c.version_info}`),
        '  $ curl -s localhost:15000/config_dump?resource=dynamic_active_clusters',
        ...dump.configs.map((c) => `  ${c.cluster.name}  ${c.version_info}`),
        '  $ curl -s localhost:15000/clusters | grep -E "health_flags|cx_total|rq_total"',
        ...clusters.filter((l) => !l.includes('observability')).map((l) => `  ${l}`),
      ].join('\n'),
    );
  },
  unavailable,
);

envoyTest(
  'certificates rotating every few seconds (SDS pushes to both sidecars) drop no request',
  async () => {
    const secret = (pod: string, name: string): Promise<number> =>
      pods.get(pod)!.stats().then((s) => s?.get(`sds.${name.replaceAll(':', '_')}.update_success`) ?? 0);
    const before = { buyer: await secret('bookbuyer/bookbuyer', 'service-cert:bookbuyer/bookbuyer'), store: await secret('bookstore/bookstore', 'service-cert:bookstore/bookstore') };
    const failures: string[] = [];
    let sent = 0;
    // Until both sidecars have taken two new certificates each, bounded by the number of requests.
    while ((await secret('bookbuyer/bookbuyer', 'service-cert:bookbuyer/bookbuyer')) < before.buyer + 2 || (await secret('bookstore/bookstore', 'service-cert:bookstore/bookstore')) < before.store + 2) {
      assert.ok(sent < 20_000, `no two rotations after ${sent} requests`);
      const r = await buy();
      sent++;
      if (r.status !== 200) failures.push(JSON.stringify(r));
    }
    console.log(`  (${sent} requests across two certificate rotations of each side)`);
    assert.equal(failures, []);
  },
  unavailable,
);

envoyTest(
  'editing the split to 100/0 under --watch moves all traffic to v1, with no failed request on the way',
  async () => {
    const split = join(mesh, 'traffic-split-50-50.yaml');
    writeFileSync(split, readFileSync(split, 'utf8').replace(/weight: 50(\s+- service: bookstore-v2[^\n]*\n\s+)weight: 50/, 'weight: 100$1weight: 0'));
    let streak = 0;
    let sent = 0;
    const failures: string[] = [];
    while (streak < 50) {
      assert.ok(sent < 5000, `still reaching v2 after ${sent} requests`);
      const r = await buy();
      sent++;
      if (r.status !== 200) {
        failures.push(JSON.stringify(r));
        continue;
      }
      streak = JSON.parse(r.body).from === 'bookstore-v1' ? streak + 1 : 0;
    }
    console.log(`  (all traffic on v1 after ${sent - 50} requests)`);
    assert.equal(failures, []);
  },
  unavailable,
);

test.run();
