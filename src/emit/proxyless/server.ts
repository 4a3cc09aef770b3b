/**
 * The proxyless server flavour (gRFC A36): an xDS-enabled gRPC server (grpc-js-xds `XdsServer`,
 * grpc-go `xds.NewGRPCServer`) asks for `grpc/server?xds.resource.listening_address=<ip>:<port>`
 * and applies its one filter chain to every connection: TLS settings, then routes and HTTP
 * filters (RBAC) per call. Emitted from the HTTP/gRPC inbound ports of the server's own plan on
 * the port it listens on, so it enforces the TrafficTargets a sidecar would:
 *
 * - the ports' network policies (who may connect at all) become the top-level HTTP RBAC config,
 *   since gRPC has no network filters;
 * - the sidecar's inbound virtual hosts become the server's route configuration (named like the
 *   listener), each route matching as gRPC can (grpc-routes.ts) and carrying
 *   `non_forwarding_action`, as gRPC servers require; its per-route RBAC (who may use that
 *   HTTPRouteGroup match) overrides the top-level config;
 * - principals `<sa>.<ns>.<trustDomain>` also admit the matching SPIFFE ID: gRPC matches
 *   `principal_name` against URI SANs when a certificate has any (gRFC A41);
 * - with a CA, the chain requires client certificates from the certificate provider (tls.ts).
 *
 * RBAC is not optional: a gRPC server without RBAC support (grpc-js without
 * GRPC_XDS_EXPERIMENTAL_RBAC=true) rejects the listener rather than serve everyone.
 */
import { byName } from '../../shared/compare.ts';
import type { InboundHttpRoute, InboundPolicy, InboundPort } from '../../ir/proxy-plan.ts';
import { spiffeId } from '../../identity/identity.ts';
import { ADS_CONFIG_SOURCE, isHttpLike, socketAddress } from '../common.ts';
import {
  GRPC_RBAC_FILTER,
  GRPC_ROUTER_FILTER,
  grpcServerFilterChainName,
  grpcServerStatPrefix,
  HTTP_CONNECTION_MANAGER_FILTER,
  inboundFilterChainName,
  RBAC_PER_ROUTE_POLICY,
  TYPE,
} from '../names.ts';
import { groupVirtualHosts } from '../routes.ts';
import type { EnvoyResource } from '../types.ts';
import { grpcRoutes } from './grpc-routes.ts';
import type { ProxylessProxy } from './mesh.ts';
import type { ServerListenerTarget } from './targets.ts';
import { serverTransportSocket } from './tls.ts';

import type { Json } from '../../shared/json.ts';

const ANY = Object.freeze([Object.freeze({ any: true })]);

/** The HTTP/gRPC ports the workload serves on `port`, one per sidecar filter chain (TCP ports have no routes for gRPC to apply). */
function servedPorts(proxy: ProxylessProxy, port: number): InboundPort[] {
  const byChain = new Map<string, InboundPort>();
  for (const p of proxy.inbound) {
    if (p.targetPort !== port || !isHttpLike(p)) continue;
    const chain = inboundFilterChainName(p.service, p.targetPort, p.protocol);
    if (!byChain.has(chain)) byChain.set(chain, p);
  }
  return [...byChain].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, p]) => p);
}

/**
 * A principal: the OSM name, and when the identity is `<sa>.<ns>.<trustDomain>` of the
 * proxy's trust domain, its SPIFFE ID too. Namespaces have no dots; service accounts may.
 */
function principal(identity: string, trustDomain: string): Json {
  const osm = { authenticated: { principal_name: { exact: identity } } };
  if (!identity.endsWith(`.${trustDomain}`)) return osm;
  const saNs = identity.slice(0, -trustDomain.length - 1);
  const dot = saNs.lastIndexOf('.');
  if (dot <= 0) return osm;
  const spiffe = spiffeId({ namespace: saNs.slice(dot + 1), serviceAccount: saNs.slice(0, dot), trustDomain });
  return { or_ids: { ids: [osm, { authenticated: { principal_name: { exact: spiffe } } }] } };
}

function policy(principals: readonly string[] | undefined, trustDomain: string): Json {
  return { permissions: ANY, principals: principals === undefined ? ANY : principals.map((p) => principal(p, trustDomain)) };
}

