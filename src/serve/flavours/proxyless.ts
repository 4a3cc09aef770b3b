/**
 * The proxyless gRPC flavour: what a gRPC client with an xDS resolver (grpc-js-xds, grpc-go,
 * grpc-java) receives instead of a sidecar's listeners.
 *
 * A gRPC client dialling `xds:///<svc>.<ns>.svc.cluster.local:<port>` asks for the Listener
 * named exactly `<svc>.<ns>.svc.cluster.local:<port>` and expects an API listener: an
 * HttpConnectionManager whose route configuration (over RDS) picks clusters, which it then
 * resolves over CDS and EDS. Everything here is derived from the sidecar resources the compiler
 * emitted for the *client's* workload, so both flavours carry the same policy:
 *
 * - the virtual host comes from the client's `rds-outbound.<port>` (no virtual host, no access:
 *   restrictive mode applies to proxyless clients too), with its splits, timeouts and retries;
 * - a sidecar mesh enforces HTTPRouteGroup matches at the destination (per-route RBAC on
 *   `rds-inbound.<targetPort>`). A proxyless client talks to the server directly, so the routes
 *   the destination would admit for this client's identity move into the client's route table:
 *   the other requests find no route and fail with UNAVAILABLE, as gRPC fails unrouted calls;
 * - clusters are the sidecar's EDS clusters without the sidecar's mTLS transport socket: it
 *   names SDS secrets, which gRPC rejects (it only takes certificate-provider instances from its
 *   bootstrap). Proxyless traffic is therefore plaintext;
 * - ClusterLoadAssignments get a locality weight: gRPC drops localities without one.
 */
import { RE2JS } from 're2js';
import {
  HTTP_RBAC_FILTER,
  inboundRouteConfigName,
  inboundVirtualHostName,
  outboundRouteConfigName,
  TYPE,
} from '../../emit/names.ts';
import type { EnvoyResource } from '../../emit/types.ts';
import { memoize } from '../snapshot/snapshot.ts';
import type { ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import { RDS, SDS } from '../xds/type-urls.ts';

type Json = Record<string, unknown>;

const ROUTER_FILTER = 'envoy.filters.http.router';
const ADS = Object.freeze({ ads: {}, resource_api_version: 'V3' });
/** gRPC sends every call as an HTTP/2 POST. */
const GRPC_METHOD = 'POST';

export interface ApiListenerTarget {
  readonly name: string;
  /** As the client wrote it: `<svc>.<ns>.svc.cluster.local`, or any host name of the service's virtual host. */
  readonly host: string;
  readonly port: number;
}

/** `<host>:<port>`, the name gRPC clients give the Listener they want; undefined for any other name. */
export function parseApiListenerName(name: string): ApiListenerTarget | undefined {
  const m = /^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):(\d{1,5})$/.exec(name);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { name, host: m[1], port };
}

// ── Listener ────────────────────────────────────────────────────────────────

/**
 * The API listener: an HttpConnectionManager fetching its route configuration over ADS, the
 * router as its only (so last) HTTP filter, which gRPC requires.
 */
export function proxylessListener(name: string, routeConfigName: string): EnvoyResource {
  return {
    '@type': TYPE.listener,
    name,
    api_listener: {
      api_listener: {
        '@type': TYPE.httpConnectionManager,
        stat_prefix: name,
        rds: { config_source: ADS, route_config_name: routeConfigName },
        http_filters: [{ name: ROUTER_FILTER, typed_config: { '@type': TYPE.router } }],
      },
    },
  };
}

// ── Route configuration ─────────────────────────────────────────────────────

