import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { clusters } from './clusters.ts';
import { checkProtos, emitProxy } from './index.ts';
import { bookbuyerPlan, bookstoreV1Plan, tcpAndGrpcPlan, wideMeshPlan } from './test-plans.ts';
import { EmitSession, MAX_CACHED_CALLER_CLUSTERS } from './session.ts';

const session = new EmitSession();

type J = Record<string, any>;
const byName = (list: J[], name: string) => list.find((r) => r.name === name || r.cluster_name === name);

test('upstream cluster: EDS over ADS, mTLS with the caller certificate, SNI and root of the upstream', () => {
  const list = clusters(session, bookbuyerPlan()) as J[];
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
  const list = clusters(session, tcpAndGrpcPlan()) as J[];
  const grpc = byName(list, 'inventory/stock|50051')!;
  assert.equal(grpc.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config, {
    http2_protocol_options: {},
  });
  assert.is(byName(list, 'bookwarehouse/mysql|3306')!.typed_extension_protocol_options, undefined);
});

test('local cluster: STATIC 127.0.0.1:<targetPort>, one per local cluster name', () => {
  const list = clusters(session, tcpAndGrpcPlan()) as J[];
  const local = byName(list, 'bookwarehouse/bookwarehouse|9001|local')!;
  assert.is(local.type, 'STATIC');
  assert.equal(local.load_assignment, {
    cluster_name: 'bookwarehouse/bookwarehouse|9001|local',
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9001 } } } }] }],
  });
  const plan = bookstoreV1Plan();
  const twice = { ...plan, inbound: [plan.inbound[0], { ...plan.inbound[0], port: 80 }] };
  assert.equal((clusters(session, twice) as J[]).map((c) => c.name), ['bookstore/bookstore-v1|14001|local']);
});

test('a gRPC service port gets an HTTP/2 local cluster', () => {
  const plan = tcpAndGrpcPlan();
  const grpcPort = { ...plan.inbound[0], protocol: 'grpc' as const, policies: undefined };
  const [local] = clusters(session, { ...plan, upstreams: [], inbound: [grpcPort] }) as J[];
  assert.ok('explicit_http_config' in local.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
});

test('same cluster for another caller differs only in the caller certificate', () => {
  const a = clusters(session, bookbuyerPlan())[0] as J;
  const b = clusters(session, { ...bookbuyerPlan(), namespace: 'thief', serviceAccount: 'bookthief' })[0] as J;
  assert.is.not(a, b);
  const cert = (c: J) => c.transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].name;
  assert.is(cert(b), 'service-cert:thief/bookthief');
  assert.ok(a.circuit_breakers === b.circuit_breakers, 'constant pieces are shared');
});

test('per (caller, upstream) only the four nodes down to the caller certificate are new; the rest is shared and frozen', () => {
  const [a1, a2] = clusters(session, bookbuyerPlan()) as J[];
  const [b1] = clusters(session, { ...bookbuyerPlan(), namespace: 'thief', serviceAccount: 'bookthief' }) as J[];
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
  assert.ok(clusters(session, { ...bookbuyerPlan(), workload: 'bookbuyer-v2' })[0] === a1);
  for (const pick of [(c: J) => c, (c: J) => c.transport_socket, tls, ctx]) assert.ok(Object.isFrozen(pick(b1)));
});

test('the clusters encode under the Envoy protos, for each caller', () => {
  for (const plan of [wideMeshPlan(30, 'ns1', 'svc1'), wideMeshPlan(30, 'ns2', 'svc2'), tcpAndGrpcPlan()]) {
    const bag = new DiagnosticBag();
    checkProtos(session.protoCheck, emitProxy(session, plan, {}), bag);
    assert.equal(bag.items, []);
  }
});

test('the per-caller clusters kept for reuse are bounded (least recently used callers go first)', () => {
  const upstreams = 200;
  const callers = Math.ceil(MAX_CACHED_CALLER_CLUSTERS / upstreams) + 20;
  const plan = wideMeshPlan(upstreams);
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
