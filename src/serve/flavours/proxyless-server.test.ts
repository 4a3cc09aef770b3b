import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../../compiler/compile.ts';
import { TYPE } from '../../emit/names.ts';
import { parseServerListenerName, SERVER_LISTENER_PREFIX } from './proxyless-server.ts';
import { buildSnapshot } from '../snapshot/snapshot.ts';
import { ResourceInterner } from '../snapshot/interner.ts';
import type { Snapshot } from '../snapshot/snapshot-types.ts';
import { LDS, RDS } from '../xds/type-urls.ts';
import { proxylessView } from './views.ts';

type Json = Record<string, any>;

function snapshotOf(path: string): Snapshot {
  const result = compilePaths([path]);
  assert.ok(result.ok, 'fixture compiles');
  return buildSnapshot(result.proxies, new ResourceInterner()).snapshot!;
}

const bookstore = snapshotOf('fixtures/bookstore');
const NAME = `${SERVER_LISTENER_PREFIX}0.0.0.0:14001`;

function view(snapshot: Snapshot, node: string, tls?: string) {
  return proxylessView(snapshot, snapshot.proxies.get(node)!, new ResourceInterner(), tls);
}

test('server listener names: the gRFC A36 template with an IP and a port', () => {
  assert.equal(parseServerListenerName(`${SERVER_LISTENER_PREFIX}10.1.2.3:50051`), { name: `${SERVER_LISTENER_PREFIX}10.1.2.3:50051`, host: '10.1.2.3', port: 50051 });
  assert.is(parseServerListenerName(`${SERVER_LISTENER_PREFIX}[::]:8080`)?.host, '::');
  assert.is(parseServerListenerName(`${SERVER_LISTENER_PREFIX}0.0.0.0:0`), undefined);
  assert.is(parseServerListenerName('greeter.demo.svc.cluster.local:50051'), undefined);
});

test('bookstore as a gRPC server: its address, mTLS with client certificates, RBAC of the TrafficTarget, routes without forwarding', () => {
  const v = view(bookstore, 'bookstore/bookstore', 'mesh');
  const listener = v.get(LDS, NAME)!.json as Json;
  assert.equal(listener.address, { socket_address: { address: '0.0.0.0', port_value: 14001 } });
  const chain = listener.filter_chains[0];
  assert.is(chain.filter_chain_match, undefined, 'one chain for every connection');
  assert.equal(chain.transport_socket.typed_config, {
    '@type': TYPE.downstreamTlsContext,
    common_tls_context: {
      tls_certificate_provider_instance: { instance_name: 'mesh' },
      validation_context: { ca_certificate_provider_instance: { instance_name: 'mesh' } },
    },
    require_client_certificate: true,
  });
  const hcm = chain.filters[0].typed_config;
  assert.equal(hcm.rds.route_config_name, NAME);
  assert.equal(hcm.http_filters.map((f: Json) => f.name), [TYPE.httpRbac, 'envoy.filters.http.router']);
  const rules = hcm.http_filters[0].typed_config.rules;
  assert.is(rules.action, 'ALLOW');
  assert.equal(rules.policies.bookstore.principals, [
    {
      or_ids: {
        ids: [
          { authenticated: { principal_name: { exact: 'bookbuyer.bookbuyer.cluster.local' } } },
          { authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer' } } },
        ],
      },
    },
  ]);

  const routes = v.get(RDS, NAME)!.json as Json;
  const vh = routes.virtual_hosts.find((x: Json) => x.name === 'inbound_virtual-host|bookstore.bookstore.svc.cluster.local');
  const buy = vh.routes.find((r: Json) => r.name === 'bookstore/bookstore-service-routes/buy-a-book|GET');
  assert.is(buy, undefined, 'a GET-only match can never match a gRPC call (always POST): dropped');
  for (const r of vh.routes) {
    assert.equal(r.non_forwarding_action, {});
    assert.is(r.route, undefined);
    assert.ok(r.typed_per_filter_config[TYPE.httpRbac], 'per-route RBAC keyed like the filter');
  }
});

test('without a CA the server listener is plaintext; a port the workload does not serve has no listener', () => {
  const v = view(bookstore, 'bookstore/bookstore');
  assert.is((v.get(LDS, NAME)!.json as Json).filter_chains[0].transport_socket, undefined);
  assert.is(v.get(LDS, `${SERVER_LISTENER_PREFIX}0.0.0.0:9999`), undefined);
  assert.is(view(bookstore, 'bookbuyer/bookbuyer').get(LDS, NAME), undefined, 'bookbuyer serves nothing');
});

test('permissive mode: the top-level RBAC denies no one, and the routes admit any principal', () => {
  const permissive = snapshotOf('fixtures/bookstore-permissive');
  const v = view(permissive, 'bookstore/bookstore', 'mesh');
  const filters = (v.get(LDS, NAME)!.json as Json).filter_chains[0].filters[0].typed_config.http_filters;
  assert.equal(filters[0].typed_config.rules, { action: 'DENY', policies: {} });
  const route = (v.get(RDS, NAME)!.json as Json).virtual_hosts[0].routes[0];
  assert.equal(route.typed_per_filter_config[TYPE.httpRbac].rbac.rules.policies['rbac-for-route'].principals, [{ any: true }]);
});

test.run();
