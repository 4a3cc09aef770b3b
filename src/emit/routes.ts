/**
 * Route configurations, one per port (osm rds/builder.go): `rds-outbound.<port>` picks the
 * service a request is for by Host header and sends it to that service's cluster or split;
 * `rds-inbound.<targetPort>` admits the requests SMI allows, each route guarded by its own
 * RBAC policy, and sends them to the local app.
 *
 * Matching uses the non-deprecated forms of the shipped Envoy API: `safe_regex` without the
 * deprecated `google_re2` engine field (RE2 is Envoy's only engine), header matches as
 * `string_match` rather than the deprecated `safe_regex_match` OSM still used, and weighted
 * clusters without the deprecated `total_weight` (Envoy and gRPC sum the weights).
 */
import { serviceKey } from '../ir/names.ts';
import type { HeaderMatch } from '../ir/types.ts';
import type { InboundHttpRoute, InboundPort, OutboundPort, ProxyPlan, ServiceName } from '../ir/proxy-plan.ts';
import { compareByName, isHttpLike } from './common.ts';
import {
  HTTP_RBAC_FILTER,
  inboundRouteConfigName,
  inboundRouteName,
  inboundVirtualHostName,
  outboundRouteConfigName,
  outboundVirtualHostName,
  serviceHostnames,
  TYPE,
} from './names.ts';
import { rbacPerRoute } from './rbac.ts';
import type { EmitSession } from './session.ts';
import type { EnvoyResource } from './types.ts';
import type { Json } from '../shared/json.ts';

/** OSM's "any path" (constants.RegexMatchAll), matched with RE2 against the whole path. */
export const MATCH_ALL = '.*';

/**
 * Envoy's default route timeout is 15s; OSM disables it (timeout 0) so that long downloads
 * and streams are not cut off (osm rds/route_config.go buildRoute).
 */
const NO_TIMEOUT = '0s';

