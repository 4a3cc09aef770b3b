/**
 * The proxyless client flavour (gRFC A27): what a gRPC client with an xDS resolver receives
 * when it dials `xds:///<host>:<port>`, emitted from its workload's plan, so it carries the
 * sidecar's policy:
 *
 * - an API listener `<host>:<port>` whose route configuration (same name, over RDS) has the
 *   virtual host of the service the client may call on that port (none: no listener; restrictive
 *   mode applies to proxyless clients too), with its split;
 * - a sidecar mesh enforces HTTPRouteGroup matches at the destination (per-route RBAC). A
 *   proxyless client talks to the server directly, so the routes the destination admits for
 *   this client's identity move into the client's route table: other calls find no route and
 *   fail with UNAVAILABLE, as gRPC fails unrouted calls;
 * - clusters are the sidecar's EDS clusters without its SDS-based mTLS, which gRPC rejects: with
 *   a CA, mTLS from the certificate provider instead (tls.ts), else plaintext;
 * - ClusterLoadAssignments carry a locality weight: gRPC drops localities without one.
 */
import type { OutboundPort, UpstreamCluster, WeightedBackend } from '../../ir/proxy-plan.ts';
import { ADS_CONFIG_SOURCE, isHttpLike, socketAddress } from '../common.ts';
import { EDS_OVER_ADS, NO_CIRCUIT_BREAKING } from '../clusters.ts';
import { LOCAL_ZONE } from '../endpoints.ts';
import { GRPC_ROUTER_FILTER, outboundVirtualHostName, serviceHostnames, TYPE } from '../names.ts';
import { MATCH_ALL, outboundAction } from '../routes.ts';
import type { EnvoyResource } from '../types.ts';
import { admits, grpcRoutes } from './grpc-routes.ts';
import { destinationRoutes, type ProxylessMesh, type ProxylessProxy } from './mesh.ts';
import type { ApiListenerTarget } from './targets.ts';
import { clientTransportSocket } from './tls.ts';

import type { Json } from '../../shared/json.ts';

/** The API listener: an HttpConnectionManager fetching its route configuration over ADS, the router its only (so last) filter, as gRPC requires. */
export function apiListener(target: ApiListenerTarget): EnvoyResource {
  return {
    '@type': TYPE.listener,
    name: target.name,
    api_listener: {
      api_listener: {
        '@type': TYPE.httpConnectionManager,
        stat_prefix: target.name,
        rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: target.name },
        http_filters: [{ name: GRPC_ROUTER_FILTER, typed_config: { '@type': TYPE.router } }],
      },
    },
  };
}

/** The service the client reaches as `<host>:<port>`: the one whose virtual host lists that authority. */
export function outboundFor(proxy: ProxylessProxy, target: ApiListenerTarget): OutboundPort | undefined {
  const authority = `${target.host}:${target.port}`;
  return proxy.outbound.find(
    (o) => o.port === target.port && isHttpLike(o) && serviceHostnames(o.service, o.port, o.service.namespace === proxy.namespace).includes(authority),
  );
}

/** The backends in the order the outbound route lists them (a split's sorted by cluster, as `outboundAction`). */
function backendsOf(out: OutboundPort): readonly WeightedBackend[] {
  if (!out.split && out.backends.length === 1) return out.backends;
  return [...out.backends].sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
}

/** The outbound action sent to `admitted` only: all of them, the action unchanged; none with weight, no route. */
function narrowedAction(out: OutboundPort, admitted: readonly WeightedBackend[]): Json | undefined {
  if (admitted.length === out.backends.length) return outboundAction(out);
  if (admitted.every((b) => b.weight === 0)) return undefined;
  return outboundAction({ ...out, backends: admitted, split: admitted.length > 1 });
}

/**
 * The routes for one outbound service: its catch-all when no destination restricts it, else
 * one route per gRPC-evaluable match the destinations admit for the client, sent to the
 * backends that admit it (a split keeps its weights among them).
 */
function clientRoutes(mesh: ProxylessMesh, proxy: ProxylessProxy, out: OutboundPort, authority: string): Json[] {
  const backends = backendsOf(out);
  // Per backend: the matches its destination admits for the client, by content; undefined: no restriction known.
  const admitted = backends.map((b) => {
    const upstream = proxy.upstreams.find((u) => u.name === b.cluster);
    const routes = upstream ? destinationRoutes(mesh, upstream) : undefined;
    if (routes === undefined) return undefined;
    const matches = new Map<string, { readonly name: string; readonly match: Json }>();
    for (const r of grpcRoutes(routes, authority)) {
      const key = JSON.stringify(r.match);
      if (admits(r.route, proxy.identity) && !matches.has(key)) matches.set(key, r);
    }
    return matches;
  });
  if (admitted.every((a) => a === undefined)) return [{ match: { safe_regex: { regex: MATCH_ALL } }, route: outboundAction(out) }];

  const routes: Json[] = [];
  const seen = new Set<string>();
  for (const matches of admitted) {
    for (const [key, { name, match }] of matches ?? []) {
      if (seen.has(key)) continue;
      seen.add(key);
      const takers = backends.filter((_, i) => admitted[i] === undefined || admitted[i]!.has(key));
      const action = narrowedAction(out, takers);
      if (action) routes.push({ name, match, route: action });
    }
  }
  return routes;
}

/** The route configuration of the API listener `target` (named like it), or undefined when the client may not call that service on that port. */
export function clientRouteConfiguration(mesh: ProxylessMesh, proxy: ProxylessProxy, target: ApiListenerTarget): EnvoyResource | undefined {
  const out = outboundFor(proxy, target);
  if (!out) return undefined;
  const authority = `${target.host}:${target.port}`;
  return {
    '@type': TYPE.routeConfiguration,
    name: target.name,
    virtual_hosts: [{ name: outboundVirtualHostName(out.service), domains: [authority], routes: clientRoutes(mesh, proxy, out, authority) }],
  };
}

/** The upstream's EDS cluster as gRPC takes it: with the certificate provider's mTLS when `tlsInstance` is given, else plaintext. */
export function clientCluster(upstream: UpstreamCluster, tlsInstance: string | undefined): EnvoyResource {
  const cluster: Json = {
    '@type': TYPE.cluster,
    name: upstream.name,
    type: 'EDS',
    eds_cluster_config: EDS_OVER_ADS,
    circuit_breakers: NO_CIRCUIT_BREAKING,
  };
  if (tlsInstance !== undefined) cluster.transport_socket = clientTransportSocket(upstream, tlsInstance);
  return cluster as EnvoyResource;
}

/** The upstream's ClusterLoadAssignment with its locality weighted (gRPC ignores unweighted localities). */
export function clientEndpoints(upstream: UpstreamCluster): EnvoyResource {
  return {
    '@type': TYPE.clusterLoadAssignment,
    cluster_name: upstream.name,
    endpoints: [
      {
        locality: { zone: LOCAL_ZONE },
        lb_endpoints: upstream.endpoints.map((ip) => ({ endpoint: { address: socketAddress(ip, upstream.targetPort) } })),
        load_balancing_weight: 1,
      },
    ],
  };
}
