import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../compiler/compile.ts';
import type { PlannedMesh } from '../passes/plan.ts';
import { explain, ExplainInputError, type ExplainQuery } from './explain.ts';

function meshOf(...paths: string[]): PlannedMesh {
  const r = compilePaths(paths, { analyseOnly: true });
  assert.ok(r.ok, JSON.stringify(r.diagnostics.filter((d) => d.level === 'error')));
  return r.mesh as PlannedMesh;
}

const bookstore = meshOf('fixtures/bookstore');
const AS_BOOKBUYER: ExplainQuery['headers'] = [
  ['user-agent', 'node-http-client/1.0'],
  ['client-app', 'bookbuyer'],
];

function ask(mesh: PlannedMesh, from: string, to: string, path = '/', method = 'GET', headers = AS_BOOKBUYER) {
  const [svc, rest] = to.split('.');
  const [ns, port] = rest.split(':');
  return explain(mesh, { from, to: { service: svc, namespace: ns, ...(port ? { port: Number(port) } : {}) }, path, method, headers });
}

test('allowed: the route, the TrafficTarget rule and match with their lines, the Envoy names, the split backends and weights', () => {
  const e = ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore', '/books-bought');
  assert.is(e.verdict, 'allowed');
  assert.equal(e.outbound, {
    listener: 'outbound-listener',
    filterChain: 'outbound_*/*_14001_http',
    routeConfig: 'rds-outbound.14001',
    virtualHost: 'outbound_virtual-host|bookstore.bookstore.svc.cluster.local',
    split: { kind: 'TrafficSplit', namespace: 'bookstore', name: 'bookstore-split', file: 'fixtures/bookstore/traffic-split-50-50.yaml', line: 9 },
  });
  assert.equal(e.backends.map((b) => [b.cluster, b.weight, b.workloads.map((w) => w.workload)]), [
    ['bookstore/bookstore-v1|14001', 50, ['bookstore/bookstore']],
    ['bookstore/bookstore-v2|14001', 50, ['bookstore/bookstore-v2']],
  ]);
  const v1 = e.backends[0].workloads[0];
  assert.is(v1.filterChain, 'inbound_bookstore/bookstore-v1_14001_http');
  assert.equal(v1.networkRbac, { filter: 'l4_rbac', policies: ['bookstore'] });
  assert.is(v1.route, 'bookstore/bookstore-service-routes/books-bought|GET');
  assert.equal(v1.routeRbac, { filter: 'envoy.filters.http.rbac', policy: 'rbac-for-route' });
  assert.equal(
    v1.policies.map((p) => `${p.kind} ${p.name} ${p.detail} ${p.file}:${p.line}`),
    [
      'TrafficTarget bookstore rule 0 (HTTPRouteGroup bookstore-service-routes) fixtures/bookstore/traffic-access-v1.yaml:12',
      'HTTPRouteGroup bookstore-service-routes match books-bought fixtures/bookstore/traffic-access-v1.yaml:29',
    ],
  );
});

