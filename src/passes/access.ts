/**
 * Resolves TrafficTargets into access rules: who (source service accounts) may reach whom
 * (the destination service account) with which routes (HTTPRouteGroup matches, TCPRoute
 * ports). Restrictive by default, as SMI and OSM define it: no rule, no access.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import {
  keyOf,
  resourceKey,
  type HttpMatch,
  type HttpRouteGroup,
  type Mesh,
  type TcpRoute,
  type TrafficTarget,
  type UdpRoute,
} from '../ir/types.ts';
import type { BoundMesh } from './bind.ts';
import { indexByKey, pushTo } from './collections.ts';
import { at, refOf, type PassContext } from './context.ts';
import { indexInvalid, reportedAsInvalid, type InvalidIndex } from './invalid-references.ts';

export interface AdmittedHttpMatch {
  readonly group: HttpRouteGroup;
  readonly match: HttpMatch;
  /** Position of the match in its group: routes keep the author's order. */
  readonly index: number;
}

export interface AccessRule {
  readonly target: TrafficTarget;
  /** `ns/sa` of the destination. */
  readonly destination: string;
  /** `ns/sa` of every admitted source, sorted and unique. */
  readonly sources: readonly string[];
  readonly http: readonly AdmittedHttpMatch[];
  /** Admitted TCP ports per TCPRoute; an empty list admits every port. */
  readonly tcp: readonly { readonly route: TcpRoute; readonly ports: readonly number[] }[];
}

export interface AccessTable {
  readonly rules: readonly AccessRule[];
  readonly byDestination: ReadonlyMap<string, readonly AccessRule[]>;
  readonly bySource: ReadonlyMap<string, readonly AccessRule[]>;
}

export interface AccessMesh extends BoundMesh {
  readonly access: AccessTable;
}

interface RouteIndex {
  /** Route groups in the input that were refused: a rule naming one says so. */
  invalid: InvalidIndex;
  http: Map<string, HttpRouteGroup>;
  tcp: Map<string, TcpRoute>;
  udp: Map<string, UdpRoute>;
}

