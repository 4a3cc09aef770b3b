/**
 * `explain`: would the sidecars let one workload call one service, and why. Computed from the
 * passes' tables (the access rules, the resolved splits, the proxy plans), following the path a
 * request takes through the Envoys smi-compile configures: the source's outbound filter chain and
 * route (which picks a split backend by weight), then at each backend workload the inbound filter
 * chain's network RBAC (the caller's certificate), the inbound route chosen by path, method and
 * headers (no route: 404), and that route's RBAC (a principal it does not name: 403). Every
 * Envoy name comes from src/emit/names.ts, so the explanation names what a config dump shows.
 */
import { outboundChainName } from '../emit/listeners-outbound.ts';
import {
  HTTP_RBAC_FILTER,
  INBOUND_LISTENER_NAME,
  inboundFilterChainName,
  inboundRouteConfigName,
  inboundRouteName,
  inboundVirtualHostName,
  NETWORK_RBAC_FILTER,
  OUTBOUND_LISTENER_NAME,
  outboundRouteConfigName,
  outboundVirtualHostName,
  RBAC_PER_ROUTE_POLICY,
  serviceHostnames,
} from '../emit/names.ts';
import { methodsOf } from '../emit/routes.ts';
import { nodeId, serviceFqdn } from '../ir/names.ts';
import type { InboundHttpRoute, InboundPort, ProxyPlan, ServiceName } from '../ir/proxy-plan.ts';
import { keyOf, resourceKey, type AppProtocol, type FieldPath, type Resource } from '../ir/types.ts';
import type { AccessRule } from '../passes/access.ts';
import type { PlannedMesh } from '../passes/plan.ts';
import { hostMatches, missReason, type HttpRequest } from './request.ts';
import { positionOf } from '../parser/origin.ts';

export interface ExplainQuery {
  /** `ns/workload` */
  readonly from: string;
  readonly to: { readonly service: string; readonly namespace: string; readonly port?: number };
  readonly method: string;
  readonly path: string;
  /** Extra request headers, names as given; `host` overrides the default authority. */
  readonly headers: readonly (readonly [string, string])[];
}

/** A policy object and where it is written. */
export interface PolicyRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly file: string;
  readonly line: number;
  /** What in it applies: `rule 0 (HTTPRouteGroup bookstore-service-routes)`, `match books-bought`, `backend bookstore-v2`. */
  readonly detail?: string;
}

export interface WorkloadVerdict {
  readonly workload: string;
  readonly allowed: boolean;
  /** What the caller sees: 200-range from the app, 404 (no route), 403 (route RBAC), or `refused` (network RBAC closes the connection). */
  readonly outcome: 'app' | '404' | '403' | 'refused';
  readonly reason: string;
  readonly listener: string;
  readonly filterChain: string;
  /** Network RBAC filter and the policies (TrafficTarget names) that admit the caller; undefined in permissive mode. */
  readonly networkRbac?: { readonly filter: string; readonly policies: readonly string[] };
  readonly routeConfig?: string;
  readonly virtualHost?: string;
  readonly route?: string;
  readonly routeRbac?: { readonly filter: string; readonly policy: string };
  /** The policies that decided: the TrafficTargets (and route group matches) admitting, or those that exist and do not. */
  readonly policies: readonly PolicyRef[];
}

export interface BackendVerdict {
  readonly service: string;
  readonly cluster: string;
  readonly weight: number;
  readonly workloads: readonly WorkloadVerdict[];
}

export interface Explanation {
  readonly verdict: 'allowed' | 'denied';
  /** One sentence: what decided. */
  readonly reason: string;
  readonly request: {
    readonly from: string;
    readonly identity: string;
    readonly to: string;
    readonly port: number;
    readonly protocol: AppProtocol;
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Readonly<Record<string, string>>;
  };
  readonly outbound?: {
    readonly listener: string;
    readonly filterChain: string;
    readonly routeConfig?: string;
    readonly virtualHost?: string;
    readonly split?: PolicyRef;
  };
  /** Policies behind a denial before any backend: the TrafficTargets that exist for the destination and do not name the caller. */
  readonly policies: readonly PolicyRef[];
  readonly backends: readonly BackendVerdict[];
}

/** Bad input to explain (an unknown workload, service or port): exit 1, not an answer. */
export class ExplainInputError extends Error {}

const isHttp = (p: AppProtocol) => p === 'http' || p === 'grpc';

function refTo(r: Resource, path: FieldPath = [], detail?: string): PolicyRef {
  const at = path.length > 0 ? positionOf(r.origin, path) : positionOf(r.origin);
  return { kind: r.kind, namespace: r.meta.namespace, name: r.meta.name, file: at.file, line: at.line, ...(detail ? { detail } : {}) };
}

