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
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { CLUSTER_IPS, PODS, poll, podsUnavailable, PROXY_UID, startBookstorePods, type BookstorePods } from './bookstore-pods.ts';
import type { EnvoyPod } from './netns.ts';
import { envoy, envoyTest } from './support.ts';
import type { LooseJson as Json } from '../../src/shared/json.ts';

const unavailable = podsUnavailable;
/** Workload certificates served over SDS live this long (renewed at 2/3 of it): several rotations happen during the suite. */
const CERT_LIFETIME_MS = 6_000;

let bookstore: BookstorePods | undefined;
let dir = '';
let mesh = '';
let out = '';
let pods: ReadonlyMap<string, EnvoyPod> = new Map();

function fromPod(pod: string, kind: 'http' | 'tcp', args: Json): Promise<Json> {
  return bookstore!.fromPod(pod, kind, args);
}

const BOOKSTORE = { host: CLUSTER_IPS['bookstore/bookstore'], port: 14001 };
const AS_BOOKBUYER = { host: 'bookstore.bookstore.svc.cluster.local:14001', 'user-agent': 'node-http-client/1.0', 'client-app': 'bookbuyer' };

function buy(pod = 'bookbuyer/bookbuyer', path = '/books-bought', method = 'GET', headers: Json = AS_BOOKBUYER): Promise<Json> {
  return fromPod(pod, 'http', { ...BOOKSTORE, path, method, headers });
}

test.before(async () => {
  if (!envoy || unavailable) return;
  bookstore = await startBookstorePods(envoy, CERT_LIFETIME_MS);
  ({ dir, mesh, out, pods } = bookstore);
});

test.after(async () => {
  await bookstore?.stop();
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
