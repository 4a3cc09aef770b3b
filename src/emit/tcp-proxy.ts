/**
 * The tcp_proxy network filter (osm lds/builder.go tcpProxyBuilder): one cluster, or
 * weighted clusters when a TrafficSplit spreads the connections.
 */
import type { WeightedBackend } from '../ir/proxy-plan.ts';
import { compareByName } from './common.ts';
import { TCP_PROXY_FILTER, TYPE } from './names.ts';
import type { Json } from '../shared/json.ts';

export function tcpProxyFilter(statPrefix: string, backends: readonly WeightedBackend[], split: boolean): Json {
  const config: Json = { '@type': TYPE.tcpProxy, stat_prefix: statPrefix };
  // tcp_proxy weights must be >= 1 (unlike route weights, where 0 means "none of the traffic"),
  // so a backend with weight 0 is left out rather than emitted as an invalid entry.
  const live = split ? backends.filter((b) => b.weight > 0) : backends;
  if (live.length === 1) {
    config.cluster = live[0].cluster;
  } else {
    // Sorted by name like the HTTP routes' weighted clusters: the order carries no meaning.
    const clusters = live.map((b) => ({ name: b.cluster, weight: b.weight })).sort(compareByName);
    config.weighted_clusters = { clusters };
  }
  return { name: TCP_PROXY_FILTER, typed_config: config };
}