function serviceText(s: ServiceName): string {
  return `${s.namespace}/${s.name}`;
}

/** The rules admitting `source` (`ns/sa`) to `destination` (`ns/sa`). */
function rulesFor(mesh: PlannedMesh, destination: string, source: string): readonly AccessRule[] {
  return (mesh.access.byDestination.get(destination) ?? []).filter((r) => r.sources.includes(source));
}

function targetRefs(rules: readonly AccessRule[]): PolicyRef[] {
  return rules.map((r) => refTo(r.target, [], `sources ${r.sources.join(', ') || '(none)'}`));
}

export function explain(mesh: PlannedMesh, q: ExplainQuery): Explanation {
  const [fromNs, fromName] = q.from.split('/');
  const source = mesh.proxies.find((p) => p.namespace === fromNs && p.workload === fromName);
  if (!source) throw new ExplainInputError(`no workload ${q.from} in the manifests (workloads: ${mesh.proxies.map(nodeId).join(', ') || 'none'})`);
  const binding = mesh.bindings.services.get(keyOf(q.to.namespace, q.to.service));
  if (!binding) throw new ExplainInputError(`no service ${q.to.service}.${q.to.namespace} in the manifests`);
  const ports = binding.ports;
  let port = q.to.port === undefined ? (ports.length === 1 ? ports[0] : undefined) : ports.find((p) => p.port.port === q.to.port);
  if (!port) {
    const list = ports.map((p) => p.port.port).join(', ') || 'none';
    throw new ExplainInputError(q.to.port === undefined ? `service ${q.to.service}.${q.to.namespace} has ports ${list}: name one (${q.to.service}.${q.to.namespace}:<port>)` : `service ${q.to.service}.${q.to.namespace} has no port ${q.to.port} (ports: ${list})`);
  }
  const svc: ServiceName = { namespace: q.to.namespace, name: q.to.service };
  const protocol = port.port.protocol;
  const sourceSa = keyOf(source.namespace, source.serviceAccount);
  const headers = new Map<string, string>([[':authority', `${serviceFqdn(svc)}:${port.port.port}`]]);
  for (const [k, v] of q.headers) headers.set(k.toLowerCase() === 'host' ? ':authority' : k.toLowerCase(), v);
  const request: HttpRequest = { method: q.method, path: q.path, headers };
  const requestView: Explanation['request'] = {
    from: q.from,
    identity: source.identity,
    to: serviceText(svc),
    port: port.port.port,
    protocol,
    ...(isHttp(protocol) ? { method: q.method, path: q.path, headers: Object.fromEntries(headers) } : {}),
  };

  // A headless service resolves to pod addresses; a pod calling its own address goes over
  // loopback, which OSM's iptables rules (src/inject/iptables.ts: `-o lo ... -j RETURN`) leave to
  // the app: no sidecar sees the call, so no policy applies to it.
  const self = binding.workloads.length > 0 && binding.workloads.every((w) => w.meta.namespace === source.namespace && w.meta.name === source.workload);
  if (binding.service.headless && self) {
    return {
      verdict: 'allowed',
      reason: `${serviceText(svc)} is headless and ${q.from} is its only workload: the call goes to the pod's own address over loopback, which the sidecar's iptables rules leave to the app (no policy applies)`,
      request: requestView,
      policies: [],
      backends: [],
    };
  }
  const out = source.outbound.find((o) => o.service.namespace === svc.namespace && o.service.name === svc.name && o.port === port!.port.port);
  const chain = out && source.outboundLayout.chains.find((c) => (c.kind === 'service' ? c.service === out : c.services.includes(out)));
  if (!out || !chain) {
    // The passes gave the caller no route to it: say which TrafficTargets exist for the workloads behind it.
    const destinations = new Set(binding.serviceAccounts);
    for (const split of mesh.splits.values()) if (split.apex === binding) for (const b of split.backends) for (const sa of b.binding.serviceAccounts) destinations.add(sa);
    const existing = [...destinations].flatMap((d) => mesh.access.byDestination.get(d) ?? []);
    const admitting = existing.filter((r) => r.sources.includes(sourceSa));
    const reason = mesh.settings.permissive
      ? `${q.from} has no outbound filter chain for ${serviceText(svc)}:${port.port.port} (no workload behind it)`
      : existing.length === 0
        ? `no TrafficTarget has a destination behind ${serviceText(svc)} (${[...destinations].join(', ') || 'no service account'}): restrictive by default`
        : admitting.length === 0
          ? `no TrafficTarget names ${sourceSa} as a source for ${[...destinations].join(', ')}`
          : `the TrafficTargets naming ${sourceSa} admit no ${protocol} traffic on port ${port.port.port}`;
    return {
      verdict: 'denied',
      reason: `${reason}; ${nodeId(source)}'s ${OUTBOUND_LISTENER_NAME} has no filter chain for it`,
      request: requestView,
      policies: targetRefs(existing),
      backends: [],
    };
  }

  const http = isHttp(protocol);
  let outbound: Explanation['outbound'] = { listener: OUTBOUND_LISTENER_NAME, filterChain: outboundChainName(chain) };
  if (http) {
    outbound = { ...outbound, routeConfig: outboundRouteConfigName(out.port), virtualHost: outboundVirtualHostName(out.service) };
    const domains = serviceHostnames(out.service, out.port, out.service.namespace === source.namespace);
    if (!hostMatches(domains, headers.get(':authority')!)) {
      return {
        verdict: 'denied',
        reason: `Host ${headers.get(':authority')} is none of ${outboundVirtualHostName(out.service)}'s domains: 404 from ${q.from}'s sidecar`,
        request: requestView,
        outbound,
        policies: [],
        backends: [],
      };
    }
  }
  const split = mesh.splits.get(keyOf(svc.namespace, svc.name));
  if (out.split && split) outbound = { ...outbound, split: refTo(split.split, ['spec', 'backends']) };

  const backends: BackendVerdict[] = out.backends.map((b) => {
    const upstream = source.upstreams.find((u) => u.name === b.cluster)!;
    const backendBinding = mesh.bindings.services.get(keyOf(upstream.service.namespace, upstream.service.name));
    const workloads = (backendBinding?.workloads ?? []).map((w) => {
      const plan = mesh.proxies.find((p) => p.namespace === w.meta.namespace && p.workload === w.meta.name)!;
      return atDestination(mesh, plan, upstream.service, upstream.targetPort, svc, out.port, source, sourceSa, request, http);
    });
    return { service: serviceText(upstream.service), cluster: b.cluster, weight: b.weight, workloads };
  });
  const live = backends.filter((b) => b.weight > 0);
  const refused = live.flatMap((b) => b.workloads.filter((w) => !w.allowed).map((w) => ({ b, w })));
  const empty = live.filter((b) => b.workloads.length === 0);
  const allowed = live.length > 0 && refused.length === 0 && empty.length === 0;
  const reason = allowed
    ? `admitted at every backend: ${[...new Set(live.flatMap((b) => b.workloads.map((w) => w.reason)))].join('; ')}`
    : live.length === 0
      ? 'every backend has weight 0'
      : refused.length > 0
        ? byReason(refused.map(({ w }) => w))
        : `no workload behind ${empty.map((b) => b.service).join(', ')}`;
  return { verdict: allowed ? 'allowed' : 'denied', reason, request: requestView, outbound, policies: [], backends };
}

