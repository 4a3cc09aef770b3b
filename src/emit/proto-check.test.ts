import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { decodeToProtoJson, encodeProtoJson } from '../envoy/protos.ts';
import { checkProtos, emitProxy } from './index.ts';
import { protoProblem } from './proto-check.ts';
import { deploy, permissive, svc } from '../passes/test-mesh.ts';
import { goldenFixtures, goldenPlan, goldenPlans, plannedProxies, wideMesh } from './golden-plans.ts';
import { XDS_KINDS, type ProxyConfig } from './types.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

/** Every fixture's plans; address-less HTTP and TCP service ports sharing ports; a mesh of 50 services. */
const ALL_PLANS = [
  ...goldenFixtures().flatMap(goldenPlans),
  ...plannedProxies([
    permissive,
    ...['cart', 'catalog', 'legacy'].flatMap((name) => [svc('shop', name, [name === 'legacy' ? '80/tcp' : '80', '5432/tcp']), deploy('shop', name)]),
  ]),
  wideMesh(50)[0],
];
const bookbuyer = goldenPlan('bookstore', 'bookbuyer/bookbuyer');

test('every resource of every test plan encodes, decodes and re-encodes under the real Envoy protos', () => {
  for (const plan of ALL_PLANS) {
    const bag = new DiagnosticBag();
    const proxy = emitProxy(session, plan, {});
    checkProtos(session.protoCheck, proxy, bag);
    assert.equal(bag.items, [], `${proxy.nodeId}: ${bag.items.map((d) => d.message).join('\n')}`);
  }
});

test('independently of the check caches: a full encode of each resource round-trips', () => {
  for (const plan of ALL_PLANS) {
    const proxy = emitProxy(session, plan, {});
    for (const kind of XDS_KINDS) {
      for (const resource of proxy.resources[kind]) {
        const type = resource['@type'];
        const bytes = encodeProtoJson(type, resource);
        assert.equal(encodeProtoJson(type, decodeToProtoJson(type, bytes)), bytes);
      }
    }
    encodeProtoJson('envoy.config.bootstrap.v3.Bootstrap', proxy.bootstrap);
  }
});

function withBrokenListener(proxy: ProxyConfig, broken: Record<string, unknown>): ProxyConfig {
  return { ...proxy, resources: { ...proxy.resources, listeners: [...proxy.resources.listeners, broken as never] } };
}

test('a resource the protos reject becomes SMI9001, with the resource and the reason; never a throw', () => {
  const proxy = withBrokenListener(emitProxy(session, bookbuyer, {}), {
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
    name: 'broken-listener',
    traffic_direction: 'SIDEWAYS',
  });
  const bag = new DiagnosticBag();
  checkProtos(session.protoCheck, proxy, bag);
  assert.is(bag.items.length, 1);
  const [d] = bag.items;
  assert.is(d.code, 'SMI9001');
  assert.is(d.level, 'error');
  assert.match(d.message, 'envoy.config.listener.v3.Listener broken-listener (proxy bookbuyer/bookbuyer)');
  assert.match(d.message, 'unknown enum value: "SIDEWAYS"');
});

test('nested mistakes are found too: unknown field inside an Any, unknown Any type, bad string', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const tcp = (config: Record<string, unknown>) => ({
    name: 'l',
    filter_chains: [{ filters: [{ name: 'tcp_proxy', typed_config: config }] }],
  });
  const T = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
  assert.is(protoProblem(session.protoCheck, L, tcp({ '@type': T, stat_prefix: 'x', cluster: 'c' })), undefined);
  assert.match(protoProblem(session.protoCheck, L, tcp({ '@type': T, stat_prefix: 'x', clusterr: 'c' })) ?? '', 'unknown field: "clusterr"');
  assert.match(protoProblem(session.protoCheck, L, tcp({ '@type': 'type.googleapis.com/no.Such' })) ?? '', /no such type/i);
  assert.match(protoProblem(session.protoCheck, L, tcp({ '@type': T, stat_prefix: 'bad\uD800', cluster: 'c' })) ?? '', 'unpaired high surrogate');
  assert.match(protoProblem(session.protoCheck, L, { name: 'l', address: { socket_address: { address: 'a', port_value: 70000000000 } } }) ?? '', 'out of range');
});

