import { EmitSession } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bootstrap } from './bootstrap.ts';
import { goldenPlan } from './golden-plans.ts';

const session = new EmitSession();

const bookbuyer = goldenPlan('bookstore', 'bookbuyer/bookbuyer');

type J = Record<string, any>;

test('node id and cluster are <ns>/<workload>; admin on 127.0.0.1:15000; LDS and CDS over ADS', () => {
  const b = bootstrap(session, bookbuyer, {}) as J;
  assert.equal(b.node, { id: 'bookbuyer/bookbuyer', cluster: 'bookbuyer/bookbuyer' });
  assert.equal(b.admin, { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } });
  assert.equal(b.dynamic_resources.lds_config, { ads: {}, resource_api_version: 'V3' });
  assert.equal(b.dynamic_resources.cds_config, { ads: {}, resource_api_version: 'V3' });
  assert.equal(b.dynamic_resources.ads_config.grpc_services, [{ envoy_grpc: { cluster_name: 'smi-compile-xds' } }]);
  assert.is(b.dynamic_resources.ads_config.transport_api_version, 'V3');
  assert.is(b['@type'], undefined, 'a bootstrap file is not an Any');
});

test('xDS cluster: defaults 127.0.0.1:15128, HTTP/2; a host name is resolved by DNS', () => {
  const [xds] = (bootstrap(session, bookbuyer, {}) as J).static_resources.clusters;
  assert.is(xds.name, 'smi-compile-xds');
  assert.is(xds.type, 'STATIC');
  assert.equal(xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: '127.0.0.1', port_value: 15128 });
  assert.ok('explicit_http_config' in xds.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
  const [named] = (bootstrap(session, bookbuyer, { xdsAddress: 'smi-compile.mesh.svc', xdsPort: 9000 }) as J).static_resources.clusters;
  assert.is(named.type, 'LOGICAL_DNS');
  assert.equal(named.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: 'smi-compile.mesh.svc', port_value: 9000 });
});

test.run();