function groupBy<T>(items: readonly T[], key: (t: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return new Map([...groups].sort((a, b) => a[0] - b[0]));
}

function routeConfiguration(name: string, virtualHosts: Json[]): EnvoyResource {
  return {
    '@type': TYPE.routeConfiguration,
    name,
    virtual_hosts: virtualHosts,
    // OSM sets validate_clusters false: with true, a route config that arrives before the
    // clusters it names is rejected; with false, a missing cluster just answers 503 until CDS lands.
    validate_clusters: false,
  };
}

// ── Outbound ────────────────────────────────────────────────────────────────

/** Where an outbound route sends traffic: the service's cluster, or its TrafficSplit's weighted backends. */
export function outboundAction(out: OutboundPort): Json {
  if (!out.split && out.backends.length === 1) return { cluster: out.backends[0].cluster, timeout: NO_TIMEOUT };
  // Sorted by cluster name, as OSM does (clusterWeightByName): the order carries no meaning,
  // so it must not depend on the order the TrafficSplit happened to list its backends in.
  const clusters = out.backends.map((b) => ({ name: b.cluster, weight: b.weight })).sort(compareByName);
  return { weighted_clusters: { clusters }, timeout: NO_TIMEOUT };
}

/**
 * One virtual host per reachable service: its host names (the bare name only for callers in
 * its namespace, as OSM) and one catch-all route. It depends on the caller only through
 * "same namespace or not", so callers share it.
 */
function outboundVirtualHost(session: EmitSession, out: OutboundPort, callerNamespace: string): Json {
  const sameNamespace = out.service.namespace === callerNamespace;
  const keys = sameNamespace ? session.keys.vhostSameNamespace : session.keys.vhostOtherNamespace;
  const key = session.keyOf(keys, out, () => {
    const target = out.backends.map((b) => `${b.cluster}=${b.weight}`).join(',');
    return `${serviceKey(out.service)}|${out.port}|${sameNamespace}|${out.split}|${target}`;
  });
  return session.shared('outbound-vhost', key, () => ({
    name: outboundVirtualHostName(out.service),
    domains: serviceHostnames(out.service, out.port, sameNamespace),
    routes: [{ match: { safe_regex: { regex: MATCH_ALL } }, route: outboundAction(out) }],
  }));
}

/** `rds-outbound.<port>` for every port with at least one HTTP or gRPC service this proxy may call. */
export function outboundRouteConfigurations(session: EmitSession, plan: ProxyPlan): EnvoyResource[] {
  const httpPorts = groupBy(plan.outbound.filter(isHttpLike), (o) => o.port);
  return [...httpPorts].map(([port, outs]) => {
    const name = outboundRouteConfigName(port);
    const virtualHosts = outs.map((o) => outboundVirtualHost(session, o, plan.namespace)).sort(compareByName);
    // Callers in one namespace that may call the same services share the whole route configuration.
    return session.shared('outbound-route-config', `${name}|${virtualHosts.map((v) => session.idOf(v)).join(',')}`, () =>
      routeConfiguration(name, virtualHosts),
    );
  });
}

// ── Inbound ─────────────────────────────────────────────────────────────────

/**
 * An SMI match's methods as OSM expands them (rds/route_config.go buildInboundRoutes): one
 * route per method, `undefined` standing for "any method" (no `:method` matcher at all; OSM
 * writes a `.*` matcher, which matches the same). An empty list admits no method, so no route.
 */
export function methodsOf(route: InboundHttpRoute): (string | undefined)[] {
  const methods = route.match?.methods;
  if (methods === undefined || methods.includes('*')) return [undefined];
  return [...new Set(methods)];
}

/** An SMI header match is an RE2 regex on the value; `host` means the `:authority` pseudo-header (osm getHeadersForRoute). */
export function headerMatcher(header: HeaderMatch): Json {
  const name = header.name.toLowerCase() === 'host' ? ':authority' : header.name;
  return { name, string_match: { safe_regex: { regex: header.value } } };
}

function inboundRoute(session: EmitSession, route: InboundHttpRoute, method: string | undefined, localCluster: string): Json {
  const headers: Json[] = [];
  if (method !== undefined) headers.push({ name: ':method', string_match: { exact: method } });
  for (const h of route.match?.headers ?? []) headers.push(headerMatcher(h));
  const match: Json = { safe_regex: { regex: route.match?.pathRegex ?? MATCH_ALL } };
  if (headers.length > 0) match.headers = headers;
  return {
    name: inboundRouteName(route.name, method),
    match,
    route: { cluster: localCluster, timeout: NO_TIMEOUT },
    typed_per_filter_config: { [HTTP_RBAC_FILTER]: rbacPerRoute(session, route.principals) },
  };
}

function inboundRoutes(session: EmitSession, port: InboundPort): Json[] {
  return port.routes.flatMap((r) => methodsOf(r).map((m) => inboundRoute(session, r, m, port.localCluster)));
}

/**
 * The virtual hosts of one inbound route configuration: one per service the workload serves
 * on that target port, plus one per TrafficSplit apex it serves as a backend (callers address
 * those by the apex's name). Inbound host names always include the bare name (OSM: "local
 * namespace FQDN should always be allowed for inbound routes").
 *
 * Envoy rejects a route configuration that lists a domain twice. One service exposing two
 * ports with the same targetPort would do that, so such ports share one virtual host: the
 * domains are merged and the first port's routes apply (routes are per destination workload,
 * so they agree unless a TrafficTarget names one port and not the other).
 * Apexes route to the backend's own local cluster: it is the same app on the same port
 * (OSM names a `<apex>|<port>|local` cluster for it; the destination is identical).
 */
function inboundVirtualHosts(session: EmitSession, ports: readonly InboundPort[]): Json[] {
  return groupVirtualHosts(ports, (port) => inboundRoutes(session, port));
}

/** Virtual hosts per served service (and apex), each with the routes `routesOf` makes for its port: the proxyless server's routes differ, not its grouping. */
export function groupVirtualHosts(ports: readonly InboundPort[], routesOf: (port: InboundPort) => Json[]): Json[] {
  const hosts = new Map<string, { name: string; domains: string[]; routes: Json[] }>();
  const seenDomains = new Set<string>();
  const add = (svc: ServiceName, servicePort: number, routes: () => Json[]): void => {
    const name = inboundVirtualHostName(svc);
    let host = hosts.get(name);
    if (!host) {
      host = { name, domains: [], routes: routes() };
      hosts.set(name, host);
    }
    for (const domain of serviceHostnames(svc, servicePort, true)) {
      if (!seenDomains.has(domain)) {
        seenDomains.add(domain);
        host.domains.push(domain);
      }
    }
  };
  for (const port of ports) {
    const routes = routesOf(port);
    add(port.service, port.port, () => routes);
    for (const apex of port.apexes ?? []) add(apex.service, apex.port, () => routes);
  }
  return [...hosts.values()].sort(compareByName);
}

/** `rds-inbound.<targetPort>` for every HTTP or gRPC port the workload serves. */
export function inboundRouteConfigurations(session: EmitSession, plan: ProxyPlan): EnvoyResource[] {
  const httpPorts = groupBy(plan.inbound.filter(isHttpLike), (p) => p.targetPort);
  return [...httpPorts].map(([targetPort, ports]) =>
    routeConfiguration(inboundRouteConfigName(targetPort), inboundVirtualHosts(session, ports)),
  );
}
