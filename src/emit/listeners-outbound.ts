/**
 * `outbound-listener` (0.0.0.0:15001): where iptables sends every connection the app opens.
 * `original_dst` restores the address the app dialled, and one filter chain per reachable
 * service port picks the connection by that destination (osm lds/inmesh.go
 * buildOutboundFilterChains): HTTP and gRPC go through an HTTP connection manager whose routes
 * (`rds-outbound.<port>`) choose the service by Host header; TCP goes straight to the
 * service's cluster (or its split) with tcp_proxy. Which chains, matching what, is the plan's
 * decision (ProxyPlan.outboundLayout, src/passes/outbound-layout.ts); this file renders them.
 *
 * OSM also installs tls_inspector and http_inspector here, for egress filter chains that match
 * on SNI and ALPN. smi-compile emits no egress chains and matches on address and port only, so
 * the inspectors would only delay server-first protocols; they are left out.
 */
import type { OutboundChain, ProxyPlan } from '../ir/proxy-plan.ts';
import { emptyTyped, exactCidr, isHttpLike, socketAddress } from './common.ts';
import { httpConnectionManagerFilter } from './http-connection-manager.ts';
import {
  mergedOutboundFilterChainName,
  ORIGINAL_DST_FILTER,
  OUTBOUND_LISTENER_NAME,
  OUTBOUND_LISTENER_PORT,
  outboundFilterChainName,
  outboundRouteConfigName,
  TYPE,
  WILDCARD_ADDRESS,
} from './names.ts';
import type { EmitSession } from './session.ts';
import { tcpProxyFilter } from './tcp-proxy.ts';
import type { EnvoyResource } from './types.ts';
import type { Json } from '../shared/json.ts';
import { byName, compareStrings } from '../shared/compare.ts';

/** A chain's name: its service port's (OSM's), or for a shared HTTP chain the port's. */
export function outboundChainName(chain: OutboundChain): string {
  return chain.kind === 'service' ? outboundFilterChainName(chain.service.service, chain.port, chain.service.protocol) : mergedOutboundFilterChainName(chain.port);
}

function filterChainMatch(port: number, addresses: readonly string[]): Json {
  const match: Json = { destination_port: port };
  if (addresses.length > 0) match.prefix_ranges = addresses.map(exactCidr);
  return match;
}

/** A filter chain depends only on the services it serves, never on the calling proxy: shared. */
function outboundFilterChain(session: EmitSession, chain: OutboundChain, name: string): Json {
  const addresses = chain.kind === 'service' ? chain.addresses : [];
  const tcp = chain.kind === 'service' && !isHttpLike(chain.service) ? chain.service : undefined;
  const target = tcp ? tcp.backends.map((b) => `${b.cluster}=${b.weight}`).join(',') + `|${tcp.split}` : '';
  const key = `${name}|${addresses.join(',')}|${target}`;
  return session.shared('outbound-chain', key, () => {
    const filter = tcp ? tcpProxyFilter(name, tcp.backends, tcp.split) : httpConnectionManagerFilter(session, outboundRouteConfigName(chain.port), false);
    return { name, filter_chain_match: filterChainMatch(chain.port, addresses), filters: [filter] };
  });
}

/** The outbound listener, or undefined when the proxy may call nothing (Envoy rejects a listener without filter chains; OSM omits it too). */
export function outboundListener(session: EmitSession, plan: ProxyPlan): EnvoyResource | undefined {
  const { chains } = plan.outboundLayout;
  if (chains.length === 0) return undefined;
  // By name: the plan's order is by address first, and the listener's has always been by name.
  const filterChains = chains
    .map((chain) => ({ chain, name: outboundChainName(chain) }))
    .sort(byName)
    .map(({ chain, name }) => outboundFilterChain(session, chain, name));
  // Proxies that may call the same services (every proxy, in a permissive mesh) share one listener.
  return session.shared('outbound-listener', filterChains.map((c) => session.idOf(c)).join(','), () => ({
    '@type': TYPE.listener,
    name: OUTBOUND_LISTENER_NAME,
    address: socketAddress(WILDCARD_ADDRESS, OUTBOUND_LISTENER_PORT),
    filter_chains: filterChains,
    listener_filters: [{ name: ORIGINAL_DST_FILTER, typed_config: emptyTyped(TYPE.originalDst) }],
    traffic_direction: 'OUTBOUND',
  }));
}