test('a valid skeleton does not hide a broken string: same shape, one well-formed and one not', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  assert.is(protoProblem(session.protoCheck, L, { name: 'fine', stat_prefix: 'fine' }), undefined);
  assert.ok(protoProblem(session.protoCheck, L, { name: 'fine', stat_prefix: '\uDC00' }));
});

test('strings are judged as protojson judges them: pairs pass, every kind of lone surrogate fails, in values and map keys', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const RBAC = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
  const withKey = (key: string) => ({
    name: 'k',
    filter_chains: [{ filters: [{ name: 'rbac', typed_config: { '@type': RBAC, stat_prefix: 'r', rules: { policies: { [key]: { permissions: [{ any: true }], principals: [{ any: true }] } } } } }] }],
  });
  const texts = ['plain', 'caf\u00e9', '\uD83D\uDE00', 'a\uD83D\uDE00b', '\uD800', 'a\uDBFF', '\uDC00z', '\uDE00\uD83D', 'x\uD83D\uD83D\uDE00', '\uD83D\uDE00\uDE00'];
  let rejected = 0;
  for (const text of texts) {
    const expected = protoProblemOfFullEncode(L, { name: 'fine', stat_prefix: text });
    if (expected !== undefined) rejected++;
    assert.is(protoProblem(session.protoCheck, L, { name: 'fine', stat_prefix: text }) === undefined, expected === undefined, JSON.stringify(text));
    assert.is(protoProblem(session.protoCheck, L, withKey(text)) === undefined, protoProblemOfFullEncode(L, withKey(text)) === undefined, `key ${JSON.stringify(text)}`);
  }
  assert.is(rejected, 6, 'the last six strings hold a lone surrogate');
});

test('numbers and booleans in a skeleton are judged as protojson judges them (valid, out of range, fractional, wrong type)', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const values = [0, -0, 1, 65535, 4294967295, 4294967296, -1, 1.5, 1e21, 2 ** 53, true, false];
  let rejected = 0;
  for (const value of values) {
    for (const json of [
      { name: 'n', address: { socket_address: { address: 'a', port_value: value } } }, // uint32
      { name: 'n', continue_on_listener_filters_timeout: value }, // bool
      { name: 'n', address: { socket_address: { address: 'a', port_value: 1, ipv4_compat: value } } }, // bool, nested
    ]) {
      const expected = protoProblemOfFullEncode(L, json);
      if (expected !== undefined) rejected++;
      assert.is(protoProblem(session.protoCheck, L, json) === undefined, expected === undefined, JSON.stringify(json));
    }
  }
  assert.ok(rejected > 10, 'some of them are rejected');
});

/** What a plain protojson encode (no skeleton, no cache) says of `json`. */
function protoProblemOfFullEncode(typeUrl: string, json: Record<string, unknown>): string | undefined {
  try {
    encodeProtoJson(typeUrl, json);
    return undefined;
  } catch (err) {
    return String(err);
  }
}

test('repeated elements are checked once per distinct shape, and a broken one among many is still found', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const chain = (i: number) => ({ name: `chain-${i}`, filters: [{ name: `f${i}` }] });
  const chains = Array.from({ length: 20 }, (_, i) => chain(i));
  assert.is(protoProblem(session.protoCheck, L, { name: 'many', filter_chains: chains }), undefined);
  const broken = [...chains.slice(0, 13), { ...chain(13), filterz: [] }, ...chains.slice(14)];
  assert.match(protoProblem(session.protoCheck, L, { name: 'many', filter_chains: broken }) ?? '', 'unknown field: "filterz"');
  const badEnum = { name: 'x', listener_filters: [{ name: 'a' }, { name: 'b', typed_config: { '@type': 'type.googleapis.com/no.Such' } }] };
  assert.match(protoProblem(session.protoCheck, L, badEnum) ?? '', /no such type/i);
});

test('a value with no exact JSON text is judged as written, not by its skeleton', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  assert.is(protoProblem(session.protoCheck, L, { name: 'n', address: { socket_address: { address: 'a', port_value: 1 } } }), undefined);
  assert.ok(protoProblem(session.protoCheck, L, { name: 'n', address: { socket_address: { address: 'a', port_value: Number.NaN } } }));
});