function asJson(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function asList(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : [];
}

/** The virtual hosts of every proxy's inbound route configurations, by `<routeConfig>|<virtualHost>`; the first proxy (by node id) wins. */
function inboundIndex(snapshot: Snapshot): Map<string, Json> {
  return memoize(snapshot, 'proxyless:inbound-index', () => {
    const index = new Map<string, Json>();
    const ids = [...snapshot.proxies.keys()].sort();
    for (const id of ids) {
      for (const rc of snapshot.proxies.get(id)!.resources.get(RDS)?.values() ?? []) {
        if (!rc.name.startsWith('rds-inbound.')) continue;
        for (const vh of asList(rc.json.virtual_hosts)) {
          const key = `${rc.name}|${String(vh.name)}`;
          if (!index.has(key)) index.set(key, vh);
        }
      }
    }
    return index;
  });
}

/**
 * `<sa>.<ns>.`: the prefix of the client workload's identity `<sa>.<ns>.<trustDomain>`, read
 * from the name of its own certificate secret `service-cert:<ns>/<sa>`.
 */
export function identityPrefix(client: ProxySnapshot): string | undefined {
  for (const name of client.resources.get(SDS)?.keys() ?? []) {
    const m = /^service-cert:([^/]+)\/(.+)$/.exec(name);
    if (m) return `${m[2]}.${m[1]}.`;
  }
  return undefined;
}

/** Does a per-route RBAC config admit the client? No config admits everyone. */
function rbacAdmits(route: Json, prefix: string | undefined): boolean {
  const perRoute = asJson(asJson(route.typed_per_filter_config)?.[HTTP_RBAC_FILTER]);
  if (!perRoute) return true;
  const rules = asJson(asJson(perRoute.rbac)?.rules);
  if (!rules) return true;
  const action = rules.action ?? 'ALLOW';
  const policies = Object.values(asJson(rules.policies) ?? {}).map(asJson);
  const matched = policies.some((p) =>
    asList(p?.principals).some((principal) => {
      if (principal.any === true) return true;
      const exact = asJson(asJson(asJson(principal.authenticated)?.principal_name))?.exact;
      return prefix !== undefined && typeof exact === 'string' && exact.startsWith(prefix) && exact.length > prefix.length;
    }),
  );
  return action === 'ALLOW' ? matched : !matched;
}

/** Static evaluation of an Envoy StringMatcher; undefined when it cannot be decided here. */
function stringMatches(m: Json, value: string): boolean | undefined {
  const ci = m.ignore_case === true;
  const v = ci ? value.toLowerCase() : value;
  const norm = (s: unknown): string => (ci ? String(s).toLowerCase() : String(s));
  if (m.exact !== undefined) return v === norm(m.exact);
  if (m.prefix !== undefined) return v.startsWith(norm(m.prefix));
  if (m.suffix !== undefined) return v.endsWith(norm(m.suffix));
  if (m.contains !== undefined) return v.includes(norm(m.contains));
  const regex = asJson(m.safe_regex)?.regex;
  if (typeof regex === 'string') {
    try {
      return RE2JS.compile(regex).matches(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Static evaluation of a HeaderMatcher against a known value (both the current and the deprecated forms). */
function headerMatches(h: Json, value: string): boolean | undefined {
  let result: boolean | undefined;
  const sm = asJson(h.string_match);
  if (sm) result = stringMatches(sm, value);
  else if (h.exact_match !== undefined) result = value === String(h.exact_match);
  else if (asJson(h.safe_regex_match)) result = stringMatches({ safe_regex: h.safe_regex_match }, value);
  else if (h.prefix_match !== undefined) result = value.startsWith(String(h.prefix_match));
  else if (h.suffix_match !== undefined) result = value.endsWith(String(h.suffix_match));
  else if (h.contains_match !== undefined) result = value.includes(String(h.contains_match));
  else if (h.present_match !== undefined) result = h.present_match === true;
  else result = true; // a header matcher with no value matcher matches presence
  if (result === undefined) return undefined;
  return h.invert_match === true ? !result : result;
}

/**
 * A route match as gRPC can evaluate it. gRPC has no pseudo-headers in its metadata, so:
 * `:method` is decided here (gRPC always POSTs), `:authority` against the target the client
 * dialled; a route that cannot match a gRPC call is dropped (null), as is one that matches on
 * a pseudo-header we cannot decide statically. Path matchers are kept: gRPC matches them
 * against `/<package>.<Service>/<Method>`.
 */
export function grpcMatch(match: Json, authority: string): Json | null {
  const headers: Json[] = [];
  for (const h of asList(match.headers)) {
    const name = String(h.name ?? '');
    if (name === ':method' || name === ':authority') {
      const ok = headerMatches(h, name === ':method' ? GRPC_METHOD : authority);
      if (ok !== true) return null;
      continue;
    }
    if (name.startsWith(':')) return null;
    headers.push(h);
  }
  const out: Json = { ...match };
  if (headers.length > 0) out.headers = headers;
  else delete out.headers;
  return out;
}

interface Backend {
  readonly name: string;
  readonly weight: number;
  readonly entry: Json;
}

function backendsOf(action: Json): Backend[] | undefined {
  if (typeof action.cluster === 'string') return [{ name: action.cluster, weight: 1, entry: { name: action.cluster } }];
  const wc = asJson(action.weighted_clusters);
  if (!wc) return undefined;
  return asList(wc.clusters).map((c) => ({ name: String(c.name), weight: Number(asJson(c.weight)?.value ?? c.weight ?? 0), entry: c }));
}

/** The route action sent to `backends` only (all of them: the action unchanged). */
function narrowAction(action: Json, all: readonly Backend[], admitted: readonly Backend[]): Json | undefined {
  if (admitted.length === all.length) return action;
  if (admitted.every((b) => b.weight === 0)) return undefined;
  const { weighted_clusters: wc, cluster: _c, ...rest } = action;
  if (admitted.length === 1) return { ...rest, cluster: admitted[0].name };
  return { ...rest, weighted_clusters: { ...asJson(wc), clusters: admitted.map((b) => b.entry) } };
}

/**
 * The routes the destination of `cluster` (`<ns>/<svc>|<targetPort>`) admits for the client,
 * in its order; undefined when the compile knows no inbound routes for it (no restriction to
 * carry over, as for a destination outside the mesh).
 */
function admittedInboundRoutes(snapshot: Snapshot, cluster: string, prefix: string | undefined): Json[] | undefined {
  const m = /^([^/]+)\/(.+)\|(\d+)$/.exec(cluster);
  if (!m) return undefined;
  const [, namespace, name, targetPort] = m;
  const vh = inboundIndex(snapshot).get(`${inboundRouteConfigName(Number(targetPort))}|${inboundVirtualHostName({ namespace, name })}`);
  if (!vh) return undefined;
  return asList(vh.routes).filter((r) => rbacAdmits(r, prefix));
}

/**
 * The proxyless routes for one outbound route: the outbound match when no destination
 * restricts it, else one route per match the destinations admit, sent to the backends that
 * admit it (a split keeps its weights among them).
 */
function deriveRoutes(snapshot: Snapshot, outRoute: Json, prefix: string | undefined, authority: string): Json[] {
  const outMatch = grpcMatch(asJson(outRoute.match) ?? {}, authority);
  if (!outMatch) return [];
  // The API listener has no HTTP filter but the router, so per-filter configs mean nothing
  // there (and gRPC rejects configs for filters it does not know).
  const { typed_per_filter_config: _tpfc, ...plain } = outRoute;
  const action = asJson(outRoute.route);
  const backends = action ? backendsOf(action) : undefined;
  if (!action || !backends) return [{ ...plain, match: outMatch }];

  // Per backend: the gRPC-evaluable matches its destination admits, or undefined (no restriction).
  const admitted = backends.map((b) => {
    const inbound = admittedInboundRoutes(snapshot, b.name, prefix);
    if (inbound === undefined) return undefined;
    const matches = new Map<string, { match: Json; name?: string }>();
    for (const r of inbound) {
      const match = grpcMatch(asJson(r.match) ?? {}, authority);
      const key = JSON.stringify(match);
      if (match && !matches.has(key)) matches.set(key, { match, name: typeof r.name === 'string' ? r.name : undefined });
    }
    return matches;
  });
  if (admitted.every((a) => a === undefined)) return [{ ...plain, match: outMatch }];

  const routes: Json[] = [];
  const seen = new Set<string>();
  for (const matches of admitted) {
    for (const [key, { match, name }] of matches ?? []) {
      if (seen.has(key)) continue;
      seen.add(key);
      const takers = backends.filter((_, i) => admitted[i] === undefined || admitted[i]!.has(key));
      const narrowed = narrowAction(action, backends, takers);
      if (!narrowed) continue;
      routes.push(name === undefined ? { match, route: narrowed } : { name, match, route: narrowed });
    }
  }
  return routes;
}

/** The client's outbound virtual host that answers to `host:port`, if the client may call it. */
function outboundVirtualHost(client: ProxySnapshot, target: ApiListenerTarget): Json | undefined {
  const rc = client.resources.get(RDS)?.get(outboundRouteConfigName(target.port));
  if (!rc) return undefined;
  const authority = `${target.host}:${target.port}`;
  return asList(rc.json.virtual_hosts).find((vh) => asList(vh.domains).some((d) => String(d) === authority));
}

/**
 * The route configuration for an API listener (named like it), or undefined when the client
 * may not call that service on that port.
 */
export function proxylessRouteConfiguration(snapshot: Snapshot, client: ProxySnapshot, target: ApiListenerTarget): EnvoyResource | undefined {
  const vh = outboundVirtualHost(client, target);
  if (!vh) return undefined;
  const prefix = identityPrefix(client);
  const authority = `${target.host}:${target.port}`;
  const routes = asList(vh.routes).flatMap((r) => deriveRoutes(snapshot, r, prefix, authority));
  const { domains: _d, routes: _r, typed_per_filter_config: _t, ...rest } = vh;
  return {
    '@type': TYPE.routeConfiguration,
    name: target.name,
    virtual_hosts: [{ ...rest, domains: [authority], routes }],
  };
}

// ── Clusters and endpoints ──────────────────────────────────────────────────

/** Fields of a sidecar cluster that gRPC understands and that do not involve the sidecar's certificates. */
const CLUSTER_FIELDS = ['name', 'type', 'eds_cluster_config', 'lb_policy', 'circuit_breakers', 'outlier_detection'] as const;

/** The sidecar's EDS cluster for gRPC, without its SDS-based mTLS; undefined for anything that is not EDS (local app clusters). */
export function proxylessCluster(sidecar: EnvoyResource): EnvoyResource | undefined {
  if (sidecar.type !== 'EDS') return undefined;
  const out: Json = { '@type': TYPE.cluster };
  for (const f of CLUSTER_FIELDS) if (sidecar[f] !== undefined) out[f] = sidecar[f];
  if (out.eds_cluster_config === undefined) out.eds_cluster_config = { eds_config: ADS };
  return out as EnvoyResource;
}

/** The ClusterLoadAssignment with a weight on every locality: gRPC ignores unweighted localities. */
export function proxylessEndpoints(cla: EnvoyResource): EnvoyResource {
  const endpoints = asList(cla.endpoints).map((e) => ({
    ...e,
    locality: e.locality ?? {},
    load_balancing_weight: e.load_balancing_weight ?? 1, // proto3 JSON writes a UInt32Value as a bare number
  }));
  return { ...cla, endpoints };
}
