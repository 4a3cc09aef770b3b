/**
 * Proxyless gRPC *servers* (gRFC A36): an xDS-enabled gRPC server (grpc-js-xds `XdsServer`,
 * grpc-go `xds.NewGRPCServer`) asks for the Listener named by its bootstrap's
 * `server_listener_resource_name_template`, conventionally
 * `grpc/server?xds.resource.listening_address=<ip>:<port>`, and applies its filter chain to every
 * connection: TLS settings, then routes and HTTP filters (RBAC) per call.
 *
 * Everything is derived from the sidecar's inbound listener of the server's own workload
 * (`node.id` = the server's `<namespace>/<workload>`), from the filter chains on the port the
 * server listens on, so a proxyless server enforces the same TrafficTargets a sidecar would:
 *
 * - the chains' network RBAC (who may connect at all) becomes the top-level HTTP RBAC config,
 *   since gRPC has no network filters;
 * - `rds-inbound.<port>` becomes the server's route configuration (named like the listener):
 *   each route matches as before (gRPC-evaluable matchers only, see grpcMatch) and, as gRPC
 *   servers require, carries `non_forwarding_action` instead of a cluster; its per-route RBAC
 *   (the sources admitted to that HTTPRouteGroup match) overrides the top-level config;
 * - principals `<sa>.<ns>.<trustDomain>` also admit the matching SPIFFE ID: gRPC matches
 *   `principal_name` against URI SANs when a certificate has any (gRFC A41);
 * - with a CA, the chain requires client certificates from the `mesh` certificate provider.
 *
 * The RBAC filter is named by its type URL, in the filter list and in every route's
 * `typed_per_filter_config`: Envoy and grpc-go key per-route configs by filter name, grpc-js
 * (1.14) by type URL, and this name satisfies both. It is not optional: a gRPC server without
 * RBAC support (grpc-js without GRPC_XDS_EXPERIMENTAL_RBAC=true) rejects the listener and
 * does not serve, rather than serving everyone.
 */
import { HTTP_CONNECTION_MANAGER_FILTER, HTTP_RBAC_FILTER, INBOUND_LISTENER_NAME, NETWORK_RBAC_FILTER, TYPE } from '../../emit/names.ts';
import type { EnvoyResource } from '../../emit/types.ts';
import { grpcMatch } from './proxyless.ts';
import { serverTransportSocket } from './proxyless-tls.ts';
import type { ProxySnapshot } from '../snapshot/snapshot-types.ts';
import { LDS, RDS } from '../xds/type-urls.ts';

type Json = Record<string, unknown>;

const asJson = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const asList = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

const ADS = Object.freeze({ ads: {}, resource_api_version: 'V3' });
const RBAC_FILTER_NAME = TYPE.httpRbac;
const ROUTER_FILTER = 'envoy.filters.http.router';

export const SERVER_LISTENER_PREFIX = 'grpc/server?xds.resource.listening_address=';

export interface ServerListenerTarget {
  readonly name: string;
  /** As the server binds it, without brackets: `0.0.0.0`, `::`, `10.1.2.3`. */
  readonly host: string;
  readonly port: number;
}

/** `grpc/server?xds.resource.listening_address=<ip>:<port>`; undefined for any other name. */
export function parseServerListenerName(name: string): ServerListenerTarget | undefined {
  if (!name.startsWith(SERVER_LISTENER_PREFIX)) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(name.slice(SERVER_LISTENER_PREFIX.length));
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { name, host: m[1] ?? m[2], port };
}

/** The sidecar's HTTP/gRPC inbound chains on `port` (TCP chains have no routes for gRPC to apply). */
function inboundHttpChains(proxy: ProxySnapshot, port: number): { chain: Json; hcm: Json; l4?: Json }[] {
  const inbound = proxy.resources.get(LDS)?.get(INBOUND_LISTENER_NAME)?.json;
  const out: { chain: Json; hcm: Json; l4?: Json }[] = [];
  for (const chain of asList(inbound?.filter_chains)) {
    if (Number(asJson(chain.filter_chain_match)?.destination_port) !== port) continue;
    const filters = asList(chain.filters);
    const hcm = asJson(filters.find((f) => f.name === HTTP_CONNECTION_MANAGER_FILTER)?.typed_config);
    if (!hcm) continue;
    out.push({ chain, hcm, l4: asJson(filters.find((f) => f.name === NETWORK_RBAC_FILTER)?.typed_config) });
  }
  return out;
}

/** A principal that also admits the SPIFFE form of an OSM principal name. */
function withSpiffe(principal: Json, trustDomain: string | undefined): Json {
  const exact = asJson(asJson(principal.authenticated)?.principal_name)?.exact;
  if (!trustDomain || typeof exact !== 'string' || !exact.endsWith(`.${trustDomain}`)) return principal;
  const saNs = exact.slice(0, -trustDomain.length - 1);
  const dot = saNs.lastIndexOf('.'); // namespaces have no dots; service accounts may
  if (dot <= 0) return principal;
  const spiffe = `spiffe://${trustDomain}/ns/${saNs.slice(dot + 1)}/sa/${saNs.slice(0, dot)}`;
  return { or_ids: { ids: [principal, { authenticated: { principal_name: { exact: spiffe } } }] } };
}