test('a resource in the wrong list is reported', () => {
  const proxy = emitProxy(session, bookbuyer, {});
  const misplaced = { ...proxy, resources: { ...proxy.resources, listeners: proxy.resources.clusters } };
  const bag = new DiagnosticBag();
  checkProtos(session.protoCheck, misplaced, bag);
  assert.ok(bag.items.length > 0);
  assert.match(bag.items[0].message, 'must be type.googleapis.com/envoy.config.listener.v3.Listener');
});

test('a broken bootstrap is reported', () => {
  const proxy = emitProxy(session, bookbuyer, {});
  const bag = new DiagnosticBag();
  checkProtos(session.protoCheck, { ...proxy, bootstrap: { ...proxy.bootstrap, nodee: {} } }, bag);
  assert.is(bag.items.length, 1);
  assert.match(bag.items[0].message, 'bootstrap (proxy bookbuyer/bookbuyer)');
});

test('a broken resource shared by many proxies is reported once per compile', () => {
  const broken = { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', name: 'shared-broken', bogus: 1 };
  const bag = new DiagnosticBag();
  for (const plan of [bookbuyer, goldenPlan('multi-port', 'shop/frontend')]) checkProtos(session.protoCheck, withBrokenListener(emitProxy(session, plan, {}), broken), bag);
  assert.is(bag.items.length, 1);
});

test('the compact cache key tells apart what JSON tells apart: spellings, numeric names, Any types', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
  const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
  assert.is(protoProblem(session.protoCheck, L, { name: 'a', stat_prefix: 'x' }), undefined);
  assert.is(protoProblem(session.protoCheck, L, { name: 'a', statPrefix: 'x' }), undefined);
  assert.match(protoProblem(session.protoCheck, L, { name: 'a', 0: 'x' }) ?? '', 'unknown field: "0"');
  assert.match(protoProblem(session.protoCheck, L, { name: 'a', 1: 'x' }) ?? '', 'unknown field: "1"');
  assert.ok(protoProblem(session.protoCheck, L, { name: 'a', stat_prefix: 5 }));
  const filter = (config: object) => ({ name: 'l', filter_chains: [{ filters: [{ name: 'f', typed_config: config }] }] });
  assert.is(protoProblem(session.protoCheck, L, filter({ '@type': TCP, stat_prefix: 'x', cluster: 'c' })), undefined);
  assert.match(protoProblem(session.protoCheck, L, filter({ '@type': HCM, stat_prefix: 'x', cluster: 'c' })) ?? '', 'unknown field: "cluster"');
});

test('a shared sub-object is judged on its own: valid, it passes wherever it is met; broken, every resource holding it fails with its own error', () => {
  const L = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const T = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
  const good = session.shared('proto-check-test', 'good', () => ({ name: 'tcp', typed_config: { '@type': T, stat_prefix: 'x', cluster: 'c' } }));
  const bad = session.shared('proto-check-test', 'bad', () => ({ name: 'tcp', typed_config: { '@type': T, stat_prefix: 'x', clusterr: 'c' } }));
  const listener = (name: string, ...filters: object[]) => ({ name, filter_chains: [{ name: 'chain', filters }] });
  assert.is(protoProblem(session.protoCheck, L, listener('a', good)), undefined);
  assert.is(protoProblem(session.protoCheck, L, listener('b', good, good)), undefined);
  assert.is(protoProblem(session.protoCheck, L, { name: 'c', listener_filters: [], filter_chains: [{ filters: [good] }, { name: 'other', filters: [good] }] }), undefined);
  for (const held of [listener('d', bad), listener('e', good, bad), listener('f', bad, good)]) {
    assert.match(protoProblem(session.protoCheck, L, held) ?? '', 'unknown field: "clusterr"');
  }
  // the same shapes once more: answered by the caches, the same answers
  assert.is(protoProblem(session.protoCheck, L, listener('g', good)), undefined);
  assert.match(protoProblem(session.protoCheck, L, listener('h', good, bad)) ?? '', 'unknown field: "clusterr"');
});

test.run();
