/**
 * The health-probe listeners of an injected sidecar's bootstrap (osm
 * pkg/envoy/bootstrap/envoy_config_health_probes.go): the injector points the kubelet's probes at
 * Envoy (liveness 15901, readiness 15902, startup 15903, ports the init container does not
 * redirect), and these static listeners forward each to the app's original port on 127.0.0.1 —
 * HTTP through a route that rewrites `/osm-<kind>-probe` back to the original path, HTTPS as
 * plain TCP (the app terminates its own TLS).
 */
import { socketAddress } from './common.ts';
import { HTTP_CONNECTION_MANAGER_FILTER, HTTP_ROUTER_FILTER, LOCALHOST_ADDRESS, TCP_PROXY_FILTER, TYPE, WILDCARD_ADDRESS } from './names.ts';
import type { Json } from '../shared/json.ts';

export interface ProbeForward {
  /** `liveness`, `readiness`, `startup`: names `<kind>_listener` and `<kind>_cluster`, as OSM's. */
  readonly kind: string;
  /** Envoy's port the probe now targets. */
  readonly listenerPort: number;
  /** The path the probe now asks for; undefined for HTTPS (TCP pass-through). */
  readonly listenerPath?: string;
  /** The app's port and path, as the probe declared them. */
  readonly appPort: number;
  readonly appPath?: string;
  readonly timeoutSeconds: number;
}

function probeCluster(p: ProbeForward): Json {
  const name = `${p.kind}_cluster`;
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(LOCALHOST_ADDRESS, p.appPort) } }] }] },
  };
}

function probeFilter(p: ProbeForward): Json {
  const cluster = `${p.kind}_cluster`;
  if (p.listenerPath === undefined || p.appPath === undefined) {
    return { name: TCP_PROXY_FILTER, typed_config: { '@type': TYPE.tcpProxy, stat_prefix: 'health_probes', cluster } };
  }
  return {
    name: HTTP_CONNECTION_MANAGER_FILTER,
    typed_config: {
      '@type': TYPE.httpConnectionManager,
      stat_prefix: 'health_probes_http',
      http_filters: [{ name: HTTP_ROUTER_FILTER, typed_config: { '@type': TYPE.router } }],
      route_config: {
        name: 'local_route',
        virtual_hosts: [
          {
            name: 'local_service',
            domains: ['*'],
            routes: [{ match: { prefix: p.listenerPath }, route: { cluster, prefix_rewrite: p.appPath, timeout: `${p.timeoutSeconds}s` } }],
          },
        ],
      },
    },
  };
}

/** Static listeners and clusters to add to a bootstrap's `static_resources`. */
function probeResources(probes: readonly ProbeForward[]): { listeners: Json[]; clusters: Json[] } {
  return {
    listeners: probes.map((p) => ({
      name: `${p.kind}_listener`,
      address: socketAddress(WILDCARD_ADDRESS, p.listenerPort),
      filter_chains: [{ filters: [probeFilter(p)] }],
    })),
    clusters: probes.map(probeCluster),
  };
}

/** The bootstrap with the probe listeners and clusters beside its xDS cluster. */
export function withProbeListeners(bootstrap: Readonly<Json>, probes: readonly ProbeForward[]): Json {
  if (probes.length === 0) return { ...bootstrap };
  const statics = bootstrap.static_resources as { clusters: Json[]; listeners?: Json[] };
  const extra = probeResources(probes);
  return {
    ...bootstrap,
    static_resources: { ...statics, listeners: [...(statics.listeners ?? []), ...extra.listeners], clusters: [...statics.clusters, ...extra.clusters] },
  };
}
