/**
 * The mesh as a reviewer reads it: who may call which service on which routes (access edges),
 * which splits send how much where, and what each proxy's Envoy resources are (by name and content
 * hash). Read from the passes' tables and plans, never from Envoy JSON: `diff` compares two of
 * these, `graph` draws one.
 */
import { methodsOf } from '../emit/routes.ts';
import { resourceName, XDS_KINDS, type ProxyConfig } from '../emit/types.ts';
import type { InboundHttpRoute, ProxyPlan } from '../ir/proxy-plan.ts';
import { keyOf, resourceKey, type AppProtocol, type FieldPath, type HttpMatch, type HttpRouteGroup, type Resource, type TcpRoute, type TrafficTarget } from '../ir/types.ts';
import type { AccessRule } from '../passes/access.ts';
import type { PlannedMesh } from '../passes/plan.ts';
import { nodeId, workloadNodeId } from '../ir/names.ts';
import { compareStrings } from '../shared/compare.ts';
import { sha256Hex } from '../shared/hash.ts';

/** One thing a workload may do: call a service (on a port) with one kind of request. */
export interface AccessEdge {
  /** `ns/workload` of the caller. */
  readonly from: string;
  /** `ns/service` called. */
  readonly service: string;
  readonly port: number;
  readonly protocol: AppProtocol;
  /** `GET /books-bought`, `* .*` with headers in braces, `tcp`, or `any request` (permissive). */
  readonly route: string;
  /** True when the service has more than one port: statements then name it. */
  readonly multiPort: boolean;
  /**
   * The workloads behind the service that admit it, when not all do (a split apex whose backends
   * disagree): some calls get through, the others are refused.
   */
  readonly onlyAt?: readonly string[];
  /** What admits it: the TrafficTarget and the source entry naming the caller, the route group match. Undefined in permissive mode. */
  readonly admittedBy?: { readonly target: TrafficTarget; readonly sourcePath: FieldPath; readonly group?: HttpRouteGroup; readonly match?: HttpMatch; readonly tcp?: TcpRoute };
}

/** By caller, service, port, route: field by field, so `bookstore/bookstore` sorts before `bookstore/bookstore-v1`. */
export function compareEdges(a: AccessEdge, b: AccessEdge): number {
  return compareStrings(a.from, b.from) || compareStrings(a.service, b.service) || a.port - b.port || compareStrings(a.route, b.route);
}

export function edgeKey(e: Pick<AccessEdge, 'from' | 'service' | 'port' | 'route'>): string {
  return `${e.from}|${e.service}|${e.port}|${e.route}`;
}

/** `bookstore/bookstore GET /books-bought`, `bookwarehouse/mysql tcp:3306`. */
export function edgeText(e: AccessEdge): string {
  const only = e.onlyAt ? ` (only at ${e.onlyAt.join(', ')})` : '';
  if (e.route === 'tcp') return `${e.service} tcp:${e.port}${only}`;
  return `${e.service}${e.multiPort ? `:${e.port}` : ''} ${e.route}${only}`;
}

export function routeText(match: HttpMatch | undefined, method: string | undefined): string {
  if (!match) return 'any request';
  const headers = match.headers.length > 0 ? ` {${match.headers.map((h) => `${h.name}: ${h.value}`).join(', ')}}` : '';
  return `${method ?? '*'} ${match.pathRegex ?? '.*'}${headers}`;
}

function admittedByRule(rules: readonly AccessRule[], source: string, route?: InboundHttpRoute, tcpPort?: { port: number; targetPort: number }): AccessEdge['admittedBy'] {
  for (const rule of rules) {
    const i = rule.target.sources.findIndex((s) => s.kind === 'ServiceAccount' && keyOf(s.namespace, s.name) === source);
    if (i < 0) continue;
    const sourcePath = rule.target.sources[i].path;
    if (route) {
      const h = rule.http.find((a) => `${resourceKey(a.group)}/${a.match.name}` === route.name);
      if (h) return { target: rule.target, sourcePath, group: h.group, match: h.match };
    } else if (tcpPort) {
      const t = rule.tcp.find((x) => x.ports.length === 0 || x.ports.includes(tcpPort.port) || x.ports.includes(tcpPort.targetPort));
      if (t) return { target: rule.target, sourcePath, tcp: t.route };
    }
  }
  return undefined;
}