function resolveRules(target: TrafficTarget, routes: RouteIndex, ctx: PassContext): Pick<AccessRule, 'http' | 'tcp'> {
  const ns = target.meta.namespace;
  const http: AdmittedHttpMatch[] = [];
  const tcp: { route: TcpRoute; ports: readonly number[] }[] = [];
  for (const rule of target.rules) {
    const missing = () =>
      reportedAsInvalid(routes.invalid, rule.kind, ns, rule.name, target, [...rule.path, 'name'], ctx) ||
      ctx.report(
        diagnostic(
          'missing-route-group',
          { target: target.meta.name, ruleKind: rule.kind, namespace: ns, name: rule.name },
          at(target, [...rule.path, 'name']),
          refOf(target),
        ),
      );
    if (rule.kind === 'HTTPRouteGroup') {
      const group = routes.http.get(keyOf(ns, rule.name));
      if (!group) {
        missing();
        continue;
      }
      if (rule.matches === undefined) {
        group.matches.forEach((match, index) => http.push({ group, match, index }));
        continue;
      }
      for (const wanted of rule.matches) {
        const index = group.matches.findIndex((m) => m.name === wanted.name);
        if (index < 0) {
          ctx.report(
            diagnostic(
              'unknown-match-name',
              { ruleKind: rule.kind, namespace: ns, group: group.meta.name, match: wanted.name },
              at(target, wanted.path),
              refOf(target),
            ),
          );
          continue;
        }
        http.push({ group, match: group.matches[index], index });
      }
    } else if (rule.kind === 'TCPRoute') {
      const route = routes.tcp.get(keyOf(ns, rule.name));
      if (!route) missing();
      else tcp.push({ route, ports: route.ports });
    } else {
      // A UDPRoute: accepted but inert, reported once per UDPRoute in `resolveAccess`.
      if (!routes.udp.has(keyOf(ns, rule.name))) missing();
    }
  }
  // The same match listed twice (or by two rules) admits once.
  const seen = new Set<string>();
  const uniqueHttp = http.filter((h) => {
    const k = `${resourceKey(h.group)}#${h.index}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { http: uniqueHttp, tcp };
}

/** In permissive mode TrafficTargets change nothing: said once for the whole mesh (access itself runs per namespace). */
export function reportPermissiveTargets(mesh: Mesh, ctx: PassContext): void {
  if (!mesh.settings.permissive || mesh.trafficTargets.length === 0) return;
  const from = mesh.settings.from;
  ctx.report(
    diagnostic(
      'permissive-mode-ignores-targets',
      { count: mesh.trafficTargets.length },
      from ? at(from, ['spec', 'traffic', 'enablePermissiveTrafficPolicyMode']) : undefined,
      from ? refOf(from) : undefined,
    ),
  );
}

export function resolveAccess(mesh: BoundMesh, ctx: PassContext): AccessMesh {
  const routes: RouteIndex = {
    invalid: indexInvalid(mesh),
    http: indexByKey(mesh.httpRouteGroups),
    tcp: indexByKey(mesh.tcpRoutes),
    udp: indexByKey(mesh.udpRoutes),
  };
  for (const udp of mesh.udpRoutes) {
    ctx.report(diagnostic('udp-route-unsupported', { namespace: udp.meta.namespace, name: udp.meta.name }, at(udp, ['metadata', 'name']), refOf(udp)));
  }
  const seenTargets = new Set<string>();
  const rules: AccessRule[] = [];
  for (const target of mesh.trafficTargets) {
    const targetKey = resourceKey(target);
    if (seenTargets.has(targetKey)) continue; // duplicate, reported by the duplicates pass
    seenTargets.add(targetKey);
    const ns = target.meta.namespace;
    const dest = target.destination;
    if (dest.kind !== 'ServiceAccount') {
      ctx.report(
        diagnostic('identity-kind', { target: target.meta.name, role: 'destination', kind: dest.kind }, at(target, [...dest.path, 'kind']), refOf(target)),
      );
      continue;
    }
    if (dest.namespace !== ns) {
      // OSM applies a TrafficTarget only in its destination's namespace.
      ctx.report(
        diagnostic(
          'target-namespace-mismatch',
          { target: target.meta.name, namespace: ns, destinationNamespace: dest.namespace },
          at(target, [...dest.path, 'namespace']),
          refOf(target),
        ),
      );
      continue;
    }
    const destination = keyOf(dest.namespace, dest.name);
    if (!mesh.bindings.workloadsOfServiceAccount.has(destination)) {
      ctx.report(
        diagnostic(
          'service-account-without-workload',
          { target: target.meta.name, namespace: dest.namespace, name: dest.name },
          at(target, [...dest.path, 'name']),
          refOf(target),
        ),
      );
    }
    const sources = new Set<string>();
    for (const source of target.sources) {
      if (source.kind !== 'ServiceAccount') {
        ctx.report(
          diagnostic('identity-kind', { target: target.meta.name, role: 'source', kind: source.kind }, at(target, [...source.path, 'kind']), refOf(target)),
        );
        continue;
      }
      sources.add(keyOf(source.namespace, source.name));
    }
    const resolved = resolveRules(target, routes, ctx);
    rules.push({ target, destination, sources: [...sources].sort(), ...resolved });
  }

  const byDestination = new Map<string, AccessRule[]>();
  const bySource = new Map<string, AccessRule[]>();
  for (const rule of rules) {
    pushTo(byDestination, rule.destination, rule);
    for (const s of rule.sources) pushTo(bySource, s, rule);
  }
  return { ...mesh, access: { rules, byDestination, bySource } };
}

/** Does a rule admit traffic to a service port of this protocol and number? */
export function ruleAdmitsPort(rule: AccessRule, protocol: string, port: number, targetPort: number): boolean {
  if (protocol === 'http' || protocol === 'grpc') return rule.http.length > 0;
  return rule.tcp.some((t) => t.ports.length === 0 || t.ports.includes(port) || t.ports.includes(targetPort));
}