function withSpiffeRules(rules: Json, trustDomain: string | undefined): Json {
  const policies: Json = {};
  for (const [name, p] of Object.entries(asJson(rules.policies) ?? {})) {
    const policy = asJson(p) ?? {};
    policies[name] = { ...policy, principals: asList(policy.principals).map((pr) => withSpiffe(pr, trustDomain)) };
  }
  return { ...rules, policies };
}

/**
 * The top-level RBAC rules: the union of the chains' network policies (ALLOW), or undefined
 * when some chain admits everyone (permissive mode: no network RBAC).
 */
function connectionRules(chains: readonly { l4?: Json }[], trustDomain: string | undefined): Json | undefined {
  const policies: Json = {};
  for (const { l4 } of chains) {
    const rules = asJson(l4?.rules);
    if (!rules || rules.action !== 'ALLOW') return undefined;
    for (const [name, p] of Object.entries(asJson(rules.policies) ?? {})) {
      let key = name;
      for (let i = 2; key in policies && JSON.stringify(policies[key]) !== JSON.stringify(p); i++) key = `${name}#${i}`;
      policies[key] = p;
    }
  }
  return withSpiffeRules({ action: 'ALLOW', policies }, trustDomain);
}

/** The gRPC server's Listener for `target`, or undefined when the workload serves no HTTP/gRPC on that port. */
export function grpcServerListener(proxy: ProxySnapshot, target: ServerListenerTarget, tlsInstance: string | undefined): EnvoyResource | undefined {
  const chains = inboundHttpChains(proxy, target.port);
  if (chains.length === 0) return undefined;
  const trustDomain = proxy.identity?.trustDomain;
  const rules = connectionRules(chains, trustDomain);
  const routeConfig = grpcServerRouteConfiguration(proxy, target);
  const perRoute = asList(routeConfig?.virtual_hosts).some((vh) => asList(vh.routes).some((r) => asJson(r.typed_per_filter_config)));
  // No network policy but per-route ones: a top-level config that denies no one, so the routes' configs apply.
  const rbac = rules ?? (perRoute ? { action: 'DENY', policies: {} } : undefined);
  const chain: Json = {
    name: `inbound_grpc_${target.port}`,
    filters: [
      {
        name: HTTP_CONNECTION_MANAGER_FILTER,
        typed_config: {
          '@type': TYPE.httpConnectionManager,
          stat_prefix: `grpc-server.${target.port}`,
          rds: { config_source: ADS, route_config_name: target.name },
          http_filters: [
            ...(rbac ? [{ name: RBAC_FILTER_NAME, typed_config: { '@type': TYPE.httpRbac, rules: rbac } }] : []),
            { name: ROUTER_FILTER, typed_config: { '@type': TYPE.router } },
          ],
        },
      },
    ],
  };
  if (tlsInstance) chain.transport_socket = serverTransportSocket(tlsInstance);
  return {
    '@type': TYPE.listener,
    name: target.name,
    address: { socket_address: { address: target.host, port_value: target.port } },
    filter_chains: [chain],
    traffic_direction: 'INBOUND',
  };
}

/** A route as a gRPC server applies it: no forwarding, its RBAC under the filter's name; null when gRPC cannot match it. */
function serverRoute(route: Json, authority: string, trustDomain: string | undefined): Json | null {
  const match = grpcMatch(asJson(route.match) ?? {}, authority);
  if (!match) return null;
  const out: Json = {};
  if (typeof route.name === 'string') out.name = route.name;
  out.match = match;
  out.non_forwarding_action = {};
  const perRoute = asJson(asJson(route.typed_per_filter_config)?.[HTTP_RBAC_FILTER]);
  const rules = asJson(asJson(perRoute?.rbac)?.rules);
  if (perRoute && rules) {
    out.typed_per_filter_config = { [RBAC_FILTER_NAME]: { ...perRoute, rbac: { ...asJson(perRoute.rbac), rules: withSpiffeRules(rules, trustDomain) } } };
  }
  return out;
}

/** The route configuration the server's listener names (named like it), from the sidecar's inbound routes on that port. */
export function grpcServerRouteConfiguration(proxy: ProxySnapshot, target: ServerListenerTarget): EnvoyResource | undefined {
  const chains = inboundHttpChains(proxy, target.port);
  if (chains.length === 0) return undefined;
  const names = [...new Set(chains.map((c) => asJson(c.hcm.rds)?.route_config_name).filter((n): n is string => typeof n === 'string'))];
  const virtualHosts: Json[] = [];
  for (const name of names) {
    for (const vh of asList(proxy.resources.get(RDS)?.get(name)?.json.virtual_hosts)) {
      const domains = asList(vh.domains).map(String);
      const routes = asList(vh.routes)
        .map((r) => serverRoute(r, domains[0] ?? '', proxy.identity?.trustDomain))
        .filter((r): r is Json => r !== null);
      virtualHosts.push({ name: vh.name, domains, routes });
    }
  }
  return { '@type': TYPE.routeConfiguration, name: target.name, virtual_hosts: virtualHosts };
}