/** Every access edge of the mesh, sorted by caller, service, port and route. */
export function accessEdges(mesh: PlannedMesh): AccessEdge[] {
  const plans = new Map(mesh.proxies.map((p) => [nodeId(p), p]));
  const edges = new Map<string, AccessEdge>();
  for (const source of mesh.proxies) {
    const from = nodeId(source);
    const sourceSa = keyOf(source.namespace, source.serviceAccount);
    for (const out of source.outbound) {
      const service = keyOf(out.service.namespace, out.service.name);
      const binding = mesh.bindings.services.get(service);
      const port = binding?.ports.find((p) => p.port.port === out.port);
      if (!binding || !port) continue;
      const multiPort = binding.ports.length > 1;
      // Per edge, the workloads admitting it: fewer than `serving` and the edge holds only at those.
      const admitting = new Map<string, Set<string>>();
      let serving = 0;
      let workload = '';
      const add = (route: string, admittedBy: AccessEdge['admittedBy']) => {
        const edge: AccessEdge = { from, service, port: out.port, protocol: out.protocol, route, multiPort, ...(admittedBy ? { admittedBy } : {}) };
        const key = edgeKey(edge);
        if (!edges.has(key)) edges.set(key, edge);
        admitting.set(key, (admitting.get(key) ?? new Set()).add(workload));
      };
      for (const w of binding.workloads) {
        workload = workloadNodeId(w);
        const dest: ProxyPlan | undefined = plans.get(workload);
        const inbound = dest?.inbound.find((p) => p.service.namespace === out.service.namespace && p.service.name === out.service.name && p.targetPort === port.targetPort);
        if (!dest || !inbound) continue;
        serving++;
        const rules = mesh.access.byDestination.get(keyOf(dest.namespace, dest.serviceAccount)) ?? [];
        if (out.protocol === 'http' || out.protocol === 'grpc') {
          for (const route of inbound.routes) {
            if (route.principals !== undefined && !route.principals.includes(source.identity)) continue;
            const by = route.principals === undefined ? undefined : admittedByRule(rules, sourceSa, route);
            for (const method of methodsOf(route)) add(routeText(route.match, method), by);
          }
        } else if (inbound.policies === undefined || inbound.policies.some((p) => p.principals.includes(source.identity))) {
          add('tcp', inbound.policies === undefined ? undefined : admittedByRule(rules, sourceSa, undefined, { port: out.port, targetPort: port.targetPort }));
        }
      }
      for (const [key, at] of admitting) {
        if (at.size < serving) edges.set(key, { ...edges.get(key)!, onlyAt: [...at].sort() });
      }
    }
  }
  return [...edges.values()].sort(compareEdges);
}

export interface SplitView {
  /** `ns/apex` */
  readonly apex: string;
  /** Backend `ns/service` → weight, in the split's order. */
  readonly backends: readonly { readonly service: string; readonly weight: number; readonly path: FieldPath }[];
  readonly split: Resource;
}

/** The resolved TrafficSplits, by apex. */
export function splitViews(mesh: PlannedMesh): Map<string, SplitView> {
  const views = new Map<string, SplitView>();
  for (const [apex, s] of [...mesh.splits].sort(([a], [b]) => compareStrings(a, b))) {
    const backends = s.backends.map((b) => {
      const written = s.split.backends.find((x) => x.weight === b.weight && b.binding.service.meta.name === x.service.split('.')[0]);
      return { service: b.binding.key, weight: b.weight, path: written?.path ?? ['spec', 'backends'] };
    });
    views.set(apex, { apex, backends, split: s.split });
  }
  return views;
}

/** Each proxy's Envoy resources, `<kind>/<name>` → content hash (sha256 of the emitted JSON); the bootstrap counts as one. */
export function proxyResourceHashes(proxies: readonly ProxyConfig[]): Map<string, Map<string, string>> {
  const hash = (v: unknown) => sha256Hex(JSON.stringify(v));
  const out = new Map<string, Map<string, string>>();
  for (const p of proxies) {
    const resources = new Map<string, string>();
    for (const kind of XDS_KINDS) {
      for (const r of p.resources[kind]) {
        resources.set(`${kind}/${resourceName(r)}`, hash(r));
      }
    }
    resources.set('bootstrap', hash(p.bootstrap));
    out.set(nodeId(p), resources);
  }
  return out;
}
