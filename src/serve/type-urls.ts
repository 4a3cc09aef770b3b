/**
 * The xDS resource types the server answers, and the order it pushes them in.
 */
import { TYPE_URL, type XdsKind } from '../emit/types.ts';

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
