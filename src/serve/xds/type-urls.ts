/**
 * The xDS resource types the server answers, and the order it pushes them in.
 */
import { TYPE_URL, type XdsKind } from '../../emit/types.ts';

export const CDS = TYPE_URL.clusters;
export const EDS = TYPE_URL.endpoints;
export const LDS = TYPE_URL.listeners;
export const RDS = TYPE_URL.routes;
export const SDS = TYPE_URL.secrets;

/**
 * Make-before-break, as the xDS protocol's "eventual consistency considerations" section asks:
 * clusters before the endpoints that fill them, both before the listeners and routes that point
 * at them. Secrets come last: a listener or cluster that names a secret waits (warms) for it.
 */
export const PUSH_ORDER: readonly string[] = [CDS, EDS, LDS, RDS, SDS];

/**
 * xDS types Envoy asks for over ADS when its bootstrap or its config says so, and this server
 * does not serve: RTDS (a runtime layer with an ADS source), ECDS (`config_discovery` of a
 * filter), VHDS (`vhds` in a route configuration), SRDS (`scoped_routes`), LEDS (`leds_cluster_locality_config`)
 * and Thrift's TRDS. Nothing this compiler emits asks for them, but an operator's own
 * bootstrap may add an RTDS layer: these get an empty answer, as the xDS protocol has a server
 * answer a type it has no resources of. Any other type URL is refused (stream-core.ts): ending
 * an Envoy's whole ADS stream for a type it is entitled to ask for would cut it off in a
 * reconnect loop, while a type nobody defined is a client inventing state to hold.
 */
export const KNOWN_UNSERVED: ReadonlySet<string> = new Set(
  [
    'envoy.service.runtime.v3.Runtime',
    'envoy.config.core.v3.TypedExtensionConfig',
    'envoy.config.route.v3.VirtualHost',
    'envoy.config.route.v3.ScopedRouteConfiguration',
    'envoy.config.endpoint.v3.LbEndpoint',
    'envoy.extensions.filters.network.thrift_proxy.v3.RouteConfiguration',
  ].map((t) => `type.googleapis.com/${t}`),
);

/** Why a type URL is not accepted, or undefined when it is (served, or known and answered empty). */
export function refusedType(typeUrl: string): string | undefined {
  if (PUSH_ORDER.includes(typeUrl) || KNOWN_UNSERVED.has(typeUrl)) return undefined;
  if (typeUrl.startsWith('type.googleapis.com/envoy.api.v2.')) return 'xDS v2 is not served (v3 only: Envoy 1.18 and later)';
  return `not an xDS resource type (served: ${PUSH_ORDER.map(shortType).join(', ')}; answered empty: RTDS, ECDS, VHDS, SRDS, LEDS, TRDS)`;
}

/** The routing types: removals of clusters wait until the proxy has accepted these. */
export const ROUTING_TYPES: readonly string[] = [LDS, RDS];

const KIND_BY_URL = new Map<string, XdsKind>(Object.entries(TYPE_URL).map(([k, v]) => [v, k as XdsKind]));

export function kindOf(typeUrl: string): XdsKind | undefined {
  return KIND_BY_URL.get(typeUrl);
}

/** Short names for logs and metric labels: `CDS`, `EDS`, ... */
export function shortType(typeUrl: string): string {
  switch (typeUrl) {
    case CDS: return 'CDS';
    case EDS: return 'EDS';
    case LDS: return 'LDS';
    case RDS: return 'RDS';
    case SDS: return 'SDS';
    default: return 'unknown';
  }
}
