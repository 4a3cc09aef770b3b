/**
 * Clusters (osm cds/builder.go):
 *
 * - one per upstream service port, `<ns>/<svc>|<targetPort>`: endpoints over EDS/ADS, mTLS
 *   with the caller's certificate, the upstream's SNI, and the upstream's trust anchor;
 * - one per local service port, `<ns>/<svc>|<targetPort>|local`: the app itself on
 *   127.0.0.1:<targetPort>, where inbound traffic ends.
 *
 * No `connect_timeout`: OSM leaves Envoy's default (5s) unless an UpstreamTrafficSetting sets
 * one, and smi-compile has no UpstreamTrafficSetting.
 */
import { outboundRootCertSecretName, serviceCertName, serviceFqdn, serviceKey } from '../ir/names.ts';
import type { AppProtocol } from '../ir/types.ts';
import type { InboundPort, ProxyPlan, UpstreamCluster } from '../ir/proxy-plan.ts';
import {
  ADS_CONFIG_SOURCE,
  compareByName,
  HTTP_PROTOCOL_OPTIONS_HTTP2,
  HTTP_PROTOCOL_OPTIONS_USE_DOWNSTREAM,
  sdsSecret,
  socketAddress,
  TLS_PARAMS,
} from './common.ts';
import {
  ALPN_IN_MESH,
  HTTP_PROTOCOL_OPTIONS_KEY,
  LOCALHOST_ADDRESS,
  TLS_TRANSPORT_SOCKET,
  TYPE,
} from './names.ts';
import { deepFreeze, type EmitSession } from './session.ts';
import type { EnvoyResource } from './types.ts';
import type { Json } from '../shared/json.ts';

const UINT32_MAX = 4294967295;

/**
 * OSM's default circuit breaker: every threshold at its maximum, i.e. no circuit breaking,
 * with `track_remaining` so the remaining capacity still shows in stats
 * (osm cds GetDefaultCircuitBreakerThreshold). Envoy's own defaults (1024 connections) would
 * silently throttle a busy mesh.
 */
export const NO_CIRCUIT_BREAKING: Json = deepFreeze({
  thresholds: [
    {
      max_connections: UINT32_MAX,
      max_pending_requests: UINT32_MAX,
      max_requests: UINT32_MAX,
      max_retries: UINT32_MAX,
      track_remaining: true,
    },
  ],
});

/** Endpoints arrive as ClusterLoadAssignments named like the cluster, over the ADS stream. */
export const EDS_OVER_ADS: Json = deepFreeze({ eds_config: ADS_CONFIG_SOURCE });

const HTTP_PROTOCOL_OPTIONS: Readonly<Partial<Record<AppProtocol, Json>>> = {
  grpc: HTTP_PROTOCOL_OPTIONS_HTTP2,
  http: HTTP_PROTOCOL_OPTIONS_USE_DOWNSTREAM,
};

/**
 * The constant parts of every upstream cluster go through `shared()`: the proto check
 * remembers by identity only what `shared()` made, so each is proven valid once instead of
 * walked again in each of the clusters of a mesh.
 */
function constant<T extends object>(session: EmitSession, name: string, value: T): T {
  return session.shared('cluster-constant', name, () => value);
}

/** `typed_extension_protocol_options` for HTTP and gRPC clusters (one object each); TCP clusters carry none. */
function protocolOptions(session: EmitSession, protocol: AppProtocol): Json | undefined {
  const options = HTTP_PROTOCOL_OPTIONS[protocol];
  if (!options) return undefined;
  return session.shared('protocol-options', protocol, () => ({ [HTTP_PROTOCOL_OPTIONS_KEY]: constant(session, protocol, options) }));
}

/**
 * What every caller's cluster for one upstream shares, built once per upstream (a frozen
 * `shared()` object): its name, SNI and trust anchor reference, protocol options, and the
 * constant parts. `key` is its content key, which also names the upstream in the per-caller tables.
 */
interface UpstreamParts {
  readonly key: string;
  readonly name: string;
  readonly options: Json | undefined;
  /** `root-cert-for-mtls-outbound:<ns>/<svc>` as an SDS reference. */
  readonly validation: Json;
  /** The upstream service's FQDN. */
  readonly sni: string;
  readonly eds: Json;
  readonly circuitBreakers: Json;
  readonly tlsParams: Json;
}

