import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TYPE } from '../../emit/names.ts';
import type { EnvoyResource } from '../../emit/types.ts';
import { grpcMatch, parseApiListenerName } from './proxyless.ts';
import { buildSnapshot } from '../snapshot/snapshot.ts';
import { ResourceInterner } from '../snapshot/interner.ts';
import { cla, cluster, proxy, routeConfig } from '../testing.ts';
import { CDS, EDS, LDS, RDS } from '../xds/type-urls.ts';
import { proxylessView } from './views.ts';

const HOST = 'greeter.ns.svc.cluster.local:50051';
const SAY_HELLO = { safe_regex: { regex: '/helloworld\\.Greeter/SayHello' } };

function rbac(...principals: string[]): Record<string, unknown> {
  return {
    'envoy.filters.http.rbac': {
      '@type': TYPE.httpRbacPerRoute,
      rbac: {
        rules: {
          action: 'ALLOW',
          policies: { 'rbac-for-route': { permissions: [{ any: true }], principals: principals.map((p) => ({ authenticated: { principal_name: { exact: p } } })) } },
        },
      },
    },
  };
}

function tls(sni: string): Record<string, unknown> {
  return {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': TYPE.upstreamTlsContext,
        common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'service-cert:ns/client', sds_config: { ads: {}, resource_api_version: 'V3' } }] },
        sni,
      },
    },
  };
}

function inbound(nodeId: string, svc: string, routes: Record<string, unknown>[]): ReturnType<typeof proxy> {
  return proxy(nodeId, { routes: [routeConfig('rds-inbound.50051', [{ name: `inbound_virtual-host|${svc}.ns.svc.cluster.local`, domains: [`${svc}.ns.svc.cluster.local`], routes }])] });
}

function mesh(v1Routes: Record<string, unknown>[] | undefined, v2Routes: Record<string, unknown>[] | undefined) {
  const client = proxy('ns/client', {
    routes: [
      routeConfig('rds-outbound.50051', [
        {
          name: 'outbound_virtual-host|greeter.ns.svc.cluster.local',
          domains: ['greeter.ns', 'greeter.ns:50051', 'greeter.ns.svc.cluster.local', HOST],
          routes: [{ match: { safe_regex: { regex: '.*' } }, route: { weighted_clusters: { clusters: [{ name: 'ns/greeter-v1|50051', weight: 80 }, { name: 'ns/greeter-v2|50051', weight: 20 }] }, timeout: '0s' } }],
        },
      ]),
    ],
    clusters: [cluster('ns/greeter-v1|50051', tls('greeter-v1.ns.svc.cluster.local')), cluster('ns/greeter-v2|50051', tls('greeter-v2.ns.svc.cluster.local'))],
    endpoints: [cla('ns/greeter-v1|50051', ['127.0.0.1:4001']), cla('ns/greeter-v2|50051', ['127.0.0.1:4002'])],
    secrets: [{ '@type': TYPE.secret, name: 'service-cert:ns/client' } as EnvoyResource],
  });
  const proxies = [client];
  if (v1Routes) proxies.push(inbound('ns/greeter-v1', 'greeter-v1', v1Routes));
  if (v2Routes) proxies.push(inbound('ns/greeter-v2', 'greeter-v2', v2Routes));
  const interner = new ResourceInterner();
  const snapshot = buildSnapshot(proxies, interner).snapshot!;
  return proxylessView(snapshot, snapshot.proxies.get('ns/client')!, interner);
}

const local = (n: string) => ({ cluster: `ns/${n}|50051|local` });

test('listener names: <host>:<port> only', () => {
  assert.equal(parseApiListenerName(HOST), { name: HOST, host: 'greeter.ns.svc.cluster.local', port: 50051 });
  assert.is(parseApiListenerName('outbound-listener'), undefined);
  assert.is(parseApiListenerName('a:0'), undefined);
  assert.is(parseApiListenerName('a:99999'), undefined);
});

test('the API listener: HttpConnectionManager over RDS with the router last', () => {
  const view = mesh(undefined, undefined);
  const l = view.get(LDS, HOST)!.json as any;
  const hcm = l.api_listener.api_listener;
  assert.is(hcm['@type'], TYPE.httpConnectionManager);
  assert.equal(hcm.rds, { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: HOST });
  assert.is(hcm.http_filters.at(-1).typed_config['@type'], TYPE.router);
  assert.is(view.get(LDS, 'other.ns.svc.cluster.local:50051'), undefined, 'a service the client may not call has no listener');
});

