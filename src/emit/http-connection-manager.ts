/**
 * The HTTP connection manager network filter, as OSM builds it (osm lds/builder.go
 * httpConnManagerBuilder): routes come over ADS by name (RDS), codec AUTO so HTTP/1.1, h2
 * and gRPC share a port, websocket upgrades allowed.
 */
import { ADS_CONFIG_SOURCE, emptyTyped } from './common.ts';
import { HTTP_CONNECTION_MANAGER_FILTER, HTTP_RBAC_FILTER, HTTP_ROUTER_FILTER, TYPE } from './names.ts';
import type { EmitSession } from './session.ts';
import type { Json } from '../shared/json.ts';

/**
 * `withRbac` adds the HTTP RBAC filter ahead of the router. It carries no rules of its own
 * (so by itself it admits everything); each inbound route's `typed_per_filter_config`
 * supplies the policy for that route. Outbound routes have no RBAC, so the outbound HCM
 * leaves the filter out. (OSM also adds a disabled local rate limit filter as a hook for
 * UpstreamTrafficSetting; smi-compile has no rate limits, so there is nothing to hook.)
 */
export function httpConnectionManagerFilter(session: EmitSession, routeConfigName: string, withRbac: boolean): Json {
  return session.shared('hcm', `${routeConfigName}|${withRbac}`, () => {
    const httpFilters: Json[] = [];
    if (withRbac) httpFilters.push({ name: HTTP_RBAC_FILTER, typed_config: emptyTyped(TYPE.httpRbac) });
    // The router must be last: it is the filter that forwards the request.
    httpFilters.push({ name: HTTP_ROUTER_FILTER, typed_config: emptyTyped(TYPE.router) });
    return {
      name: HTTP_CONNECTION_MANAGER_FILTER,
      typed_config: {
        '@type': TYPE.httpConnectionManager,
        codec_type: 'AUTO',
        stat_prefix: routeConfigName,
        rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: routeConfigName },
        http_filters: httpFilters,
        upgrade_configs: [{ upgrade_type: 'websocket' }],
      },
    };
  });
}