function upstreamParts(session: EmitSession, upstream: UpstreamCluster): UpstreamParts {
  const key = session.keyOf(session.keys.clusterParts, upstream, (u) => `${u.name}|${u.protocol}|${serviceKey(u.service)}`);
  return session.shared('upstream-cluster-parts', key, () => ({
    key,
    name: upstream.name,
    options: protocolOptions(session, upstream.protocol),
    validation: sdsSecret(session, outboundRootCertSecretName(upstream.service)),
    sni: serviceFqdn(upstream.service),
    eds: constant(session, 'eds-over-ads', EDS_OVER_ADS),
    circuitBreakers: constant(session, 'no-circuit-breaking', NO_CIRCUIT_BREAKING),
    tlsParams: constant(session, 'tls-params', TLS_PARAMS),
  }));
}

/** `tls_certificate_sds_secret_configs`: the caller's own certificate; one list per caller, whatever it calls. */
function callerCertificates(session: EmitSession, callerCert: string): readonly Json[] {
  return session.shared('caller-certificates', callerCert, () => [sdsSecret(session, callerCert)]);
}

/**
 * The client side of mesh mTLS (osm GetUpstreamTLSContext): present the calling proxy's own
 * certificate, trust the upstream through `root-cert-for-mtls-outbound:<ns>/<svc>` (whose
 * secret also pins the upstream's identities), advertise ALPN `osm`, and send the upstream
 * service's FQDN as SNI: the upstream's inbound filter chain matches on exactly that name.
 *
 * Only the four objects on the path from the cluster down to the caller's certificate are new
 * per (caller, upstream); everything under them is shared, so the proto check walks just those
 * four (it prunes sub-objects it has already proven valid).
 */
function buildUpstreamCluster(parts: UpstreamParts, certificates: readonly Json[]): EnvoyResource {
  const commonTlsContext = Object.freeze({
    tls_params: parts.tlsParams,
    tls_certificate_sds_secret_configs: certificates,
    validation_context_sds_secret_config: parts.validation,
    alpn_protocols: ALPN_IN_MESH,
  });
  const typedConfig = Object.freeze({ '@type': TYPE.upstreamTlsContext, common_tls_context: commonTlsContext, sni: parts.sni });
  const transportSocket = Object.freeze({ name: TLS_TRANSPORT_SOCKET, typed_config: typedConfig });
  const cluster: Record<string, unknown> = {
    '@type': TYPE.cluster,
    name: parts.name,
    type: 'EDS',
    eds_cluster_config: parts.eds,
    circuit_breakers: parts.circuitBreakers,
  };
  if (parts.options) cluster.typed_extension_protocol_options = parts.options;
  cluster.transport_socket = transportSocket;
  return Object.freeze(cluster) as EnvoyResource;
}

function upstreamCluster(session: EmitSession, upstream: UpstreamCluster, callerCert: string, table: Map<string, EnvoyResource>): EnvoyResource {
  const parts = upstreamParts(session, upstream);
  let cluster = table.get(parts.key);
  if (!cluster) {
    cluster = buildUpstreamCluster(parts, callerCertificates(session, callerCert));
    table.set(parts.key, cluster);
    session.addedCallerCluster();
  }
  return cluster;
}

/** The local app behind one of the workload's service ports (osm getLocalServiceCluster, as a STATIC cluster: the address is a literal). */
export function localCluster(session: EmitSession, port: InboundPort): EnvoyResource {
  return session.shared('local-cluster', `${port.localCluster}|${port.targetPort}|${port.protocol}`, () => {
    const cluster: Record<string, unknown> = {
      '@type': TYPE.cluster,
      name: port.localCluster,
      type: 'STATIC',
      load_assignment: {
        cluster_name: port.localCluster,
        endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(LOCALHOST_ADDRESS, port.targetPort) } }] }],
      },
    };
    const options = protocolOptions(session, port.protocol);
    if (options) cluster.typed_extension_protocol_options = options;
    return cluster as EnvoyResource;
  });
}

/**
 * Every cluster of the proxy, sorted by name; one local cluster per distinct local cluster
 * name. An upstream cluster depends on the caller only through its certificate name, so
 * proxies with one service account share it (EmitSession.callerClusters).
 */
export function clusters(session: EmitSession, plan: ProxyPlan): EnvoyResource[] {
  const callerCert = serviceCertName(plan);
  const table = session.callerClusters(callerCert);
  const byName = new Map<string, EnvoyResource>();
  for (const upstream of plan.upstreams) byName.set(upstream.name, upstreamCluster(session, upstream, callerCert, table));
  for (const port of plan.inbound) if (!byName.has(port.localCluster)) byName.set(port.localCluster, localCluster(session, port));
  return [...byName.values()].sort(compareByName);
}
