/**
 * Every name smi-compile gives an Envoy object that only emit spells, in one place; the
 * names other stages share (services, clusters, identities, SDS secrets) are made in
 * src/ir/names.ts. They follow OSM v1.2 (see DESIGN.md's naming table) so that OSM users'
 * dashboards, stats queries and `envoy admin /config_dump` habits carry over unchanged.
 */
import { serviceFqdn, serviceKey } from '../ir/names.ts';
import type { ServiceName } from '../ir/proxy-plan.ts';
import type { AppProtocol } from '../ir/types.ts';

// ── Listeners (osm pkg/envoy/generator/lds/listener.go, pkg/constants) ─────

export const OUTBOUND_LISTENER_NAME = 'outbound-listener';
export const INBOUND_LISTENER_NAME = 'inbound-listener';
export const WILDCARD_ADDRESS = '0.0.0.0';
export const LOCALHOST_ADDRESS = '127.0.0.1';
export const OUTBOUND_LISTENER_PORT = 15001;
export const INBOUND_LISTENER_PORT = 15003;
export const ADMIN_PORT = 15000;

/** `osm` ALPN: the client side advertises it, the server side's filter chains require it (osm pkg/envoy/xdsutil.go ALPNInMesh). */
export const ALPN_IN_MESH: readonly string[] = ['osm'];
export const TRANSPORT_PROTOCOL_TLS = 'tls';

// ── Filter names. OSM names its filters by short names (pkg/envoy/types.go); the typed_config's
// @type is what selects the extension, so these are labels for stats and config dumps. The one
// name that matters is the HTTP RBAC filter's: per-route configs are keyed by it.

export const ORIGINAL_DST_FILTER = 'original_dst';
export const TLS_INSPECTOR_FILTER = 'tls_inspector';
export const HTTP_CONNECTION_MANAGER_FILTER = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY_FILTER = 'tcp_proxy';
export const NETWORK_RBAC_FILTER = 'l4_rbac';
export const HTTP_RBAC_FILTER = 'envoy.filters.http.rbac';
export const HTTP_ROUTER_FILTER = 'http_router';
export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Stat prefix of the network RBAC filter; Envoy prints it as `network-rbac.*` (osm lds/rbac.go). */
export const NETWORK_RBAC_STAT_PREFIX = 'network-';
/** The single policy of every per-route HTTP RBAC config (osm rds/rbac.go). */
export const RBAC_PER_ROUTE_POLICY = 'rbac-for-route';

// ── Type URLs of everything packed into an Any ────────────────────────────

const T = 'type.googleapis.com/';
export const TYPE = {
  listener: `${T}envoy.config.listener.v3.Listener`,
  routeConfiguration: `${T}envoy.config.route.v3.RouteConfiguration`,
  cluster: `${T}envoy.config.cluster.v3.Cluster`,
  clusterLoadAssignment: `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  secret: `${T}envoy.extensions.transport_sockets.tls.v3.Secret`,
  originalDst: `${T}envoy.extensions.filters.listener.original_dst.v3.OriginalDst`,
  tlsInspector: `${T}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`,
  httpConnectionManager: `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
  tcpProxy: `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
  networkRbac: `${T}envoy.extensions.filters.network.rbac.v3.RBAC`,
  httpRbac: `${T}envoy.extensions.filters.http.rbac.v3.RBAC`,
  httpRbacPerRoute: `${T}envoy.extensions.filters.http.rbac.v3.RBACPerRoute`,
  router: `${T}envoy.extensions.filters.http.router.v3.Router`,
  upstreamTlsContext: `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
  downstreamTlsContext: `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
  httpProtocolOptions: `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
  bootstrap: `${T}envoy.config.bootstrap.v3.Bootstrap`,
} as const;

// ── Proxies ────────────────────────────────────────────────────────────────

/** The node id is made in ir/names.ts, where the planned IR sorts by it. */
export { nodeId } from '../ir/names.ts';

// ── Services ───────────────────────────────────────────────────────────────

/**
 * Host names a service answers to on `port`, in OSM's order (osm pkg/compute/kube/client.go
 * GetHostnamesForService): the bare name only for callers in the same namespace.
 */
