import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HttpMatch } from '../../ir/types.ts';
import type { InboundHttpRoute, ProxyPlan, UpstreamCluster } from '../../ir/proxy-plan.ts';
import { TYPE } from '../names.ts';
import { TYPE_URL } from '../types.ts';
import { ProxylessEmitter, proxylessMesh } from './index.ts';

import type { LooseJson as Json } from '../../shared/json.ts';
import { layoutOutbound } from '../../passes/outbound-layout.ts';

const HOST = 'greeter.ns.svc.cluster.local:50051';
const CLIENT = 'client.ns.cluster.local';
const V1 = 'ns/greeter-v1|50051';
const V2 = 'ns/greeter-v2|50051';
const SPLIT = { weighted_clusters: { clusters: [{ name: V1, weight: 80 }, { name: V2, weight: 20 }] }, timeout: '0s' };

function plan(workload: string, extra: Partial<ProxyPlan>): ProxyPlan {
  return {
    namespace: 'ns',
    workload,
    kind: 'Deployment',
    serviceAccount: workload,
    identity: `${workload}.ns.cluster.local`,
    trustDomain: 'cluster.local',
    permissive: false,
    inbound: [],
    outbound: [],
    upstreams: [],
    ...extra,
    outboundLayout: layoutOutbound(extra.outbound ?? []),
  };
}

function upstream(name: string, endpoints: string[] = []): UpstreamCluster {
  return { name: `ns/${name}|50051`, service: { namespace: 'ns', name }, targetPort: 50051, port: 50051, protocol: 'grpc', identities: [`${name}.ns.cluster.local`], endpoints };
}

function match(pathRegex: string, methods?: string[], headers: [string, string][] = []): HttpMatch {
  return { name: 'm', pathRegex, methods, headers: headers.map(([name, value]) => ({ name, value, path: [] })), path: [] };
}

function route(name: string, m: HttpMatch, ...principals: string[]): InboundHttpRoute {
  return { name, match: m, principals };
}

/** A client calling `greeter`, split 80/20 over greeter-v1 and greeter-v2, whose servers serve `v1Routes` and `v2Routes` (undefined: not in the mesh). */
function emitter(v1Routes?: InboundHttpRoute[], v2Routes?: InboundHttpRoute[]): ProxylessEmitter {
  const client = plan('client', {
    outbound: [
      {
        service: { namespace: 'ns', name: 'greeter' },
        port: 50051,
        protocol: 'grpc',
        addresses: [],
        backends: [{ cluster: V1, weight: 80 }, { cluster: V2, weight: 20 }],
        split: true,
      },
    ],
    upstreams: [upstream('greeter-v1', ['10.0.0.1']), upstream('greeter-v2')],
  });
  const server = (name: string, routes: InboundHttpRoute[]): ProxyPlan =>
    plan(name, {
      inbound: [{ service: { namespace: 'ns', name }, port: 50051, targetPort: 50051, protocol: 'grpc', localCluster: `ns/${name}|50051|local`, routes }],
    });
  const plans = [client];
  if (v1Routes) plans.push(server('greeter-v1', v1Routes));
  if (v2Routes) plans.push(server('greeter-v2', v2Routes));
  return new ProxylessEmitter(proxylessMesh(plans));
}

const routesOf = (e: ProxylessEmitter): Json[] => (e.resource('ns/client', TYPE_URL.routes, HOST, undefined) as Json).virtual_hosts[0].routes;

test('the API listener: HttpConnectionManager over RDS with the router last; none for a service the client may not call', () => {
  const e = emitter();
  const hcm = (e.resource('ns/client', TYPE_URL.listeners, HOST, undefined) as Json).api_listener.api_listener;
  assert.is(hcm['@type'], TYPE.httpConnectionManager);
  assert.equal(hcm.rds, { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: HOST });
  assert.is(hcm.http_filters.at(-1).typed_config['@type'], TYPE.router);
  assert.is(e.resource('ns/client', TYPE_URL.listeners, 'other.ns.svc.cluster.local:50051', undefined), undefined);
  assert.is(e.resource('ns/client', TYPE_URL.listeners, 'greeter.ns.svc.cluster.local:8080', undefined), undefined, 'not on that port');
  assert.ok(e.resource('ns/client', TYPE_URL.listeners, 'greeter:50051', undefined), 'the bare name, for a caller in the namespace');
  assert.is(e.resource('ns/nobody', TYPE_URL.listeners, HOST, undefined), undefined, 'an unknown node has nothing');
});