/** `a, b: reason; c: other reason`: backends that agree are said once. */
function byReason(verdicts: readonly WorkloadVerdict[]): string {
  const groups = new Map<string, string[]>();
  for (const w of verdicts) groups.set(w.reason, [...(groups.get(w.reason) ?? []), w.workload]);
  return [...groups].map(([reason, workloads]) => `${workloads.join(', ')}: ${reason}`).join('; ');
}

/** What the sidecar of one backend workload does with the request. */
function atDestination(
  mesh: PlannedMesh,
  plan: ProxyPlan,
  backend: ServiceName,
  targetPort: number,
  dialled: ServiceName,
  dialledPort: number,
  source: ProxyPlan,
  sourceSa: string,
  request: HttpRequest,
  http: boolean,
): WorkloadVerdict {
  const workload = nodeId(plan);
  const port = plan.inbound.find((p) => p.service.namespace === backend.namespace && p.service.name === backend.name && p.targetPort === targetPort);
  const destinationSa = keyOf(plan.namespace, plan.serviceAccount);
  const filterChain = inboundFilterChainName(backend, targetPort, port?.protocol ?? 'http');
  const base = { workload, listener: INBOUND_LISTENER_NAME, filterChain };
  if (!port) return { ...base, allowed: false, outcome: 'refused', reason: `${workload}'s sidecar has no inbound filter chain for ${serviceText(backend)} port ${targetPort}`, policies: [] };
  const existing = mesh.access.byDestination.get(destinationSa) ?? [];
  let networkRbac: WorkloadVerdict['networkRbac'];
  if (port.policies !== undefined) {
    const admitting = port.policies.filter((p) => p.principals.includes(source.identity)).map((p) => p.name);
    networkRbac = { filter: NETWORK_RBAC_FILTER, policies: admitting };
    if (admitting.length === 0) {
      const reason =
        existing.length === 0
          ? `no TrafficTarget has destination ${destinationSa}: ${NETWORK_RBAC_FILTER} refuses the connection`
          : `no TrafficTarget for ${destinationSa} names ${sourceSa} as a source on this port: ${NETWORK_RBAC_FILTER} refuses the connection`;
      return { ...base, allowed: false, outcome: 'refused', reason, networkRbac, policies: targetRefs(existing) };
    }
  }
  const decided = rulesFor(mesh, destinationSa, sourceSa);
  if (!http) {
    const reason = port.policies === undefined ? 'permissive mode: no RBAC' : `${decided.map((r) => `TrafficTarget ${resourceKey(r.target)}`).join(', ')} admits ${sourceSa}`;
    return { ...base, allowed: true, outcome: 'app', reason, networkRbac, policies: tcpRefs(decided, port) };
  }
  const routeConfig = inboundRouteConfigName(targetPort);
  const authority = request.headers.get(':authority')!;
  // Callers of a split address the apex; the backend's route configuration has a virtual host for each (routes.ts).
  const hosts = [{ svc: port.service, port: port.port }, ...(port.apexes ?? []).map((a) => ({ svc: a.service, port: a.port }))];
  const host = hosts.find((h) => hostMatches(serviceHostnames(h.svc, h.port, true), authority));
  if (!host) {
    return { ...base, allowed: false, outcome: '404', reason: `Host ${authority} is no domain of ${routeConfig}: no route (404)`, networkRbac, routeConfig, policies: [] };
  }
  const virtualHost = inboundVirtualHostName(host.svc);
  const view = { ...base, networkRbac, routeConfig, virtualHost };
  const misses: string[] = [];
  for (const route of port.routes) {
    for (const method of methodsOf(route)) {
      const miss = missReason(route.match, method, request);
      if (miss !== undefined) {
        misses.push(`${inboundRouteName(route.name, method)}: ${miss}`);
        continue;
      }
      // Envoy takes the first route that matches; its RBAC then decides.
      const name = inboundRouteName(route.name, method);
      const routeRbac = { filter: HTTP_RBAC_FILTER, policy: RBAC_PER_ROUTE_POLICY };
      const refs = routeRefs(decided, route);
      if (route.principals !== undefined && !route.principals.includes(source.identity)) {
        const naming = routeRefs(existing, route);
        return {
          ...view,
          allowed: false,
          outcome: '403',
          reason: `route ${name} matches, but no TrafficTarget admitting its match names ${sourceSa} (it admits ${route.principals.join(', ') || 'nobody'}): 403`,
          route: name,
          routeRbac,
          policies: naming,
        };
      }
      const reason =
        route.principals === undefined
          ? `permissive mode: route ${name} admits any caller`
          : `${refs.filter((r) => r.kind === 'TrafficTarget').map((r) => `TrafficTarget ${r.namespace}/${r.name}`).join(', ')} admits ${sourceSa} on ${route.name}`;
      return { ...view, allowed: true, outcome: 'app', reason, route: name, routeRbac, policies: refs };
    }
  }
  const reason =
    port.routes.length === 0
      ? `${routeConfig} has no routes (no TrafficTarget admits HTTP traffic to ${destinationSa} here): no route (404)`
      : `no admitted match covers ${request.method} ${request.path}: ${misses.join('; ')}: no route (404)`;
  return { ...view, allowed: false, outcome: '404', reason, policies: targetRefs(decided) };
}

