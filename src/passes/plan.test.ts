import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ProxyPlan } from '../ir/proxy-plan.ts';
import { build, deploy, PassMemo, permissive, plan, routes, split, svc, target, tcpRoute } from './test-mesh.ts';

const mesh = [
  deploy('store', 'store-v1', 'store'),
  deploy('store', 'store-v2', 'store'),
  svc('store', 'store', ['80']),
  svc('store', 'store-v1', ['80', '5432/tcp:5433']),
  svc('store', 'store-v2', ['80']),
  deploy('buy', 'buyer'),
  deploy('buy', 'buyer-2', 'buyer'),
  deploy('buy', 'thief'),
  routes('store', 'r', ['/b', '/a']),
  routes('store', 'q', ['/q']),
  tcpRoute('store', 'db', [5432]),
  split('store', 'canary', 'store', ['store-v1=75', 'store-v2=25']),
];

const proxy = (plans: readonly ProxyPlan[], workload: string) => plans.find((p) => p.workload === workload)!;
const outboundOf = (p: ProxyPlan) => p.outbound.map((o) => `${o.service.name}:${o.port}`);

test('restrictive: a source may call what its rules admit, by protocol; reaching a split backend reaches its apex, whose traffic is split', () => {
  const { mesh: planned } = plan([...mesh, target('store', 'web', 'store', ['buy/buyer'], ['{kind: HTTPRouteGroup, name: r}'])]);
  const buyer = proxy(planned.proxies, 'buyer');
  assert.equal(outboundOf(buyer), ['store:80', 'store-v1:80', 'store-v2:80'], 'no TCP port: no TCPRoute admits it');
  const apex = buyer.outbound[0];
  assert.ok(apex.split);
  assert.equal(apex.backends, [{ cluster: 'store/store-v1|80', weight: 75 }, { cluster: 'store/store-v2|80', weight: 25 }]);
  assert.equal(buyer.upstreams.map((u) => u.name), ['store/store-v1|80', 'store/store-v2|80'], 'each cluster once, by name');
  assert.equal(buyer.upstreams[0].identities, ['store.store.cluster.local']);
  assert.equal(outboundOf(proxy(planned.proxies, 'thief')), [], 'restrictive by default');
  assert.ok(proxy(planned.proxies, 'buyer-2').outbound === buyer.outbound, 'one outbound plan per service account');
  assert.ok(buyer.outboundLayout.chains.length > 0 && buyer.outboundLayout.chains.every((c) => (c.kind === 'service' ? [c.service] : c.services).every((o) => buyer.outbound.includes(o))));
});

test('restrictive inbound: policies by target name, routes in group then author order with the principals of every target admitting them', () => {
  const { mesh: planned } = plan([
    ...mesh,
    target('store', 'z-web', 'store', ['buy/buyer'], ['{kind: HTTPRouteGroup, name: r, matches: [a]}', '{kind: HTTPRouteGroup, name: q}']),
    target('store', 'a-web', 'store', ['buy/thief'], ['{kind: HTTPRouteGroup, name: r}']),
    target('store', 'db', 'store', ['buy/thief'], ['{kind: TCPRoute, name: db}']),
  ]);
  const v1 = proxy(planned.proxies, 'store-v1');
  const http = v1.inbound.find((p) => p.service.name === 'store-v1' && p.port === 80)!;
  assert.equal(http.policies!.map((p) => [p.name, p.principals]), [
    ['a-web', ['thief.buy.cluster.local']],
    ['z-web', ['buyer.buy.cluster.local']],
  ]);
  assert.equal(http.routes.map((r) => [r.name, r.principals]), [
    ['store/q/q', ['buyer.buy.cluster.local']],
    ['store/r/b', ['thief.buy.cluster.local']],
    ['store/r/a', ['buyer.buy.cluster.local', 'thief.buy.cluster.local']],
  ]);
  assert.equal(http.apexes, [{ service: { namespace: 'store', name: 'store' }, port: 80 }], 'the apex Host is served too');
  const tcp = v1.inbound.find((p) => p.port === 5432)!;
  assert.is(tcp.targetPort, 5433);
  assert.equal(tcp.policies!.map((p) => p.name), ['db']);
  assert.equal(tcp.routes, []);
});

test('permissive: every proxy may call every service and shares one outbound plan; inbound admits anyone on one route', () => {
  const { mesh: planned } = plan([permissive, ...mesh]);
  const [first, ...rest] = planned.proxies;
  assert.equal(outboundOf(first), ['store:80', 'store-v1:80', 'store-v1:5432', 'store-v2:80']);
  for (const p of rest) assert.ok(p.outbound === first.outbound && p.outboundLayout === first.outboundLayout && p.upstreams === first.upstreams);
  const http = proxy(planned.proxies, 'store-v1').inbound.find((p) => p.port === 80)!;
  assert.is(http.policies, undefined);
  assert.equal(http.routes, [{ name: '*' }]);
});

test('overlapping filter chains are reported once per compile however many proxies share them', () => {
  const clash = (name: string) => svc('store', name, ['80'], ', clusterIP: 10.96.0.10');
  const { names, diagnostics } = plan([permissive, ...mesh, clash('one'), clash('two'), deploy('store', 'one'), deploy('store', 'two')]);
  assert.equal(names.filter((n) => n === 'filter-chain-overlap'), ['filter-chain-overlap']);
  assert.match(diagnostics.find((d) => d.code === 'SMI3008')!.message, 'store/one and store/two both claim 10.96.0.10:80');
});

test('with a memo, an unchanged mesh reuses every plan; an edit re-plans only what read what it changed', () => {
  const memo = new PassMemo();
  const webTarget = (source: string) => target('store', 'web', 'store', [source], ['{kind: HTTPRouteGroup, name: r}']);
  const built = build([...mesh, webTarget('buy/buyer')]);
  const first = plan(built, memo).mesh.proxies;
  const again = plan(built, memo).mesh.proxies;
  assert.equal([memo.plan.planned, memo.plan.reused > 0], [0, true], 'nothing planned again');
  assert.ok(again.every((p, i) => p === first[i]), 'the very same plan objects');

  const reparsed = plan([...mesh, webTarget('buy/buyer')], memo).mesh.proxies;
  assert.ok(memo.plan.planned > 0, 'fresh objects: planned again');
  assert.ok(reparsed.every((p, i) => p === first[i]), 'but equal plans are handed back as the previous objects');

  const edited = plan([...mesh, webTarget('buy/thief')], memo).mesh.proxies;
  assert.ok(memo.plan.reused > 0 && memo.plan.planned > 0);
  assert.ok(proxy(edited, 'thief') !== proxy(first, 'thief'));
  assert.equal(outboundOf(proxy(edited, 'thief')), ['store:80', 'store-v1:80', 'store-v2:80']);
  assert.equal(outboundOf(proxy(edited, 'buyer')), []);
});

test.run();
