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
import type { InboundPort, ProxyPlan, ServiceName, UpstreamCluster } from '../ir/proxy-plan.ts';
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
import { shared } from './shared.ts';
import type { EnvoyResource } from './types.ts';

type Json = Record<string, unknown>;

const UINT32_MAX = 4294967295;

/**
 * OSM's default circuit breaker: every threshold at its maximum, i.e. no circuit breaking,
 * with `track_remaining` so the remaining capacity still shows in stats
 * (osm cds GetDefaultCircuitBreakerThreshold). Envoy's own defaults (1024 connections) would
 * silently throttle a busy mesh.
 */
const NO_CIRCUIT_BREAKING: Json = Object.freeze({
  thresholds: Object.freeze([
    Object.freeze({
      max_connections: UINT32_MAX,
      max_pending_requests: UINT32_MAX,
      max_requests: UINT32_MAX,
      max_retries: UINT32_MAX,
      track_remaining: true,
    }),
  ]),
});

/** Endpoints arrive as ClusterLoadAssignments named like the cluster, over the ADS stream. */
const EDS_OVER_ADS: Json = Object.freeze({ eds_config: ADS_CONFIG_SOURCE });

/** HTTP protocol options for HTTP and gRPC clusters; TCP clusters carry none. */
function protocolOptions(protocol: AppProtocol): Json | undefined {
  if (protocol === 'grpc') return { [HTTP_PROTOCOL_OPTIONS_KEY]: HTTP_PROTOCOL_OPTIONS_HTTP2 };
  if (protocol === 'http') return { [HTTP_PROTOCOL_OPTIONS_KEY]: HTTP_PROTOCOL_OPTIONS_USE_DOWNSTREAM };
  return undefined;
}

/**
 * The client side of mesh mTLS (osm GetUpstreamTLSContext): present the calling proxy's own
 * certificate, trust the upstream through `root-cert-for-mtls-outbound:<ns>/<svc>` (whose
 * secret also pins the upstream's identities), advertise ALPN `osm`, and send the upstream
 * service's FQDN as SNI: the upstream's inbound filter chain matches on exactly that name.
 */
function upstreamTlsTransportSocket(service: ServiceName, callerCert: string): Json {
  return shared('upstream-tls', `${serviceKey(service)}|${callerCert}`, () => ({
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': TYPE.upstreamTlsContext,
      common_tls_context: {
        tls_params: TLS_PARAMS,
        tls_certificate_sds_secret_configs: [sdsSecret(callerCert)],
        validation_context_sds_secret_config: sdsSecret(outboundRootCertSecretName(service)),
        alpn_protocols: ALPN_IN_MESH,
      },
      sni: serviceFqdn(service),
    },
  }));
}

/** A cluster depends on the caller only through its certificate name, so proxies with one service account share it. */
export function upstreamCluster(upstream: UpstreamCluster, plan: ProxyPlan): EnvoyResource {
  const callerCert = serviceCertSecretName(plan.namespace, plan.serviceAccount);
  return shared('upstream-cluster', `${upstream.name}|${upstream.protocol}|${callerCert}`, () => {
    const cluster: Record<string, unknown> = {
      '@type': TYPE.cluster,
      name: upstream.name,
      type: 'EDS',
      eds_cluster_config: EDS_OVER_ADS,
      circuit_breakers: NO_CIRCUIT_BREAKING,
    };
    const options = protocolOptions(upstream.protocol);
    if (options) cluster.typed_extension_protocol_options = options;
    cluster.transport_socket = upstreamTlsTransportSocket(upstream.service, callerCert);
    return cluster as EnvoyResource;
  });
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
  const byName = new Map<string, EnvoyResource>();
  for (const upstream of plan.upstreams) byName.set(upstream.name, upstreamCluster(upstream, plan));
  for (const port of plan.inbound) if (!byName.has(port.localCluster)) byName.set(port.localCluster, localCluster(port));
  return [...byName.values()].sort(compareByName);
}
