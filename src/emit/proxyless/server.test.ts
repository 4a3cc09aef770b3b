import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../../compiler/compile.ts';
import { grpcServerListenerName, TYPE } from '../names.ts';
import { TYPE_URL } from '../types.ts';
import { ProxylessEmitter, proxylessMeshOf } from './index.ts';

import type { LooseJson as Json } from '../../shared/json.ts';

function emitterOf(path: string): ProxylessEmitter {
  const result = compilePaths([path]);
  assert.ok(result.ok, 'fixture compiles');
  return new ProxylessEmitter(proxylessMeshOf(result.mesh)!);
}

const bookstore = emitterOf('fixtures/bookstore');
const NAME = grpcServerListenerName('0.0.0.0', 14001);

test('bookstore as a gRPC server: its address, mTLS with client certificates, RBAC of the TrafficTarget, routes without forwarding', () => {
  const listener = bookstore.resource('bookstore/bookstore', TYPE_URL.listeners, NAME, 'mesh') as Json;
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

  const routes = bookstore.resource('bookstore/bookstore', TYPE_URL.routes, NAME, 'mesh') as Json;
  const vh = routes.virtual_hosts.find((x: Json) => x.name === 'inbound_virtual-host|bookstore.bookstore.svc.cluster.local');
  assert.equal(vh.routes, [], "bookstore's matches are all GET-only, and a gRPC call is always a POST: none is kept");
});

test('catalog as a gRPC server: the POST matches, without forwarding, each with its RBAC (SPIFFE too) keyed like the filter', () => {
  const name = grpcServerListenerName('0.0.0.0', 9090);
  const rc = emitterOf('fixtures/multi-port').resource('shop/catalog', TYPE_URL.routes, name, undefined) as Json;
  const routes = rc.virtual_hosts[0].routes;
  assert.equal(routes.map((r: Json) => r.name), ['shop/catalog-api/add-to-cart|POST', 'shop/catalog-api/get-product-rpc|POST']);
  for (const r of routes) {
    assert.equal(r.non_forwarding_action, {});
    assert.is(r.route, undefined);
    assert.equal(r.typed_per_filter_config[TYPE.httpRbac].rbac.rules.policies['rbac-for-route'].principals[0].or_ids.ids[1], {
      authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/shop/sa/frontend' } },
    });
  }
});

test('without a CA the server listener is plaintext; a port the workload does not serve has no listener', () => {
  assert.is((bookstore.resource('bookstore/bookstore', TYPE_URL.listeners, NAME, undefined) as Json).filter_chains[0].transport_socket, undefined);
  assert.is(bookstore.resource('bookstore/bookstore', TYPE_URL.listeners, grpcServerListenerName('0.0.0.0', 9999), undefined), undefined);
  assert.is(bookstore.resource('bookbuyer/bookbuyer', TYPE_URL.listeners, NAME, undefined), undefined, 'bookbuyer serves nothing');
  assert.is(bookstore.resource('bookbuyer/bookbuyer', TYPE_URL.routes, NAME, undefined), undefined);
});

test('an IPv6 listening address is the listener address, unbracketed', () => {
  const listener = bookstore.resource('bookstore/bookstore', TYPE_URL.listeners, grpcServerListenerName('::', 14001), undefined) as Json;
  assert.equal(listener.address, { socket_address: { address: '::', port_value: 14001 } });
});

test('permissive mode: the top-level RBAC denies no one, and the routes admit any principal', () => {
  const permissive = emitterOf('fixtures/bookstore-permissive');
  const filters = (permissive.resource('bookstore/bookstore', TYPE_URL.listeners, NAME, 'mesh') as Json).filter_chains[0].filters[0].typed_config.http_filters;
  assert.equal(filters[0].typed_config.rules, { action: 'DENY', policies: {} });
  const route = (permissive.resource('bookstore/bookstore', TYPE_URL.routes, NAME, 'mesh') as Json).virtual_hosts[0].routes[0];
  assert.equal(route.typed_per_filter_config[TYPE.httpRbac].rbac.rules.policies['rbac-for-route'].principals, [{ any: true }]);
});

test.run();
