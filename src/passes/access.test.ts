import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AccessRule } from './access.ts';
import { ruleAdmitsPort } from './access.ts';
import { deploy, plan, routes, svc, target, tcpRoute } from './test-mesh.ts';

const base = [deploy('store', 'store'), svc('store', 'store', ['80', '5432/tcp:5433']), deploy('buy', 'buyer'), deploy('buy', 'thief')];

function rulesOf(docs: readonly string[]) {
  const planned = plan(docs);
  return { ...planned, rules: planned.mesh.access.rules };
}

test('a rule admits the named matches of a group, once each and in the group order; every match when none is named', () => {
  const { rules, names } = rulesOf([
    ...base,
    routes('store', 'r', ['/a', '/b', '/c']),
    target('store', 't', 'store', ['buy/buyer'], ['{kind: HTTPRouteGroup, name: r, matches: [c, a, c]}']),
    target('store', 'all', 'store', ['buy/thief'], ['{kind: HTTPRouteGroup, name: r}']),
  ]);
  assert.equal(names, []);
  const [named, all] = rules;
  assert.equal(named.http.map((h) => [h.match.name, h.index]), [['c', 2], ['a', 0]], 'as listed, the repeat dropped');
  assert.equal(all.http.map((h) => h.match.name), ['a', 'b', 'c']);
});

test('sources and destination are service account keys, sources sorted and unique; indexes by source and destination', () => {
  const { rules, mesh } = rulesOf([
    ...base,
    routes('store', 'r', ['/a']),
    target('store', 't', 'store', ['buy/thief', 'buy/buyer', 'buy/thief'], ['{kind: HTTPRouteGroup, name: r}']),
  ]);
  assert.is(rules[0].destination, 'store/store');
  assert.equal(rules[0].sources, ['buy/buyer', 'buy/thief']);
  assert.equal([...mesh.access.bySource.keys()].sort(), ['buy/buyer', 'buy/thief']);
  assert.ok(mesh.access.byDestination.get('store/store')![0] === rules[0]);
});

test('refused rules and references say why, and admit nothing', () => {
  const { rules, names } = rulesOf([
    ...base,
    routes('store', 'r', ['/a']),
    target('store', 'missing', 'store', ['buy/buyer'], ['{kind: HTTPRouteGroup, name: nowhere}', '{kind: HTTPRouteGroup, name: r, matches: [nope]}']),
    target('store', 'foreign', 'store', ['buy/buyer'], ['{kind: HTTPRouteGroup, name: r}']).replace('name: store, namespace: store}', 'name: store, namespace: elsewhere}'),
  ]);
  assert.equal(names, ['missing-route-group', 'unknown-match-name', 'target-namespace-mismatch']);
  assert.is(rules.length, 1, 'the target in the wrong namespace makes no rule');
  assert.equal(rules[0].http, []);
});

test('a source that is not a ServiceAccount is refused; the others stay', () => {
  const doc = target('store', 't', 'store', ['buy/buyer', 'buy/thief'], ['{kind: TCPRoute, name: db}']).replace('{kind: ServiceAccount, name: thief', '{kind: Group, name: thief');
  const { rules, names } = rulesOf([...base, tcpRoute('store', 'db', [5432]), doc]);
  assert.equal(names, ['identity-kind']);
  assert.equal(rules[0].sources, ['buy/buyer']);
});

function rule(http: number, tcp: (readonly number[])[]): AccessRule {
  return { http: Array(http).fill({}), tcp: tcp.map((ports) => ({ ports })) } as unknown as AccessRule;
}

test('ruleAdmitsPort: HTTP and gRPC need an HTTP match; TCP a TCPRoute on the port or target port, or one with no ports', () => {
  assert.ok(ruleAdmitsPort(rule(1, []), 'http', 80, 8080));
  assert.ok(ruleAdmitsPort(rule(1, []), 'grpc', 80, 8080));
  assert.not.ok(ruleAdmitsPort(rule(0, [[]]), 'http', 80, 8080), 'a TCPRoute admits no HTTP');
  assert.not.ok(ruleAdmitsPort(rule(1, []), 'tcp', 5432, 5432), 'an HTTP match admits no TCP');
  assert.ok(ruleAdmitsPort(rule(0, [[5432]]), 'tcp', 5432, 5433));
  assert.ok(ruleAdmitsPort(rule(0, [[5433]]), 'tcp', 5432, 5433));
  assert.not.ok(ruleAdmitsPort(rule(0, [[9999]]), 'tcp', 5432, 5433));
  assert.ok(ruleAdmitsPort(rule(0, [[9999], []]), 'tcp-server-first', 5432, 5433));
});

test.run();
