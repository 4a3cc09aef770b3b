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
  outboundRootCertSecretName,
  serviceCertSecretName,
  serviceFqdn,
  serviceKey,
  TLS_TRANSPORT_SOCKET,
  TYPE,
} from './names.ts';
import { inputKey, shared } from './shared.ts';
import type { EnvoyResource } from './types.ts';
import type { Json } from '../shared/json.ts';

const UINT32_MAX = 4294967295;

/**
 * The constant parts of every upstream cluster are made by `shared()` (at load): the proto
 * check remembers by identity only what `shared()` made, so each is proven valid once instead
 * of walked again in each of the 1.37 M clusters of a 1,000-service permissive mesh.
 */
function constant<T extends object>(name: string, value: T): T {
  return shared('cluster-constant', name, () => value);
}

/**
 * OSM's default circuit breaker: every threshold at its maximum, i.e. no circuit breaking,
 * with `track_remaining` so the remaining capacity still shows in stats
 * (osm cds GetDefaultCircuitBreakerThreshold). Envoy's own defaults (1024 connections) would
 * silently throttle a busy mesh.
 */
export const NO_CIRCUIT_BREAKING: Json = constant('no-circuit-breaking', {
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
export const EDS_OVER_ADS: Json = constant('eds-over-ads', { eds_config: ADS_CONFIG_SOURCE });

/** `typed_extension_protocol_options` for HTTP and gRPC clusters (one frozen object each); TCP clusters carry none. */
const PROTOCOL_OPTIONS: Readonly<Partial<Record<AppProtocol, Json>>> = Object.freeze({
  grpc: Object.freeze({ [HTTP_PROTOCOL_OPTIONS_KEY]: constant('http2', HTTP_PROTOCOL_OPTIONS_HTTP2) }),
  http: Object.freeze({ [HTTP_PROTOCOL_OPTIONS_KEY]: constant('use-downstream', HTTP_PROTOCOL_OPTIONS_USE_DOWNSTREAM) }),
});

/** TLS versions of the upstream TLS context (common.ts's frozen constant, known to the proto check as shared). */
const UPSTREAM_TLS_PARAMS: Json = constant('tls-params', TLS_PARAMS);

function protocolOptions(protocol: AppProtocol): Json | undefined {
  return PROTOCOL_OPTIONS[protocol];
}

/**
 * What every caller's cluster for one upstream shares, built once per upstream (a frozen
 * `shared()` object): its name, SNI and trust anchor reference, protocol options. `key` is its
 * content key, which also names the upstream in the per-caller table below.
 */
interface UpstreamParts {
  readonly key: string;
  readonly name: string;
  readonly options: Json | undefined;
  /** `root-cert-for-mtls-outbound:<ns>/<svc>` as an SDS reference. */
  readonly validation: Json;
  /** The upstream service's FQDN. */
  readonly sni: string;
}

const partsKeys = new WeakMap<UpstreamCluster, string>();

function upstreamParts(upstream: UpstreamCluster): UpstreamParts {
  const key = inputKey(partsKeys, upstream, (u) => `${u.name}|${u.protocol}|${serviceKey(u.service)}`);
  return shared('upstream-cluster-parts', key, () => ({
    key,
    name: upstream.name,
    options: protocolOptions(upstream.protocol),
    validation: sdsSecret(outboundRootCertSecretName(upstream.service)),
    sni: serviceFqdn(upstream.service),
  }));
}

/** `tls_certificate_sds_secret_configs`: the caller's own certificate; one list per caller, whatever it calls. */
function callerCertificates(callerCert: string): readonly Json[] {
  return shared('caller-certificates', callerCert, () => [sdsSecret(callerCert)]);
}

/**
 * A caller's clusters, by upstream, for the callers seen last. A cluster names the caller's
 * certificate, so it is one object per (caller identity, upstream): workloads with one
 * service account share it, and a recompile gets the same objects back (the xDS server
 * matches unchanged resources by identity). Bounded by whole callers, least recently used
 * first: in permissive mode every proxy calls every service (1,366 clusters a caller at 1,000
 * services), and a table of every caller's would hold the square of the mesh alive after the
 * proxies that used it are written and gone. 32,768 holds every caller of a 1,000-service
 * restrictive mesh (22,780 clusters in all), so `serve` recompiles of it keep their objects.
 */
export const MAX_CACHED_CALLER_CLUSTERS = 32_768;
const clustersByCaller = new Map<string, Map<string, EnvoyResource>>();
let cachedCallerClusters = 0;

function clustersOfCaller(callerCert: string): Map<string, EnvoyResource> {
  let table = clustersByCaller.get(callerCert);
  if (table) {
    clustersByCaller.delete(callerCert); // most recently used last
  } else {
    table = new Map();
    for (const [caller, oldest] of clustersByCaller) {
      if (cachedCallerClusters <= MAX_CACHED_CALLER_CLUSTERS) break;
      clustersByCaller.delete(caller);
      cachedCallerClusters -= oldest.size;
    }
  }
  clustersByCaller.set(callerCert, table);
  return table;
}

/** Forget the cached per-caller clusters (with clearShared: tests, unrelated compiles). */
export function clearClusterCache(): void {
  clustersByCaller.clear();
  cachedCallerClusters = 0;
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
    tls_params: UPSTREAM_TLS_PARAMS,
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
    eds_cluster_config: EDS_OVER_ADS,
    circuit_breakers: NO_CIRCUIT_BREAKING,
  };
  if (parts.options) cluster.typed_extension_protocol_options = parts.options;
  cluster.transport_socket = transportSocket;
  return Object.freeze(cluster) as EnvoyResource;
}

/** A cluster depends on the caller only through its certificate name, so proxies with one service account share it. */
export function upstreamCluster(upstream: UpstreamCluster, plan: ProxyPlan): EnvoyResource {
  return upstreamClusterFor(upstream, serviceCertSecretName(plan.namespace, plan.serviceAccount));
}

function upstreamClusterFor(upstream: UpstreamCluster, callerCert: string, table = clustersOfCaller(callerCert)): EnvoyResource {
  const parts = upstreamParts(upstream);
  let cluster = table.get(parts.key);
  if (!cluster) {
    cluster = buildUpstreamCluster(parts, callerCertificates(callerCert));
    table.set(parts.key, cluster);
    cachedCallerClusters++;
  }
  return cluster;
}

/** The local app behind one of the workload's service ports (osm getLocalServiceCluster, as a STATIC cluster: the address is a literal). */
export function localCluster(port: InboundPort): EnvoyResource {
  return shared('local-cluster', `${port.localCluster}|${port.targetPort}|${port.protocol}`, () => {
    const cluster: Record<string, unknown> = {
      '@type': TYPE.cluster,
      name: port.localCluster,
      type: 'STATIC',
      load_assignment: {
        cluster_name: port.localCluster,
        endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(LOCALHOST_ADDRESS, port.targetPort) } }] }],
      },
    };
    const options = protocolOptions(port.protocol);
    if (options) cluster.typed_extension_protocol_options = options;
    return cluster as EnvoyResource;
  });
}

/** Every cluster of the proxy, sorted by name; one local cluster per distinct local cluster name. */
export function clusters(plan: ProxyPlan): EnvoyResource[] {
  const callerCert = serviceCertSecretName(plan.namespace, plan.serviceAccount);
  const table = clustersOfCaller(callerCert);
  const byName = new Map<string, EnvoyResource>();
  for (const upstream of plan.upstreams) byName.set(upstream.name, upstreamClusterFor(upstream, callerCert, table));
  for (const port of plan.inbound) if (!byName.has(port.localCluster)) byName.set(port.localCluster, localCluster(port));
  return [...byName.values()].sort(compareByName);
}
