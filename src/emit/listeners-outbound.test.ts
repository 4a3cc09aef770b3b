import { EmitSession } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, permissive, split, svc } from '../passes/test-mesh.ts';
import { goldenPlan, plannedProxies } from './golden-plans.ts';
import { outboundListener } from './listeners-outbound.ts';

const session = new EmitSession();

type J = Record<string, any>;

/** frontend calls catalog (ClusterIP 10.96.10.20) on HTTP 80, gRPC 9090 and TCP 6379. */
const frontend = goldenPlan('multi-port', 'shop/frontend');

/** The proxy of workload `client` in a permissive mesh of these services. */
function clientOf(docs: readonly string[]) {
  return plannedProxies([permissive, deploy('app', 'client'), ...docs]).find((p) => p.workload === 'client')!;
}

test('one chain per service port with addresses, matched by port and /32, HTTP routed by rds-outbound.<port>', () => {
  const listener = outboundListener(session, frontend) as J;
  assert.is(listener.name, 'outbound-listener');
  assert.equal(listener.address, { socket_address: { address: '0.0.0.0', port_value: 15001 } });
  assert.is(listener.traffic_direction, 'OUTBOUND');
  assert.equal(listener.listener_filters.map((f: J) => f.name), ['original_dst']);
  assert.equal(listener.filter_chains.map((c: J) => c.name), ['outbound_shop/catalog_6379_tcp', 'outbound_shop/catalog_80_http', 'outbound_shop/catalog_9090_grpc'], 'by name');
  const chain = listener.filter_chains[1];
  assert.equal(chain.filter_chain_match, { destination_port: 80, prefix_ranges: [{ address_prefix: '10.96.10.20', prefix_len: 32 }] });
  const hcm = chain.filters[0].typed_config;
  assert.is(hcm.rds.route_config_name, 'rds-outbound.80');
  assert.equal(hcm.rds.config_source, { ads: {}, resource_api_version: 'V3' });
  assert.equal(hcm.http_filters.map((f: J) => f.name), ['http_router'], 'no RBAC on the outbound side');
  assert.is(listener.filter_chains[2].filters[0].typed_config.rds.route_config_name, 'rds-outbound.9090');
});

test('TCP: tcp_proxy straight to the cluster', () => {
  const tcp = (outboundListener(session, frontend) as J).filter_chains[0];
  assert.equal(tcp.filters, [
    {
      name: 'tcp_proxy',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
        stat_prefix: 'outbound_shop/catalog_6379_tcp',
        cluster: 'shop/catalog|6379',
      },
    },
  ]);
});

test('IPv6 addresses match as /128', () => {
  const client = clientOf([svc('db', 'mysql', ['3306/tcp'], ', clusterIPs: [10.96.0.33, "fd00::33"]'), deploy('db', 'mysql')]);
  const [chain] = (outboundListener(session, client) as J).filter_chains;
  assert.equal(chain.filter_chain_match.prefix_ranges, [
    { address_prefix: '10.96.0.33', prefix_len: 32 },
    { address_prefix: 'fd00::33', prefix_len: 128 },
  ]);
});

test('TCP split: weighted clusters, zero weights left out', () => {
  const client = clientOf([
    svc('db', 'pg', ['5432/tcp'], ', clusterIP: 10.0.0.5'),
    ...['pg-blue', 'pg-green', 'pg-old'].flatMap((name) => [svc('db', name, ['5432/tcp']), deploy('db', name)]),
    split('db', 'pg', 'pg', ['pg-blue=90', 'pg-green=10', 'pg-old=0']),
  ]);
  const chain = (outboundListener(session, client) as J).filter_chains.find((c: J) => c.name === 'outbound_db/pg_5432_tcp');
  const proxy = chain.filters[0].typed_config;
  assert.equal(proxy.weighted_clusters, {
    clusters: [
      { name: 'db/pg-blue|5432', weight: 90 },
      { name: 'db/pg-green|5432', weight: 10 },
    ],
  });
  assert.is(proxy.cluster, undefined);
});

test('address-less services: the shared HTTP chain matches on the port alone; no two chains match alike', () => {
  // Source manifests without ClusterIPs (SMI3008 is reported for the TCP ones left out).
  const client = clientOf([
    ...['cart', 'catalog'].map((name) => svc('shop', name, ['80'])),
    svc('shop', 'legacy-tcp', ['80/tcp']),
    svc('shop', 'pg-a', ['5432/tcp']),
    svc('shop', 'pg-b', ['5432/tcp']),
    svc('pay', 'payments', ['8443']),
    ...['cart', 'catalog', 'legacy-tcp', 'pg-a', 'pg-b'].map((name) => deploy('shop', name)),
    deploy('pay', 'payments'),
  ]);
  const listener = outboundListener(session, client) as J;
  assert.equal(
    listener.filter_chains.map((c: J) => c.name),
    ['outbound_*/*_80_http', 'outbound_pay/payments_8443_http', 'outbound_shop/pg-a_5432_tcp'],
  );
  const merged = listener.filter_chains[0];
  assert.equal(merged.filter_chain_match, { destination_port: 80 }, 'port only: no prefix_ranges');
  assert.is(merged.filters[0].typed_config.rds.route_config_name, 'rds-outbound.80');
  const matches = listener.filter_chains.map((c: J) => JSON.stringify(c.filter_chain_match));
  assert.is(new Set(matches).size, matches.length, 'no two chains with identical matches');
});

test('no outbound listener when the proxy may call nothing', () => {
  assert.is(outboundListener(session, goldenPlan('bookstore', 'bookstore/bookstore-v2')), undefined);
});

test('chains do not depend on the caller: two callers share the very same objects', () => {
  const a = outboundListener(session, goldenPlan('bookstore-permissive', 'bookbuyer/bookbuyer')) as J;
  const b = outboundListener(session, goldenPlan('bookstore-permissive', 'bookthief/bookthief')) as J;
  assert.ok(a === b);
  assert.ok(Object.isFrozen(a.filter_chains[0]));
});

test.run();