test('without inbound policy the outbound split is carried as it is, under the name dialled', () => {
  const rc = emitter().resource('ns/client', TYPE_URL.routes, HOST, undefined) as Json;
  assert.is(rc.name, HOST);
  assert.equal(rc.virtual_hosts[0].domains, [HOST]);
  assert.equal(rc.virtual_hosts[0].routes, [{ match: { safe_regex: { regex: '.*' } }, route: SPLIT }]);
});

test('inbound matches admitted for the client move into its routes; others and non-POST routes do not', () => {
  const v1 = [
    route('rg/say-hello', match('/helloworld\\.Greeter/SayHello', ['POST']), CLIENT),
    route('rg/admin', match('/admin.*'), 'ops.ns.cluster.local'),
    route('rg/get', match('.*', ['GET']), CLIENT),
  ];
  const v2 = [route('rg/say-hello', match('/helloworld\\.Greeter/SayHello'), CLIENT)];
  assert.equal(routesOf(emitter(v1, v2)), [{ name: 'rg/say-hello|POST', match: { safe_regex: { regex: '/helloworld\\.Greeter/SayHello' } }, route: SPLIT }]);
});

test('a match only one backend admits goes to that backend alone; a backend outside the mesh takes every match', () => {
  const v1 = [route('rg/hello', match('/helloworld\\.Greeter/SayHello'), CLIENT)];
  const v2 = [route('rg/bye', match('/helloworld\\.Greeter/SayBye'), CLIENT)];
  assert.equal(routesOf(emitter(v1, v2)), [
    { name: 'rg/hello', match: { safe_regex: { regex: '/helloworld\\.Greeter/SayHello' } }, route: { cluster: V1, timeout: '0s' } },
    { name: 'rg/bye', match: { safe_regex: { regex: '/helloworld\\.Greeter/SayBye' } }, route: { cluster: V2, timeout: '0s' } },
  ]);
  assert.equal(routesOf(emitter(v1, undefined)), [{ name: 'rg/hello', match: { safe_regex: { regex: '/helloworld\\.Greeter/SayHello' } }, route: SPLIT }]);
  assert.equal(routesOf(emitter([], [])), [], 'destinations that admit nothing: no route, calls fail UNAVAILABLE');
});

test('gRPC matches: the Host header is decided against the name dialled, other pseudo-headers drop the route, headers stay', () => {
  const v1 = [
    route('rg/host-ok', match('/a', undefined, [['host', 'greeter\\..*']]), CLIENT),
    route('rg/host-no', match('/b', undefined, [['Host', 'other\\..*']]), CLIENT),
    route('rg/scheme', match('/c', undefined, [[':scheme', 'http']]), CLIENT),
    route('rg/user', match('/d', undefined, [['x-user', 'a']]), CLIENT),
  ];
  assert.equal(routesOf(emitter(v1, undefined)).map((r) => [r.name, r.match]), [
    ['rg/host-ok', { safe_regex: { regex: '/a' } }],
    ['rg/user', { safe_regex: { regex: '/d' }, headers: [{ name: 'x-user', string_match: { safe_regex: { regex: 'a' } } }] }],
  ]);
});

test('clusters: plaintext, or mTLS from the certificate provider pinning the upstream identities; endpoints gain locality weights', () => {
  const e = emitter();
  assert.equal(e.resource('ns/client', TYPE_URL.clusters, V1, undefined), {
    '@type': TYPE.cluster,
    name: V1,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true }] },
  });
  const tls = (e.resource('ns/client', TYPE_URL.clusters, V1, 'mesh') as Json).transport_socket.typed_config.common_tls_context;
  assert.equal(tls, {
    tls_certificate_provider_instance: { instance_name: 'mesh' },
    validation_context: { ca_certificate_provider_instance: { instance_name: 'mesh' }, match_subject_alt_names: [{ exact: 'greeter-v1.ns.cluster.local' }] },
  });
  const cla = e.resource('ns/client', TYPE_URL.endpoints, V1, undefined) as Json;
  assert.equal(cla.endpoints, [{ locality: { zone: 'local' }, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 50051 } } } }], load_balancing_weight: 1 }]);
  assert.equal(e.names('ns/client', TYPE_URL.clusters), [V1, V2]);
  assert.equal(e.names('ns/client', TYPE_URL.listeners), [], 'API listeners exist only for the names asked');
  assert.is(e.resource('ns/client', TYPE_URL.secrets, 'service-cert:ns/client', 'mesh'), undefined, 'no SDS for gRPC');
});

test.run();