/** The TrafficTargets whose rules admit `route`'s match, with the rule and the match's position. */
function routeRefs(rules: readonly AccessRule[], route: InboundHttpRoute): PolicyRef[] {
  const refs: PolicyRef[] = [];
  for (const rule of rules) {
    const admitted = rule.http.find((h) => `${resourceKey(h.group)}/${h.match.name}` === route.name);
    if (!admitted) continue;
    const i = rule.target.rules.findIndex((r) => r.kind === 'HTTPRouteGroup' && r.name === admitted.group.meta.name);
    refs.push(refTo(rule.target, i >= 0 ? rule.target.rules[i].path : [], i >= 0 ? `rule ${i} (HTTPRouteGroup ${admitted.group.meta.name})` : undefined));
    if (!refs.some((r) => r.kind === 'HTTPRouteGroup' && r.name === admitted.group.meta.name)) refs.push(refTo(admitted.group, admitted.match.path, `match ${admitted.match.name}`));
  }
  return refs;
}

function tcpRefs(rules: readonly AccessRule[], port: InboundPort): PolicyRef[] {
  return rules.flatMap((rule) => {
    const tcp = rule.tcp.find((t) => t.ports.length === 0 || t.ports.includes(port.port) || t.ports.includes(port.targetPort));
    return tcp ? [refTo(rule.target, [], `TCPRoute ${tcp.route.meta.name}`), refTo(tcp.route, [], tcp.ports.length ? `ports ${tcp.ports.join(', ')}` : 'every port')] : [];
  });
}
