import { EmitSession } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inboundListener } from './listeners-inbound.ts';
import { deploy, svc, target, tcpRoute } from '../passes/test-mesh.ts';
import { goldenPlan, plannedProxies } from './golden-plans.ts';

const session = new EmitSession();

type J = Record<string, any>;

/** Serves the bookstore apex and bookstore-v1 on 14001; bookbuyer may call it on two routes. */
const bookstore = goldenPlan('bookstore', 'bookstore/bookstore');

/** A TCP service port 9000 → 9001; one TrafficTarget admits store, another names only a Group (so no principal). */
function warehousePlan() {
  const nobody = target('wh', 'nobody', 'warehouse', ['store/store'], ['{kind: TCPRoute, name: db}']).replace('kind: ServiceAccount, name: store', 'kind: Group, name: store');
  const proxies = plannedProxies([
    deploy('wh', 'warehouse'),
    svc('wh', 'warehouse', ['9000/tcp:9001']),
    deploy('store', 'store'),
    tcpRoute('wh', 'db', [9000]),
    target('wh', 'from-store', 'warehouse', ['store/store'], ['{kind: TCPRoute, name: db}']),
    nobody,
  ]);
  return proxies.find((p) => p.workload === 'warehouse')!;
}

const principalsOf = (policy: J) => policy.principals.map((p: J) => p.authenticated.principal_name.exact);

test('restrictive: chain per service port matched by port, SNI, TLS and ALPN osm', () => {
  const listener = inboundListener(session, bookstore) as J;
  assert.is(listener.name, 'inbound-listener');
  assert.equal(listener.address, { socket_address: { address: '0.0.0.0', port_value: 15003 } });
  assert.is(listener.traffic_direction, 'INBOUND');
  assert.equal(listener.listener_filters.map((f: J) => f.name), ['tls_inspector', 'original_dst']);
  const [chain] = listener.filter_chains;
  assert.is(chain.name, 'inbound_bookstore/bookstore-v1_14001_http', 'by name: bookstore-v1 before bookstore_');
  assert.equal(chain.filter_chain_match, {
    destination_port: 14001,
    server_names: ['bookstore-v1.bookstore.svc.cluster.local'],
    transport_protocol: 'tls',
    application_protocols: ['osm'],
  });
});

test('restrictive: network RBAC first, naming exactly the admitted principals; then HCM with HTTP RBAC before the router', () => {
  const [chain] = (inboundListener(session, bookstore) as J).filter_chains;
  assert.equal(chain.filters.map((f: J) => f.name), ['l4_rbac', 'envoy.filters.network.http_connection_manager']);
  const rbac = chain.filters[0].typed_config;
  assert.is(rbac['@type'], 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC');
  assert.is(rbac.stat_prefix, 'network-');
  assert.is(rbac.rules.action, 'ALLOW');
  assert.equal(Object.keys(rbac.rules.policies), ['bookstore']);
  assert.equal(principalsOf(rbac.rules.policies.bookstore), ['bookbuyer.bookbuyer.cluster.local']);
  assert.equal(rbac.rules.policies.bookstore.permissions, [{ any: true }]);
  const hcm = chain.filters[1].typed_config;
  assert.is(hcm.rds.route_config_name, 'rds-inbound.14001');
  assert.equal(hcm.http_filters.map((f: J) => f.name), ['envoy.filters.http.rbac', 'http_router']);
});

test('mTLS: own certificate, client certificate required and validated by the inbound root', () => {
  const [chain] = (inboundListener(session, bookstore) as J).filter_chains;
  const tls = chain.transport_socket.typed_config;
  assert.is(tls['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
  assert.is(tls.require_client_certificate, true);
  assert.equal(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: J) => s.name), ['service-cert:bookstore/bookstore']);
  assert.is(tls.common_tls_context.validation_context_sds_secret_config.name, 'root-cert-for-mtls-inbound:bookstore/bookstore');
});

test('permissive: no network RBAC at all', () => {
  const [chain] = (inboundListener(session, goldenPlan('bookstore-permissive', 'bookstore/bookstore')) as J).filter_chains;
  assert.equal(chain.filters.map((f: J) => f.name), ['envoy.filters.network.http_connection_manager']);
});

test('TCP: RBAC then tcp_proxy to the local cluster; a policy without principals admits nobody and is left out', () => {
  const [chain] = (inboundListener(session, warehousePlan()) as J).filter_chains;
  assert.is(chain.name, 'inbound_wh/warehouse_9001_tcp');
  assert.is(chain.filter_chain_match.destination_port, 9001, 'matches the targetPort');
  assert.equal(chain.filters.map((f: J) => f.name), ['l4_rbac', 'tcp_proxy']);
  const policies = chain.filters[0].typed_config.rules.policies;
  assert.equal(Object.keys(policies), ['from-store']);
  assert.equal(principalsOf(policies['from-store']), ['store.store.cluster.local']);
  assert.is(chain.filters[1].typed_config.cluster, 'wh/warehouse|9001|local');
});

test('restrictive with no TrafficTarget at all: RBAC with no policy, i.e. deny everyone', () => {
  const frontend = goldenPlan('multi-port', 'shop/frontend');
  assert.equal(frontend.inbound[0].policies, [], 'no TrafficTarget names the frontend');
  const [chain] = (inboundListener(session, frontend) as J).filter_chains;
  assert.equal(chain.filters[0].typed_config.rules, { action: 'ALLOW', policies: {} });
});

test('no inbound listener for a workload that serves no service', () => {
  assert.is(inboundListener(session, goldenPlan('bookstore', 'bookbuyer/bookbuyer')), undefined);
});

test.run();
