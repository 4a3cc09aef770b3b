/**
 * `outbound-listener` (0.0.0.0:15001): where iptables sends every connection the app opens.
 * `original_dst` restores the address the app dialled, and one filter chain per reachable
 * service port picks the connection by that destination (osm lds/inmesh.go
 * buildOutboundFilterChains): HTTP and gRPC go through an HTTP connection manager whose routes
 * (`rds-outbound.<port>`) choose the service by Host header; TCP goes straight to the
 * service's cluster (or its split) with tcp_proxy.
 *
 * OSM also installs tls_inspector and http_inspector here, for egress filter chains that match
 * on SNI and ALPN. smi-compile emits no egress chains and matches on address and port only, so
 * the inspectors would only delay server-first protocols; they are left out.
 */
import { serviceKey } from '../ir/names.ts';
import type { OutboundPort, ProxyPlan } from '../ir/proxy-plan.ts';
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

type Json = Record<string, unknown>;

/** One outbound filter chain to emit: usually one service port, several when merged. */
export interface OutboundChainPlan {
  readonly name: string;
  readonly port: number;
  readonly http: boolean;
  /** Destination IPs to match; empty = any address on this port. */
  readonly addresses: readonly string[];
  /** The service ports this chain serves (one, except for a merged address-less HTTP chain). */
  readonly services: readonly OutboundPort[];
}

export interface OutboundChainLayout {
  readonly chains: readonly OutboundChainPlan[];
  /**
   * Address-less TCP service ports that cannot get a filter chain: another chain already
   * claims "any address" on their port, and without an address or a Host header there is
   * nothing left to tell them apart. The passes report these; emit just leaves them out.
   */
  readonly unreachable: readonly OutboundPort[];
}

function byService(a: OutboundPort, b: OutboundPort): number {
  const ka = serviceKey(a.service);
  const kb = serviceKey(b.service);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Decides the outbound filter chains. Services with known addresses get one chain each,
 * matched by port and `/32` (or `/128`) prefix ranges, exactly as OSM does.
 *
 * Services whose addresses are unknown (a ClusterIP not in the manifests, common when
 * compiling source manifests) can only be matched by destination port. Envoy rejects a
 * listener whose filter chains have identical matches, so per port:
 *  - all address-less HTTP/gRPC services share ONE chain (see mergedOutboundFilterChainName).
 *    Nothing is lost: the chain's `rds-outbound.<port>` holds a virtual host per service
 *    and routes by Host header anyway. A single such service keeps its own chain name.
 *  - an address-less TCP service has no Host header to route by. If an HTTP chain already
 *    claims the port, or an earlier (by `<ns>/<svc>`) TCP service does, it cannot be told
 *    apart and is reported in `unreachable` instead of emitted. HTTP wins over TCP because
 *    the HTTP chain still serves several services correctly; the TCP one would serve one.
 */
export function layoutOutboundChains(outbound: readonly OutboundPort[]): OutboundChainLayout {
  const chains: OutboundChainPlan[] = [];
  const unreachable: OutboundPort[] = [];
  const addressless = new Map<number, OutboundPort[]>();

  for (const out of outbound) {
    if (out.addresses.length > 0) {
      chains.push(singleChain(out));
    } else {
      const group = addressless.get(out.port) ?? [];
      group.push(out);
      addressless.set(out.port, group);
    }
  }

  for (const [port, group] of addressless) {
    const sorted = [...group].sort(byService);
    const http = sorted.filter(isHttpLike);
    const tcp = sorted.filter((o) => !isHttpLike(o));
    if (http.length > 1) {
      chains.push({ name: mergedOutboundFilterChainName(port), port, http: true, addresses: [], services: http });
      unreachable.push(...tcp);
    } else if (http.length === 1) {
      chains.push(singleChain(http[0]));
      unreachable.push(...tcp);
    } else {
      chains.push(singleChain(tcp[0]));
      unreachable.push(...tcp.slice(1));
    }
  }

  chains.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { chains, unreachable };
}

function singleChain(out: OutboundPort): OutboundChainPlan {
  return {
    name: outboundFilterChainName(out.service, out.port, out.protocol),
    port: out.port,
    http: isHttpLike(out),
    addresses: out.addresses,
    services: [out],
  };
}

function filterChainMatch(chain: OutboundChainPlan): Json {
  const match: Json = { destination_port: chain.port };
  if (chain.addresses.length > 0) match.prefix_ranges = chain.addresses.map(exactCidr);
  return match;
}

/** A filter chain depends only on the services it serves, never on the calling proxy: shared. */
function outboundFilterChain(session: EmitSession, chain: OutboundChainPlan): Json {
  const target = chain.http
    ? ''
    : chain.services[0].backends.map((b) => `${b.cluster}=${b.weight}`).join(',') + `|${chain.services[0].split}`;
  const key = `${chain.name}|${chain.addresses.join(',')}|${target}`;
  return session.shared('outbound-chain', key, () => {
    const filter = chain.http
      ? httpConnectionManagerFilter(session, outboundRouteConfigName(chain.port), false)
      : tcpProxyFilter(chain.name, chain.services[0].backends, chain.services[0].split);
    return { name: chain.name, filter_chain_match: filterChainMatch(chain), filters: [filter] };
  });
}

/** The outbound listener, or undefined when the proxy may call nothing (Envoy rejects a listener without filter chains; OSM omits it too). */
export function outboundListener(session: EmitSession, plan: ProxyPlan): EnvoyResource | undefined {
  const { chains } = layoutOutboundChains(plan.outbound);
  if (chains.length === 0) return undefined;
  const filterChains = chains.map((chain) => outboundFilterChain(session, chain));
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
