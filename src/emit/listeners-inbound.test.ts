import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inboundListener } from './listeners-inbound.ts';
import { BOOKBUYER_ID, BOOKSTORE_ID, bookbuyerPlan, bookstoreV1Plan, permissiveBookstorePlan, tcpAndGrpcPlan } from './test-plans.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

type J = Record<string, any>;

const principalsOf = (policy: J) => policy.principals.map((p: J) => p.authenticated.principal_name.exact);

test('restrictive: chain per service port matched by port, SNI, TLS and ALPN osm', () => {
  const listener = inboundListener(session, bookstoreV1Plan()) as J;
  assert.is(listener.name, 'inbound-listener');
  assert.equal(listener.address, { socket_address: { address: '0.0.0.0', port_value: 15003 } });
  assert.is(listener.traffic_direction, 'INBOUND');
  assert.equal(listener.listener_filters.map((f: J) => f.name), ['tls_inspector', 'original_dst']);
  const [chain] = listener.filter_chains;
  assert.is(chain.name, 'inbound_bookstore/bookstore-v1_14001_http');
  assert.equal(chain.filter_chain_match, {
    destination_port: 14001,
    server_names: ['bookstore-v1.bookstore.svc.cluster.local'],
    transport_protocol: 'tls',
    application_protocols: ['osm'],
  });
});

test('restrictive: network RBAC first, naming exactly the admitted principals; then HCM with HTTP RBAC before the router', () => {
  const [chain] = (inboundListener(session, bookstoreV1Plan()) as J).filter_chains;
  assert.equal(chain.filters.map((f: J) => f.name), ['l4_rbac', 'envoy.filters.network.http_connection_manager']);
  const rbac = chain.filters[0].typed_config;
  assert.is(rbac['@type'], 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC');
  assert.is(rbac.stat_prefix, 'network-');
  assert.is(rbac.rules.action, 'ALLOW');
  assert.equal(Object.keys(rbac.rules.policies), ['bookstore']);
  assert.equal(principalsOf(rbac.rules.policies.bookstore), [BOOKBUYER_ID]);
  assert.equal(rbac.rules.policies.bookstore.permissions, [{ any: true }]);
  const hcm = chain.filters[1].typed_config;
  assert.is(hcm.rds.route_config_name, 'rds-inbound.14001');
  assert.equal(hcm.http_filters.map((f: J) => f.name), ['envoy.filters.http.rbac', 'http_router']);
});

test('mTLS: own certificate, client certificate required and validated by the inbound root', () => {
  const [chain] = (inboundListener(session, bookstoreV1Plan()) as J).filter_chains;
  const tls = chain.transport_socket.typed_config;
  assert.is(tls['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
  assert.is(tls.require_client_certificate, true);
  assert.equal(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: J) => s.name), ['service-cert:bookstore/bookstore']);
  assert.is(tls.common_tls_context.validation_context_sds_secret_config.name, 'root-cert-for-mtls-inbound:bookstore/bookstore');
});

test('permissive: no network RBAC at all', () => {
  const [chain] = (inboundListener(session, permissiveBookstorePlan()) as J).filter_chains;
  assert.equal(chain.filters.map((f: J) => f.name), ['envoy.filters.network.http_connection_manager']);
});

test('TCP: RBAC then tcp_proxy to the local cluster; a policy without principals admits nobody and is left out', () => {
  const [chain] = (inboundListener(session, tcpAndGrpcPlan()) as J).filter_chains;
  assert.is(chain.name, 'inbound_bookwarehouse/bookwarehouse_9001_tcp');
  assert.is(chain.filter_chain_match.destination_port, 9001, 'matches the targetPort');
  assert.equal(chain.filters.map((f: J) => f.name), ['l4_rbac', 'tcp_proxy']);
  const policies = chain.filters[0].typed_config.rules.policies;
  assert.equal(Object.keys(policies), ['warehouse-from-store']);
  assert.equal(principalsOf(policies['warehouse-from-store']), [BOOKSTORE_ID]);
  assert.is(chain.filters[1].typed_config.cluster, 'bookwarehouse/bookwarehouse|9001|local');
});

test('restrictive with no TrafficTarget at all: RBAC with no policy, i.e. deny everyone', () => {
  const plan = bookstoreV1Plan();
  const closed = { ...plan, inbound: plan.inbound.map((p) => ({ ...p, policies: [] })) };
  const [chain] = (inboundListener(session, closed) as J).filter_chains;
  assert.equal(chain.filters[0].typed_config.rules, { action: 'ALLOW', policies: {} });
});

test('no inbound listener for a workload that serves no service', () => {
  assert.is(inboundListener(session, bookbuyerPlan()), undefined);
});

test.run();
