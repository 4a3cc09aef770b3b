import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layoutOutboundChains, outboundListener } from './listeners-outbound.ts';
import { addresslessPlan, bookbuyerPlan, bookstoreV1Plan, outbound, tcpAndGrpcPlan } from './test-plans.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

type J = Record<string, any>;

test('bookbuyer: one HTTP chain for the bookstore apex, matched by port and /32, routed by rds-outbound.<port>', () => {
  const listener = outboundListener(session, bookbuyerPlan()) as J;
  assert.is(listener.name, 'outbound-listener');
  assert.equal(listener.address, { socket_address: { address: '0.0.0.0', port_value: 15001 } });
  assert.is(listener.traffic_direction, 'OUTBOUND');
  assert.equal(listener.listener_filters.map((f: J) => f.name), ['original_dst']);
  assert.is(listener.filter_chains.length, 1);
  const chain = listener.filter_chains[0];
  assert.is(chain.name, 'outbound_bookstore/bookstore_14001_http');
  assert.equal(chain.filter_chain_match, { destination_port: 14001, prefix_ranges: [{ address_prefix: '10.96.0.10', prefix_len: 32 }] });
  const hcm = chain.filters[0].typed_config;
  assert.is(hcm.rds.route_config_name, 'rds-outbound.14001');
  assert.equal(hcm.rds.config_source, { ads: {}, resource_api_version: 'V3' });
  assert.equal(hcm.http_filters.map((f: J) => f.name), ['http_router'], 'no RBAC on the outbound side');
});

test('TCP: tcp_proxy straight to the cluster, IPv6 addresses as /128', () => {
  const listener = outboundListener(session, tcpAndGrpcPlan()) as J;
  const names = listener.filter_chains.map((c: J) => c.name);
  assert.equal(names, ['outbound_bookwarehouse/mysql_3306_tcp', 'outbound_inventory/stock_50051_grpc']);
  const mysql = listener.filter_chains[0];
  assert.equal(mysql.filter_chain_match.prefix_ranges, [
    { address_prefix: '10.96.0.33', prefix_len: 32 },
    { address_prefix: 'fd00::33', prefix_len: 128 },
  ]);
  assert.equal(mysql.filters, [
    {
      name: 'tcp_proxy',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
        stat_prefix: 'outbound_bookwarehouse/mysql_3306_tcp',
        cluster: 'bookwarehouse/mysql|3306',
      },
    },
  ]);
  const grpc = listener.filter_chains[1];
  assert.is(grpc.filters[0].typed_config.rds.route_config_name, 'rds-outbound.50051');
});

test('TCP split: weighted clusters, zero weights left out', () => {
  const plan = {
    ...tcpAndGrpcPlan(),
    outbound: [
      outbound('db', 'pg', 5432, {
        protocol: 'tcp' as const,
        addresses: ['10.0.0.5'],
        split: true,
        backends: [
          { cluster: 'db/pg-blue|5432', weight: 90 },
          { cluster: 'db/pg-green|5432', weight: 10 },
          { cluster: 'db/pg-old|5432', weight: 0 },
        ],
      }),
    ],
  };
  const proxy = (outboundListener(session, plan) as J).filter_chains[0].filters[0].typed_config;
  assert.equal(proxy.weighted_clusters, {
    clusters: [
      { name: 'db/pg-blue|5432', weight: 90 },
      { name: 'db/pg-green|5432', weight: 10 },
    ],
  });
  assert.is(proxy.cluster, undefined);
});

test('address-less services: HTTP ones share one chain per port, TCP ones that cannot be told apart are reported', () => {
  const layout = layoutOutboundChains(addresslessPlan().outbound);
  assert.equal(
    layout.chains.map((c) => [c.name, c.services.map((s) => s.service.name)]),
    [
      ['outbound_*/*_80_http', ['cart', 'catalog']],
      ['outbound_pay/payments_8443_http', ['payments']],
      ['outbound_shop/pg-a_5432_tcp', ['pg-a']],
    ],
  );
  assert.equal(layout.unreachable.map((o) => o.service.name).sort(), ['legacy-tcp', 'pg-b']);

  const listener = outboundListener(session, addresslessPlan()) as J;
  const merged = listener.filter_chains.find((c: J) => c.name === 'outbound_*/*_80_http');
  assert.equal(merged.filter_chain_match, { destination_port: 80 }, 'port only: no prefix_ranges');
  assert.is(merged.filters[0].typed_config.rds.route_config_name, 'rds-outbound.80');
  const matches = listener.filter_chains.map((c: J) => JSON.stringify(c.filter_chain_match));
  assert.is(new Set(matches).size, matches.length, 'no two chains with identical matches');
});

test('no outbound listener when the proxy may call nothing', () => {
  assert.is(outboundListener(session, bookstoreV1Plan()), undefined);
});

test('chains do not depend on the caller: two callers share the very same objects', () => {
  const a = outboundListener(session, bookbuyerPlan()) as J;
  const b = outboundListener(session, { ...bookbuyerPlan(), namespace: 'other', workload: 'x', serviceAccount: 'x' }) as J;
  assert.ok(a === b);
  assert.ok(Object.isFrozen(a.filter_chains[0]));
});

test.run();