/**
 * The top-level rules: the union of the ports' network policies (ALLOW; a policy with no
 * principals left out, as the sidecar's network RBAC does), or undefined when some port admits
 * everyone (permissive mode: no network RBAC). A name two ports use for different principals
 * gets `#2`.
 */
function connectionRules(ports: readonly InboundPort[], trustDomain: string): Json | undefined {
  const policies: Record<string, readonly string[]> = {};
  for (const port of ports) {
    if (port.policies === undefined) return undefined;
    const sorted = [...port.policies].sort(byName);
    for (const p of sorted) {
      if (p.principals.length === 0) continue;
      let key = p.name;
      for (let i = 2; key in policies && policies[key].join(',') !== p.principals.join(','); i++) key = `${p.name}#${i}`;
      policies[key] = p.principals;
    }
  }
  const rules: Json = {};
  for (const [name, principals] of Object.entries(policies)) rules[name] = policy(principals, trustDomain);
  return { action: 'ALLOW', policies: rules };
}

/** A route as a gRPC server applies it: no forwarding, its RBAC under the filter's name. */
function serverRoutes(port: InboundPort, authority: string, trustDomain: string): Json[] {
  return grpcRoutes(port.routes, authority).map(({ name, match, route }) => ({
    name,
    match,
    non_forwarding_action: {},
    typed_per_filter_config: { [GRPC_RBAC_FILTER]: perRouteRbac(route, trustDomain) },
  }));
}

/** The sidecar's per-route RBAC (emit/rbac.ts rbacPerRoute), with SPIFFE principals. */
function perRouteRbac(route: InboundHttpRoute, trustDomain: string): Json {
  const none = route.principals !== undefined && route.principals.length === 0;
  return {
    '@type': TYPE.httpRbacPerRoute,
    rbac: { rules: { action: 'ALLOW', policies: none ? {} : { [RBAC_PER_ROUTE_POLICY]: policy(route.principals, trustDomain) } } },
  };
}

/** The route configuration the server's listener names (named like it); undefined when the workload serves no HTTP/gRPC on that port. */
export function serverRouteConfiguration(proxy: ProxylessProxy, target: ServerListenerTarget): EnvoyResource | undefined {
  const ports = servedPorts(proxy, target.port);
  if (ports.length === 0) return undefined;
  // The authority gRPC is judged against: the virtual host's first name (the bare service name).
  const virtualHosts = groupVirtualHosts(ports, (port) => serverRoutes(port, port.service.name, proxy.trustDomain));
  return { '@type': TYPE.routeConfiguration, name: target.name, virtual_hosts: virtualHosts };
}

/** The gRPC server's Listener for `target`, or undefined when the workload serves no HTTP/gRPC on that port. */
export function serverListener(proxy: ProxylessProxy, target: ServerListenerTarget, tlsInstance: string | undefined): EnvoyResource | undefined {
  const ports = servedPorts(proxy, target.port);
  if (ports.length === 0) return undefined;
  // No network policy but routes (each carries a per-route config): a top-level config that denies no one, so the routes' configs apply.
  const perRoute = ports.some((p) => grpcRoutes(p.routes, p.service.name).length > 0);
  const rbac = connectionRules(ports, proxy.trustDomain) ?? (perRoute ? { action: 'DENY', policies: {} } : undefined);
  const chain: Json = {
    name: grpcServerFilterChainName(target.port),
    filters: [
      {
        name: HTTP_CONNECTION_MANAGER_FILTER,
        typed_config: {
          '@type': TYPE.httpConnectionManager,
          stat_prefix: grpcServerStatPrefix(target.port),
          rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: target.name },
          http_filters: [
            ...(rbac ? [{ name: GRPC_RBAC_FILTER, typed_config: { '@type': TYPE.httpRbac, rules: rbac } }] : []),
            { name: GRPC_ROUTER_FILTER, typed_config: { '@type': TYPE.router } },
          ],
        },
      },
    ],
  };
  if (tlsInstance !== undefined) chain.transport_socket = serverTransportSocket(tlsInstance);
  return {
    '@type': TYPE.listener,
    name: target.name,
    address: socketAddress(target.host, target.port),
    filter_chains: [chain],
    traffic_direction: 'INBOUND',
  };
}
