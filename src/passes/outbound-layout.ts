/**
 * The outbound listener's filter chains for one proxy's outbound service ports, and the
 * destinations two of them would claim alike (Envoy rejects a listener whose chains have
 * identical matches; the planner reports each overlap as SMI3008).
 *
 * Service ports with known addresses get one chain each, matched by port and `/32` (or `/128`)
 * prefix ranges, exactly as OSM does; two of them on one address and port overlap.
 *
 * Service ports whose addresses are unknown (a ClusterIP not in the manifests, common when
 * compiling source manifests) can only be matched by destination port, so per port:
 *  - all address-less HTTP/gRPC services share ONE chain. Nothing is lost: the port's outbound
 *    route configuration holds a virtual host per service and routes by Host header anyway.
 *    A single such service keeps a chain of its own.
 *  - an address-less TCP service has no Host header to route by. If an HTTP chain already
 *    claims the port, or an earlier (by `<ns>/<svc>`) TCP service does, it cannot be told
 *    apart: it gets no chain, and overlaps the one that claimed the port. HTTP wins over TCP
 *    because the HTTP chain still serves several services correctly; the TCP one would serve one.
 */
import type { OutboundChain, OutboundLayout, OutboundOverlap, OutboundPort, ServiceName } from '../ir/proxy-plan.ts';
import { compareStrings } from '../shared/compare.ts';

const keyOfService = (s: ServiceName): string => `${s.namespace}/${s.name}`;
const isHttpFamily = (out: OutboundPort): boolean => out.protocol === 'http' || out.protocol === 'grpc';

export function layoutOutbound(outbound: readonly OutboundPort[]): OutboundLayout {
  const chains: OutboundChain[] = [];
  const overlaps: OutboundOverlap[] = [];
  const seen = new Set<string>();
  const overlap = (first: OutboundPort, second: OutboundPort, address: string | undefined): void => {
    const pair = `${keyOfService(first.service)}|${keyOfService(second.service)}|${address ?? '*'}|${second.port}`;
    if (seen.has(pair)) return;
    seen.add(pair);
    overlaps.push(address === undefined ? { first: first.service, second: second.service, port: second.port } : { first: first.service, second: second.service, address, port: second.port });
  };

  const claimed = new Map<string, OutboundPort>();
  const addressless = new Map<number, OutboundPort[]>();
  for (const out of outbound) {
    if (out.addresses.length === 0) {
      const group = addressless.get(out.port);
      if (group) group.push(out);
      else addressless.set(out.port, [out]);
      continue;
    }
    chains.push({ kind: 'service', port: out.port, addresses: out.addresses, service: out });
    for (const address of out.addresses) {
      const key = `${address}|${out.port}`;
      const first = claimed.get(key);
      if (!first) claimed.set(key, out);
      else if (keyOfService(first.service) !== keyOfService(out.service)) overlap(first, out, address);
    }
  }

  for (const [port, group] of addressless) {
    const sorted = group.length === 1 ? group : group.map((o) => [keyOfService(o.service), o] as const).sort((a, b) => compareStrings(a[0], b[0])).map(([, o]) => o);
    const http = sorted.filter(isHttpFamily);
    const tcp = sorted.filter((o) => !isHttpFamily(o));
    const kept = http.length > 0 ? http : tcp.slice(0, 1);
    chains.push(kept.length > 1 ? { kind: 'shared-http', port, services: kept } : { kind: 'service', port, addresses: [], service: kept[0] });
    for (const out of http.length > 0 ? tcp : tcp.slice(1)) overlap(kept[0], out, undefined);
  }
  return { chains, overlaps };
}
