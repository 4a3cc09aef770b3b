/**
 * Every name smi-compile gives an Envoy object, in one place. They follow OSM v1.2
 * (see DESIGN.md's naming table) so that OSM users' dashboards, stats queries and
 * `envoy admin /config_dump` habits carry over unchanged.
 */
import type { AppProtocol } from '../ir/types.ts';
import type { ServiceName } from '../ir/proxy-plan.ts';

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

// ── Services ───────────────────────────────────────────────────────────────

/** `<ns>/<svc>`, OSM's MeshService.String(). */
export function serviceKey(svc: ServiceName): string {
  return `${svc.namespace}/${svc.name}`;
}

/** `<svc>.<ns>.svc.cluster.local`: SNI, inbound server name, and virtual host suffix (osm MeshService.FQDN). */
export function serviceFqdn(svc: ServiceName): string {
  return `${svc.name}.${svc.namespace}.svc.cluster.local`;
}

/**
 * Host names a service answers to on `port`, in OSM's order (osm pkg/compute/kube/client.go
 * GetHostnamesForService): the bare name only for callers in the same namespace.
 */
export function serviceHostnames(svc: ServiceName, port: number, sameNamespace: boolean): string[] {
  const { name, namespace: ns } = svc;
  const hosts = sameNamespace ? [name, `${name}:${port}`] : [];
  for (const host of [`${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.cluster`, `${name}.${ns}.svc.cluster.local`]) {
    hosts.push(host, `${host}:${port}`);
  }
  return hosts;
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

/** `<ns>/<svc>|<targetPort>` (osm MeshService.EnvoyClusterName). */
export function upstreamClusterName(svc: ServiceName, targetPort: number): string {
  return `${serviceKey(svc)}|${targetPort}`;
}

/** `<ns>/<svc>|<targetPort>|local` (osm MeshService.EnvoyLocalClusterName). */
export function localClusterName(svc: ServiceName, targetPort: number): string {
  return `${upstreamClusterName(svc, targetPort)}|local`;
}

/** The bootstrap's static cluster pointing at the smi-compile xDS server. */
export const XDS_CLUSTER_NAME = 'smi-compile-xds';

// ── SDS secrets (osm pkg/envoy/secrets/secrets.go; DESIGN.md) ─────────────

/** The proxy's own certificate: `service-cert:<ns>/<sa>`. */
export function serviceCertSecretName(namespace: string, serviceAccount: string): string {
  return `service-cert:${namespace}/${serviceAccount}`;
}

/** Trust anchor (and SAN check) for calling `svc`: `root-cert-for-mtls-outbound:<ns>/<svc>`. */
export function outboundRootCertSecretName(svc: ServiceName): string {
  return `root-cert-for-mtls-outbound:${serviceKey(svc)}`;
}

/** Trust anchor for callers of this proxy: `root-cert-for-mtls-inbound:<ns>/<sa>`. */
export function inboundRootCertSecretName(namespace: string, serviceAccount: string): string {
  return `root-cert-for-mtls-inbound:${namespace}/${serviceAccount}`;
}

// ── Proxies ────────────────────────────────────────────────────────────────

/** `<ns>/<workload>`: the node id a proxy (sidecar or gRPC client/server) names itself by. */
export function proxyNodeId(namespace: string, workload: string): string {
  return `${namespace}/${workload}`;
}

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