export function serviceHostnames(svc: ServiceName, port: number, sameNamespace: boolean): string[] {
  const hosts = sameNamespace ? [svc.name, `${svc.name}:${port}`] : [];
  // `<svc>.<ns>`, `<svc>.<ns>.svc`, ... up to the FQDN: each prefix of it that ends after the namespace.
  const fqdn = serviceFqdn(svc);
  for (let end = fqdn.indexOf('.', fqdn.indexOf('.') + 1); ; end = fqdn.indexOf('.', end + 1)) {
    const host = end === -1 ? fqdn : fqdn.slice(0, end);
    hosts.push(host, `${host}:${port}`);
    if (end === -1) return hosts;
  }
}

// ── Filter chains, route configurations, virtual hosts ─────────────────────

/** `outbound_<ns>/<svc>_<port>_<proto>` (osm MeshService.OutboundTrafficMatchName). */
export function outboundFilterChainName(svc: ServiceName, port: number, protocol: AppProtocol): string {
  return `outbound_${serviceKey(svc)}_${port}_${protocol}`;
}

/**
 * Name of the one HTTP filter chain shared by every HTTP/gRPC service on `port` whose
 * addresses are unknown. OSM never needs this (it always knows ClusterIPs); we keep its
 * `outbound_<ns>/<svc>_<port>_<proto>` pattern with `*` as both namespace and service
 * ("any service"), which cannot collide with a real Kubernetes name.
 */
export function mergedOutboundFilterChainName(port: number): string {
  return `outbound_*/*_${port}_http`;
}

/** `inbound_<ns>/<svc>_<targetPort>_<proto>` (osm MeshService.InboundTrafficMatchName). */
export function inboundFilterChainName(svc: ServiceName, targetPort: number, protocol: AppProtocol): string {
  return `inbound_${serviceKey(svc)}_${targetPort}_${protocol}`;
}

/** `rds-outbound.<port>`: one per service port, so equal Host headers on different ports cannot clash (osm rds/builder.go). */
export function outboundRouteConfigName(port: number): string {
  return `rds-outbound.${port}`;
}

export function inboundRouteConfigName(targetPort: number): string {
  return `rds-inbound.${targetPort}`;
}

/**
 * An inbound route: the plan's route name (`<ns>/<group>/<match>`, or `*`), with `|<METHOD>`
 * when OSM's one-route-per-method expansion made it for one method (undefined: any method).
 */
export function inboundRouteName(planRoute: string, method: string | undefined): string {
  return method === undefined ? planRoute : `${planRoute}|${method}`;
}

export function outboundVirtualHostName(svc: ServiceName): string {
  return `outbound_virtual-host|${serviceFqdn(svc)}`;
}

export function inboundVirtualHostName(svc: ServiceName): string {
  return `inbound_virtual-host|${serviceFqdn(svc)}`;
}

// ── Clusters ───────────────────────────────────────────────────────────────

/** The bootstrap's static cluster pointing at the smi-compile xDS server. */
export const XDS_CLUSTER_NAME = 'smi-compile-xds';

// ── Proxyless gRPC (gRFC A27 clients, A36 servers) ─────────────────────────

/** `<host>:<port>`: the Listener (and route configuration) a gRPC client dialling `xds:///<host>:<port>` asks for. */
export function apiListenerName(host: string, port: number): string {
  return `${host}:${port}`;
}

/** The gRFC A36 `server_listener_resource_name_template` with the `%s` before the address. */
export const GRPC_SERVER_LISTENER_PREFIX = 'grpc/server?xds.resource.listening_address=';

/** `grpc/server?xds.resource.listening_address=<ip>:<port>` (an IPv6 address in brackets). */
export function grpcServerListenerName(host: string, port: number): string {
  return `${GRPC_SERVER_LISTENER_PREFIX}${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The one filter chain of a gRPC server's listener. */
export function grpcServerFilterChainName(port: number): string {
  return `inbound_grpc_${port}`;
}

export function grpcServerStatPrefix(port: number): string {
  return `grpc-server.${port}`;
}

/** The router of proxyless HTTP filter lists (gRPC requires it, last). */
export const GRPC_ROUTER_FILTER = 'envoy.filters.http.router';
/**
 * The HTTP RBAC filter of a gRPC server, in its filter list and in every route's
 * `typed_per_filter_config`: Envoy and grpc-go key per-route configs by filter name, grpc-js
 * (1.14) by type URL, and naming it by its type URL satisfies both.
 */
export const GRPC_RBAC_FILTER = TYPE.httpRbac;