test('paths are RE2 full matches on the path without its query string, as Envoy matches safe_regex', () => {
  assert.is(ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore', '/buy-a-book/new?n=1').verdict, 'allowed');
  assert.is(ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore', '/books-bought/x').verdict, 'denied');
  assert.is(ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore', '/x/books-bought').verdict, 'denied');
});

test('denied with 404: a method, path or header no admitted match covers, each miss said', () => {
  const post = ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore', '/books-bought', 'POST');
  assert.is(post.verdict, 'denied');
  assert.equal(post.backends.flatMap((b) => b.workloads.map((w) => w.outcome)), ['404', '404']);
  assert.match(post.reason, 'method POST is not GET');
  const noHeader = ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore', '/books-bought', 'GET', []);
  assert.is(noHeader.verdict, 'denied');
  assert.match(noHeader.reason, 'header user-agent is missing');
  const wrongHeader = ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore', '/books-bought', 'GET', [['user-agent', 'curl/8'], ['client-app', 'bookbuyer']]);
  assert.match(wrongHeader.reason, 'header user-agent: "curl/8" does not match');
});

test('denied at the source: a workload no TrafficTarget names has no outbound filter chain; the TrafficTargets that exist are listed', () => {
  const e = ask(bookstore, 'bookthief/bookthief', 'bookstore.bookstore', '/books-bought');
  assert.is(e.verdict, 'denied');
  assert.is(e.outbound, undefined);
  assert.match(e.reason, 'no TrafficTarget names bookthief/bookthief as a source');
  assert.equal(e.policies.map((p) => `${p.namespace}/${p.name}`), ['bookstore/bookstore', 'bookstore/bookstore-v2']);
});

test('TCP: the TCPRoute admits bookwarehouse to mysql, not bookbuyer', () => {
  const ok = ask(bookstore, 'bookwarehouse/bookwarehouse', 'mysql.bookwarehouse');
  assert.is(ok.verdict, 'allowed');
  assert.is(ok.outbound?.filterChain, 'outbound_bookwarehouse/mysql_3306_tcp');
  assert.equal(ok.backends[0].workloads[0].policies.map((p) => `${p.kind} ${p.name} ${p.detail}`), ['TrafficTarget mysql TCPRoute mysql', 'TCPRoute mysql ports 3306']);
  assert.is(ask(bookstore, 'bookbuyer/bookbuyer', 'mysql.bookwarehouse').verdict, 'denied');
});

test('a headless service called by its only workload: its own address over loopback, which no sidecar sees', () => {
  const self = ask(bookstore, 'bookwarehouse/mysql', 'mysql.bookwarehouse');
  assert.is(self.verdict, 'allowed');
  assert.match(self.reason, /loopback/);
  assert.equal(self.backends, []);
  // A ClusterIP service is not: its calls leave through the sidecar, so policy applies (bookbuyer → mysql above).
  assert.is(ask(bookstore, 'bookstore/bookstore', 'bookstore.bookstore').verdict, 'denied');
});

test('denied with 403: the match is admitted on the route, to another source only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-explain-'));
  try {
    cpSync('fixtures/bookstore', dir, { recursive: true });
    writeFileSync(
      join(dir, 'thief.yaml'),
      `kind: TrafficTarget
apiVersion: access.smi-spec.io/v1alpha3
metadata: {name: thief-buys, namespace: bookstore}
spec:
  destination: {kind: ServiceAccount, name: bookstore, namespace: bookstore}
  rules:
  - {kind: HTTPRouteGroup, name: bookstore-service-routes, matches: [buy-a-book]}
  sources:
  - {kind: ServiceAccount, name: bookthief, namespace: bookthief}
`,
    );
    const mesh = meshOf(dir);
    const e = ask(mesh, 'bookthief/bookthief', 'bookstore.bookstore', '/books-bought');
    assert.is(e.verdict, 'denied');
    const [v1, v2] = e.backends.map((b) => b.workloads[0]);
    assert.is(v1.outcome, '403');
    assert.is(v1.route, 'bookstore/bookstore-service-routes/books-bought|GET');
    assert.equal(v1.policies.map((p) => p.name), ['bookstore', 'bookstore-service-routes']);
    assert.is(v2.outcome, 'refused', 'bookstore-v2 admits only bookbuyer: its l4_rbac refuses');
    const buy = ask(mesh, 'bookthief/bookthief', 'bookstore.bookstore', '/buy-a-book/new');
    assert.is(buy.verdict, 'denied', 'half the split (v2) refuses');
    assert.is(buy.backends[0].workloads[0].allowed, true);
    assert.is(buy.backends[0].workloads[0].policies[0].name, 'thief-buys');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('permissive mode: any caller, any route, no RBAC', () => {
  const mesh = meshOf('fixtures/bookstore-permissive');
  const e = ask(mesh, 'bookthief/bookthief', 'bookstore.bookstore', '/anything', 'DELETE', []);
  assert.is(e.verdict, 'allowed');
  assert.is(e.backends[0].workloads[0].networkRbac, undefined);
  assert.is(e.backends[0].workloads[0].route, '*');
});

test('input errors: an unknown workload, service or port is an ExplainInputError naming what exists', () => {
  assert.throws(() => ask(bookstore, 'bookbuyer/nobody', 'bookstore.bookstore'), (e: unknown) => e instanceof ExplainInputError && /no workload bookbuyer\/nobody .*bookthief\/bookthief/.test(e.message));
  assert.throws(() => ask(bookstore, 'bookbuyer/bookbuyer', 'nothing.bookstore'), (e: unknown) => e instanceof ExplainInputError && /no service nothing\.bookstore/.test(e.message));
  assert.throws(() => ask(bookstore, 'bookbuyer/bookbuyer', 'bookstore.bookstore:80'), (e: unknown) => e instanceof ExplainInputError && /no port 80 \(ports: 14001\)/.test(e.message));
});

test.run();
