import { EmitSession } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitProxy } from './index.ts';
import { staticBootstrap } from './static-bootstrap.ts';
import { goldenPlan, wideMesh } from './golden-plans.ts';
import { resourceName, type ProxyConfig } from './types.ts';
import type { LooseJson as Json } from '../shared/json.ts';

const session = new EmitSession();

function walk(value: unknown, visit: (key: string, v: unknown) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v);
      walk(v, visit);
    }
  }
}

const plans = {
  bookbuyer: () => goldenPlan('bookstore', 'bookbuyer/bookbuyer'),
  bookstore: () => goldenPlan('bookstore', 'bookstore/bookstore'),
  frontend: () => goldenPlan('multi-port', 'shop/frontend'),
  etcd: () => goldenPlan('headless-statefulset', 'data/etcd'),
  wide: () => wideMesh(12)[0],
};

for (const [label, plan] of Object.entries(plans)) {
  test(`${label}: no ADS reference is left; every listener, cluster and secret is there, by name`, () => {
    const proxy = emitProxy(session, plan(), {});
    const out = staticBootstrap(proxy) as Json;
    walk(out, (k) => assert.ok(!['ads', 'rds', 'sds_config', 'eds_cluster_config', 'ads_config'].includes(k), `no ${k}`));
    assert.equal(Object.keys(out), ['node', 'static_resources', 'admin']);
    assert.equal(out.node, proxy.bootstrap.node);
    const sr = out.static_resources;
    assert.equal(sr.listeners.map((l: Json) => l.name), proxy.resources.listeners.map(resourceName));
    assert.equal(sr.clusters.map((c: Json) => c.name), proxy.resources.clusters.map(resourceName), 'no xDS cluster');
    assert.equal(sr.secrets.map((s: Json) => s.name), proxy.resources.secrets.map(resourceName));
    for (const list of [sr.listeners, sr.clusters, sr.secrets]) for (const r of list) assert.is(r['@type'], undefined);
  });
}

test('an HCM carries its route configuration inline; an EDS cluster its assignment, as STATIC', () => {
  const proxy = emitProxy(session, plans.bookbuyer(), {});
  const out = staticBootstrap(proxy) as Json;
  const routes = new Map(proxy.resources.routes.map((r) => [resourceName(r), r]));
  let inlined = 0;
  walk(out, (k, v) => {
    if (k !== 'route_config') return;
    const { '@type': _t, ...expected } = routes.get((v as Json).name)!;
    assert.equal(v, expected);
    inlined++;
  });
  assert.ok(inlined > 0);
  const cla = new Map(proxy.resources.endpoints.map((r) => [resourceName(r), r]));
  for (const [i, c] of (out.static_resources.clusters as Json[]).entries()) {
    const emitted = proxy.resources.clusters[i] as Json;
    if (emitted.type !== 'EDS') continue;
    assert.is(c.type, 'STATIC');
    const { '@type': _t, ...expected } = cla.get(c.name)!;
    assert.equal(c.load_assignment, expected);
    assert.equal(Object.keys(c).indexOf('load_assignment'), Object.keys(emitted).filter((k) => k !== '@type').indexOf('eds_cluster_config'), 'in the place of eds_cluster_config');
  }
});

test('a reference the proxy does not resolve is a compiler bug: it throws, naming it', () => {
  const proxy = emitProxy(session, plans.bookbuyer(), {});
  const broken: ProxyConfig = { ...proxy, resources: { ...proxy.resources, routes: [] } };
  assert.throws(() => staticBootstrap(broken), /route configuration rds-outbound\.14001 is referenced but not emitted/);
  const noCla: ProxyConfig = { ...proxy, resources: { ...proxy.resources, endpoints: [] } };
  assert.throws(() => staticBootstrap(noCla), /ClusterLoadAssignment .* is referenced but not emitted/);
});

test('the emitted resources are not changed by the transform', () => {
  const proxy = emitProxy(session, plans.bookbuyer(), {});
  const before = JSON.stringify(proxy);
  staticBootstrap(proxy);
  assert.is(JSON.stringify(proxy), before);
});

test.run();