test('without inbound policy the outbound split is carried as it is', () => {
  const view = mesh(undefined, undefined);
  const rc = view.get(RDS, HOST)!.json as any;
  assert.equal(rc.virtual_hosts[0].domains, [HOST]);
  assert.equal(rc.virtual_hosts[0].routes, [
    { match: { safe_regex: { regex: '.*' } }, route: { weighted_clusters: { clusters: [{ name: 'ns/greeter-v1|50051', weight: 80 }, { name: 'ns/greeter-v2|50051', weight: 20 }] }, timeout: '0s' } },
  ]);
});

test('inbound matches admitted for the client move into its routes; others and non-POST routes do not', () => {
  const v1 = [
    { name: 'rg/say-hello|POST', match: { ...SAY_HELLO, headers: [{ name: ':method', string_match: { exact: 'POST' } }] }, route: local('greeter-v1'), typed_per_filter_config: rbac('client.ns.cluster.local') },
    { name: 'rg/admin', match: { safe_regex: { regex: '/admin.*' } }, route: local('greeter-v1'), typed_per_filter_config: rbac('ops.ns.cluster.local') },
    { name: 'rg/get|GET', match: { safe_regex: { regex: '.*' }, headers: [{ name: ':method', string_match: { exact: 'GET' } }] }, route: local('greeter-v1'), typed_per_filter_config: rbac('client.ns.cluster.local') },
  ];
  const v2 = [{ name: 'rg/say-hello', match: SAY_HELLO, route: local('greeter-v2'), typed_per_filter_config: rbac('client.ns.cluster.local') }];
  const rc = mesh(v1, v2).get(RDS, HOST)!.json as any;
  assert.equal(rc.virtual_hosts[0].routes, [
    { name: 'rg/say-hello|POST', match: SAY_HELLO, route: { weighted_clusters: { clusters: [{ name: 'ns/greeter-v1|50051', weight: 80 }, { name: 'ns/greeter-v2|50051', weight: 20 }] }, timeout: '0s' } },
  ]);
});

test('a match only one backend admits goes to that backend alone', () => {
  const v1 = [{ name: 'rg/hello', match: SAY_HELLO, route: local('greeter-v1'), typed_per_filter_config: rbac('client.ns.cluster.local') }];
  const v2 = [{ name: 'rg/bye', match: { path: '/helloworld.Greeter/SayBye' }, route: local('greeter-v2'), typed_per_filter_config: rbac('client.ns.cluster.local') }];
  const rc = mesh(v1, v2).get(RDS, HOST)!.json as any;
  assert.equal(rc.virtual_hosts[0].routes, [
    { name: 'rg/hello', match: SAY_HELLO, route: { timeout: '0s', cluster: 'ns/greeter-v1|50051' } },
    { name: 'rg/bye', match: { path: '/helloworld.Greeter/SayBye' }, route: { timeout: '0s', cluster: 'ns/greeter-v2|50051' } },
  ]);
});

test('gRPC matches: :method and :authority are decided statically, other pseudo-headers drop the route', () => {
  const authority = HOST;
  assert.equal(grpcMatch({ prefix: '/', headers: [{ name: ':method', string_match: { safe_regex: { regex: 'POST|PUT' } } }] }, authority), { prefix: '/' });
  assert.is(grpcMatch({ prefix: '/', headers: [{ name: ':method', exact_match: 'GET' }] }, authority), null);
  assert.equal(grpcMatch({ prefix: '/', headers: [{ name: ':authority', string_match: { safe_regex: { regex: 'greeter\\..*' } } }] }, authority), { prefix: '/' });
  assert.is(grpcMatch({ prefix: '/', headers: [{ name: ':scheme', string_match: { exact: 'http' } }] }, authority), null);
  assert.equal(grpcMatch({ prefix: '/', headers: [{ name: 'x-user', string_match: { exact: 'a' } }] }, authority), {
    prefix: '/',
    headers: [{ name: 'x-user', string_match: { exact: 'a' } }],
  });
});

test('clusters lose the sidecar mTLS socket; endpoints gain locality weights; everything encodes', () => {
  const view = mesh(undefined, undefined);
  const c = view.get(CDS, 'ns/greeter-v1|50051')!;
  assert.equal(c.json, { '@type': TYPE.cluster, name: 'ns/greeter-v1|50051', type: 'EDS', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } } });
  assert.ok(c.any.byteLength > 0);
  const e = view.get(EDS, 'ns/greeter-v1|50051')!.json as any;
  assert.is(e.endpoints[0].load_balancing_weight, 1);
  assert.equal([...view.all(CDS)].map((r) => r.name), ['ns/greeter-v1|50051', 'ns/greeter-v2|50051']);
  assert.equal([...view.all(LDS)], []);
});

test.run();
