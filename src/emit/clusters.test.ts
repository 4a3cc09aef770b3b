import { EmitSession, MAX_CACHED_CALLER_CLUSTERS } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { clusters } from './clusters.ts';
import { checkProtos, emitProxy } from './index.ts';
import { goldenPlan, wideMesh } from './golden-plans.ts';

const session = new EmitSession();

type J = Record<string, any>;

const bookbuyer = goldenPlan('bookstore', 'bookbuyer/bookbuyer');
/** frontend calls catalog on HTTP 80 (target port 8080), gRPC 9090 and TCP 6379; catalog serves them. */
const frontend = goldenPlan('multi-port', 'shop/frontend');
const catalog = goldenPlan('multi-port', 'shop/catalog');
const byName = (list: J[], name: string) => list.find((r) => r.name === name || r.cluster_name === name);

test('upstream cluster: EDS over ADS, mTLS with the caller certificate, SNI and root of the upstream', () => {
  const list = clusters(session, bookbuyer) as J[];
  assert.equal(list.map((c) => c.name), ['bookstore/bookstore-v1|14001', 'bookstore/bookstore-v2|14001']);
  const v1 = list[0];
  assert.is(v1['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
  assert.is(v1.type, 'EDS');
  assert.equal(v1.eds_cluster_config, { eds_config: { ads: {}, resource_api_version: 'V3' } });
  const tls = v1.transport_socket.typed_config;
  assert.is(tls['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  assert.is(tls.sni, 'bookstore-v1.bookstore.svc.cluster.local');
  assert.equal(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: J) => s.name), ['service-cert:bookbuyer/bookbuyer']);
  assert.is(tls.common_tls_context.validation_context_sds_secret_config.name, 'root-cert-for-mtls-outbound:bookstore/bookstore-v1');
  assert.equal(tls.common_tls_context.alpn_protocols, ['osm']);
  assert.is(v1.circuit_breakers.thresholds[0].max_connections, 4294967295);
  assert.ok('use_downstream_protocol_config' in v1.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
});

test('gRPC clusters speak HTTP/2 explicitly; TCP clusters carry no HTTP options', () => {
  const list = clusters(session, frontend) as J[];
  const grpc = byName(list, 'shop/catalog|9090')!;
  assert.equal(grpc.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config, {
    http2_protocol_options: {},
  });
  assert.is(byName(list, 'shop/catalog|6379')!.typed_extension_protocol_options, undefined);
});

test('local cluster: STATIC 127.0.0.1:<targetPort>, one per service port', () => {
  const list = clusters(session, catalog) as J[];
  assert.equal(list.map((c) => c.name), ['shop/catalog|6379|local', 'shop/catalog|8080|local', 'shop/catalog|9090|local']);
  const local = byName(list, 'shop/catalog|8080|local')!;
  assert.is(local.type, 'STATIC');
  assert.equal(local.load_assignment, {
    cluster_name: 'shop/catalog|8080|local',
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } }] }],
  });
});

test('a gRPC service port gets an HTTP/2 local cluster; a TCP one no HTTP options', () => {
  const list = clusters(session, catalog) as J[];
  const options = (name: string) => byName(list, name)!.typed_extension_protocol_options;
  assert.ok('explicit_http_config' in options('shop/catalog|9090|local')['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
  assert.is(options('shop/catalog|6379|local'), undefined);
});

test('same cluster for another caller differs only in the caller certificate', () => {
  const a = clusters(session, bookbuyer)[0] as J;
  const b = clusters(session, { ...bookbuyer, namespace: 'thief', serviceAccount: 'bookthief' })[0] as J;
  assert.is.not(a, b);
  const cert = (c: J) => c.transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].name;
  assert.is(cert(b), 'service-cert:thief/bookthief');
  assert.ok(a.circuit_breakers === b.circuit_breakers, 'constant pieces are shared');
});

test('per (caller, upstream) only the four nodes down to the caller certificate are new; the rest is shared and frozen', () => {
  const [a1, a2] = clusters(session, bookbuyer) as J[];
  const [b1] = clusters(session, { ...bookbuyer, namespace: 'thief', serviceAccount: 'bookthief' }) as J[];
  const tls = (c: J) => c.transport_socket.typed_config;
  const ctx = (c: J) => tls(c).common_tls_context;
  // Path to the caller's certificate: new per caller.
  for (const pick of [(c: J) => c, (c: J) => c.transport_socket, tls, ctx]) assert.ok(pick(a1) !== pick(b1));
  // Everything else: one object for every caller of the upstream.
  for (const key of ['eds_cluster_config', 'circuit_breakers', 'typed_extension_protocol_options']) assert.ok(a1[key] === b1[key], key);
  for (const key of ['tls_params', 'validation_context_sds_secret_config', 'alpn_protocols']) assert.ok(ctx(a1)[key] === ctx(b1)[key], key);
  // The caller's certificate list: one per caller, whatever it calls.
  assert.ok(ctx(a1).tls_certificate_sds_secret_configs === ctx(a2).tls_certificate_sds_secret_configs);
  assert.ok(ctx(a1).tls_certificate_sds_secret_configs !== ctx(b1).tls_certificate_sds_secret_configs);
  // A second workload with the same service account gets the very same cluster.
  assert.ok(clusters(session, { ...bookbuyer, workload: 'bookbuyer-v2' })[0] === a1);
  for (const pick of [(c: J) => c, (c: J) => c.transport_socket, tls, ctx]) assert.ok(Object.isFrozen(pick(b1)));
});

test('the clusters encode under the Envoy protos, for each caller', () => {
  const wide = wideMesh(30);
  for (const plan of [wide[1], wide[2], frontend, catalog]) {
    const bag = new DiagnosticBag();
    checkProtos(session.protoCheck, emitProxy(session, plan, {}), bag);
    assert.equal(bag.items, []);
  }
});

test('the per-caller clusters kept for reuse are bounded (least recently used callers go first)', () => {
  const upstreams = 200;
  const callers = Math.ceil(MAX_CACHED_CALLER_CLUSTERS / upstreams) + 20;
  const plan = wideMesh(upstreams)[0];
  const caller = (i: number) => ({ ...plan, namespace: `caller-${i}`, serviceAccount: 'sa' });
  const first = clusters(session, caller(0))[0];
  const recent = clusters(session, caller(1))[0];
  for (let i = 2; i < callers; i++) {
    clusters(session, caller(i));
    if (i % 50 === 0) assert.ok(clusters(session, caller(1))[0] === recent, 'a caller in use stays');
  }
  const again = clusters(session, caller(0))[0];
  assert.ok(again !== first, 'the least recently used caller was dropped');
  assert.equal(again, first, 'and rebuilt with the same content');
  assert.ok(clusters(session, caller(1))[0] === recent);
});

test.run();
