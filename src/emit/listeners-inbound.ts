/**
 * `inbound-listener` (0.0.0.0:15003): where iptables sends connections to the app. Callers
 * arrive over mTLS; tls_inspector reads the SNI (set by the caller's cluster to the service's
 * FQDN) and ALPN, so each of the workload's service ports gets its own filter chain
 * (osm lds/inmesh.go buildInboundHTTPFilterChain / buildInboundTCPFilterChain):
 *
 *   match   destination port = targetPort, SNI = <svc>.<ns>.svc.cluster.local, TLS, ALPN `osm`
 *   filters [network RBAC: who may connect] then HTTP connection manager (`rds-inbound.<targetPort>`,
 *           per-route RBAC) for HTTP/gRPC, or tcp_proxy to the local app for TCP
 *   tls     server certificate `service-cert:<ns>/<sa>`, client certificate required and checked
 *           against `root-cert-for-mtls-inbound:<ns>/<sa>`
 */
import { inboundRootCertSecretName, serviceCertName, serviceFqdn } from '../ir/names.ts';
import type { InboundPort, ProxyPlan } from '../ir/proxy-plan.ts';
import { compareByName, emptyTyped, isHttpLike, sdsSecret, socketAddress, TLS_PARAMS } from './common.ts';
import { httpConnectionManagerFilter } from './http-connection-manager.ts';
import {
  ALPN_IN_MESH,
  INBOUND_LISTENER_NAME,
  INBOUND_LISTENER_PORT,
  inboundFilterChainName,
  inboundRouteConfigName,
  ORIGINAL_DST_FILTER,
  TLS_INSPECTOR_FILTER,
  TLS_TRANSPORT_SOCKET,
  TRANSPORT_PROTOCOL_TLS,
  TYPE,
  WILDCARD_ADDRESS,
} from './names.ts';
import { networkRbacFilter } from './rbac.ts';
import type { EmitSession } from './session.ts';
import { tcpProxyFilter } from './tcp-proxy.ts';
import type { EnvoyResource } from './types.ts';
import type { Json } from '../shared/json.ts';

/** The proxy's server-side TLS: one context for all its ports, since they share one identity (osm GetDownstreamTLSContext). */
function downstreamTlsTransportSocket(session: EmitSession, plan: ProxyPlan): Json {
  return session.shared('downstream-tls', `${plan.namespace}/${plan.serviceAccount}`, () => ({
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': TYPE.downstreamTlsContext,
      common_tls_context: {
        tls_params: TLS_PARAMS,
        tls_certificate_sds_secret_configs: [sdsSecret(session, serviceCertName(plan))],
        validation_context_sds_secret_config: sdsSecret(session, inboundRootCertSecretName(plan)),
      },
      require_client_certificate: true,
    },
  }));
}

/**
 * Filters of one inbound chain. Network RBAC comes first so that a caller no TrafficTarget
 * admits is refused before any byte reaches HTTP processing; `policies` undefined means
 * permissive mode, where OSM installs no RBAC at all.
 */
function inboundFilters(session: EmitSession, port: InboundPort, chainName: string): Json[] {
  const filters: Json[] = [];
  if (port.policies !== undefined) filters.push(networkRbacFilter(session, port.policies));
  filters.push(
    isHttpLike(port)
      ? httpConnectionManagerFilter(session, inboundRouteConfigName(port.targetPort), true)
      : tcpProxyFilter(chainName, [{ cluster: port.localCluster, weight: 1 }], false),
  );
  return filters;
}

function inboundFilterChain(session: EmitSession, port: InboundPort, tls: Json): Json {
  const name = inboundFilterChainName(port.service, port.targetPort, port.protocol);
  return {
    name,
    filter_chain_match: {
      destination_port: port.targetPort,
      server_names: [serviceFqdn(port.service)],
      transport_protocol: TRANSPORT_PROTOCOL_TLS,
      application_protocols: ALPN_IN_MESH,
    },
    filters: inboundFilters(session, port, name),
    transport_socket: tls,
  };
}

/** The inbound listener, or undefined when the workload serves no service port (a listener needs a filter chain). */
export function inboundListener(session: EmitSession, plan: ProxyPlan): EnvoyResource | undefined {
  const tls = downstreamTlsTransportSocket(session, plan);
  // Two ports of one service with the same targetPort and protocol would give two chains with the
  // same name and the same match, which Envoy rejects; they serve the same app port, so one is enough.
  const chains = new Map<string, Json>();
  for (const port of plan.inbound) {
    const chain = inboundFilterChain(session, port, tls);
    if (!chains.has(chain.name as string)) chains.set(chain.name as string, chain);
  }
  if (chains.size === 0) return undefined;
  return {
    '@type': TYPE.listener,
    name: INBOUND_LISTENER_NAME,
    address: socketAddress(WILDCARD_ADDRESS, INBOUND_LISTENER_PORT),
    filter_chains: [...chains.values()].sort(compareByName),
    listener_filters: [
      { name: TLS_INSPECTOR_FILTER, typed_config: emptyTyped(TYPE.tlsInspector) },
      { name: ORIGINAL_DST_FILTER, typed_config: emptyTyped(TYPE.originalDst) },
    ],
    traffic_direction: 'INBOUND',
  };
}
