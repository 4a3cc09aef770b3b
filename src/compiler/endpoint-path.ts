/**
 * The endpoint-only path of a memo compile (`serve --watch`, `serve --kubernetes`).
 *
 * Pods come and go every minute, and with them the EndpointSlices; nothing else changes. What
 * an endpoint set reaches is narrow: the ready IPs of its service's binding (bind.ts), and
 * through them the `endpoints` of every UpstreamCluster of that service in the callers' plans
 * (plan.ts), which emit turns into ClusterLoadAssignments. The outbound filter chains read the
 * IPs too, but only for a headless service (its chains match pod IPs), so a change there takes
 * the full path, as does anything that could change a diagnostic: a duplicate endpoint set.
 *
 * So when the units (files, API objects) that changed since the last compile hold endpoint sets
 * and nothing else, and the others kept their order, the last compile's planned mesh is brought
 * up to date directly: new bindings for the services whose IPs changed, new upstream clusters
 * and plans for their callers, every other plan the same object (so emit and the server carry
 * those proxies over by identity). The result equals what the passes would have planned
 * (endpoint-path.test.ts holds the two paths to byte-identical resources over random edits).
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { ProxyPlan, UpstreamCluster } from '../ir/proxy-plan.ts';
import { keyOf, LIST_OF_KIND, type EndpointSet, type Resource } from '../ir/types.ts';
import { endpointIPs, type ServiceBinding } from '../passes/bind.ts';
import { sameData } from '../passes/collections.ts';
import type { PlannedMesh } from '../passes/index.ts';
import type { ResolvedSplit } from '../passes/splits.ts';

const ENDPOINT_LIST = LIST_OF_KIND.EndpointSlice;

/** What one unit (a file, an API object) holds: its resources by list (MESH_LISTS order). */
export interface UnitLists {
  readonly lists: readonly (readonly Resource[])[];
}

/** The last compile's planned mesh, and what it depended on beyond the units' own diagnostics. */
export interface PlannedState {
  readonly mesh: PlannedMesh;
  /** What the build and the passes reported: an endpoint-only change reports the same. */
  readonly diagnostics: readonly Diagnostic[];
  /** The compile options (JSON) the mesh was planned under. */
  readonly options: string;
  /** Indices into `mesh.proxies` by the `ns/name` of a service they hold an upstream of (made on first use). */
  readonly callers?: ReadonlyMap<string, readonly number[]>;
}

interface EndpointChange {
  readonly removed: readonly EndpointSet[];
  readonly added: readonly EndpointSet[];
}

/** Adds `unit`'s endpoint sets to `into`; false when it holds anything else. */
function endpointSetsOf(unit: UnitLists, into: EndpointSet[]): boolean {
  for (let i = 0; i < unit.lists.length; i++) if (i !== ENDPOINT_LIST && unit.lists[i].length > 0) return false;
  for (const r of unit.lists[ENDPOINT_LIST]) into.push(r as EndpointSet);
  return true;
}

/**
 * The endpoint sets that left (in the units `removed`) and came (in `added`), when those units
 * hold nothing but endpoint sets; else undefined.
 */
export function endpointOnlyChange(removed: readonly UnitLists[], added: readonly UnitLists[]): EndpointChange | undefined {
  const out = { removed: [] as EndpointSet[], added: [] as EndpointSet[] };
  for (const unit of removed) if (!endpointSetsOf(unit, out.removed)) return undefined;
  for (const unit of added) if (!endpointSetsOf(unit, out.added)) return undefined;
  return out;
}

function allEndpointSets(units: readonly UnitLists[]): EndpointSet[] {
  const out: EndpointSet[] = [];
  for (let i = 0; i < units.length; i++) {
    const list = units[i].lists[ENDPOINT_LIST];
    for (let j = 0; j < list.length; j++) out.push(list[j] as EndpointSet);
  }
  return out;
}

const duplicateKey = (s: EndpointSet): string => `${s.kind}|${s.meta.namespace}/${s.meta.name}`;

/**
 * True when a set of the change shares kind, namespace and name with another set, before or
 * after it (a duplicate-resource diagnostic would come or go). `now`: every set after it.
 */
function duplicated(change: EndpointChange, now: readonly EndpointSet[]): boolean {
  // Per key: sets now, and sets before (now, less those added, plus those removed).
  const counts = new Map<string, { now: number; before: number }>();
  const names = new Set<string>();
  for (const s of change.added) names.add(s.meta.name);
  for (const s of change.removed) names.add(s.meta.name);
  for (const s of now) {
    if (!names.has(s.meta.name)) continue;
    const key = duplicateKey(s);
    const c = counts.get(key);
    if (c) c.now += 1;
    else counts.set(key, { now: 1, before: 1 });
  }
  for (const s of change.added) counts.get(duplicateKey(s))!.before -= 1;
  for (const s of change.removed) {
    const key = duplicateKey(s);
    const c = counts.get(key);
    if (c) c.before += 1;
    else counts.set(key, { now: 0, before: 1 });
  }
  for (const c of counts.values()) if (c.now > 1 || c.before > 1) return true;
  return false;
}

const serviceKeyOf = (u: UpstreamCluster): string => keyOf(u.service.namespace, u.service.name);

function callersOf(plans: readonly ProxyPlan[]): Map<string, number[]> {
  const callers = new Map<string, number[]>();
  plans.forEach((plan, i) => {
    for (const u of plan.upstreams) {
      const key = serviceKeyOf(u);
      const list = callers.get(key);
      if (!list) callers.set(key, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    }
  });
  return callers;
}

/**
 * `state` brought up to the units `after` (which differ from those it was planned from by
 * `change`): the new planned mesh and callers index, or undefined when the change needs the passes.
 */
export function applyEndpointChange(state: PlannedState, change: EndpointChange, after: readonly UnitLists[]): PlannedState | undefined {
  const { mesh } = state;
  if (change.removed.length === 0 && change.added.length === 0) return state;
  const endpointSets = allEndpointSets(after);
  if (duplicated(change, endpointSets)) return undefined;
  const touched = new Set<string>();
  for (const s of change.removed) touched.add(s.service);
  for (const s of change.added) touched.add(s.service);
  const setsOf = new Map<string, EndpointSet[]>();
  for (const s of endpointSets) {
    if (!touched.has(s.service)) continue;
    const list = setsOf.get(s.service);
    if (list) list.push(s);
    else setsOf.set(s.service, [s]);
  }
  // Services whose ready IPs changed; a set naming no known service changes no binding.
  const rebound = new Map<ServiceBinding, ServiceBinding>();
  const reboundByKey = new Map<string, ServiceBinding>();
  for (const key of touched) {
    const binding = mesh.bindings.services.get(key);
    if (!binding) continue;
    if (binding.service.headless) return undefined; // its IPs are its callers' filter-chain matches
    const endpoints = endpointIPs(setsOf.get(key));
    if (sameData(endpoints, binding.endpoints)) continue;
    const next: ServiceBinding = { ...binding, endpoints };
    rebound.set(binding, next);
    reboundByKey.set(key, next);
  }
  if (rebound.size === 0) return { ...state, mesh: { ...mesh, endpointSets } };

  const callers = state.callers ?? callersOf(mesh.proxies);
  const upstreams = new Map<UpstreamCluster, UpstreamCluster>();
  const lists = new Map<readonly UpstreamCluster[], readonly UpstreamCluster[]>();
  const withEndpoints = (list: readonly UpstreamCluster[]): readonly UpstreamCluster[] => {
    let out = lists.get(list);
    if (!out) {
      out = list.map((u) => {
        const binding = reboundByKey.get(serviceKeyOf(u));
        if (!binding) return u;
        let next = upstreams.get(u);
        if (!next) upstreams.set(u, (next = { ...u, endpoints: binding.endpoints }));
        return next;
      });
      lists.set(list, out); // plans that shared an upstream list share the new one (emit keys on it)
    }
    return out;
  };
  const proxies = [...mesh.proxies];
  const replanned = new Set<number>();
  for (const key of reboundByKey.keys()) {
    for (const i of callers.get(key) ?? []) {
      if (replanned.has(i)) continue;
      replanned.add(i);
      proxies[i] = { ...proxies[i], upstreams: withEndpoints(proxies[i].upstreams) };
    }
  }
  const rebind = (b: ServiceBinding): ServiceBinding => rebound.get(b) ?? b;
  // A binding is in the lists of the workloads it selects and of their service accounts: only those change.
  const rebindAll = <K>(table: ReadonlyMap<K, readonly ServiceBinding[]>, keysOf: (b: ServiceBinding) => readonly K[]): Map<K, readonly ServiceBinding[]> => {
    const out = new Map(table);
    for (const b of rebound.keys()) for (const k of keysOf(b)) out.set(k, out.get(k)!.map(rebind));
    return out;
  };
  const services = new Map(mesh.bindings.services);
  for (const [key, binding] of reboundByKey) services.set(key, binding);
  const splits = new Map<string, ResolvedSplit>();
  for (const [apex, split] of mesh.splits) {
    const moved = rebound.has(split.apex) || split.backends.some((b) => rebound.has(b.binding));
    splits.set(apex, moved ? { ...split, apex: rebind(split.apex), backends: split.backends.map((b) => ({ ...b, binding: rebind(b.binding) })) } : split);
  }
  const planned: PlannedMesh = {
    ...mesh,
    endpointSets,
    bindings: {
      ...mesh.bindings,
      services,
      servicesOfWorkload: rebindAll(mesh.bindings.servicesOfWorkload, (b) => b.workloads),
      servicesOfServiceAccount: rebindAll(mesh.bindings.servicesOfServiceAccount, (b) => b.serviceAccounts),
    },
    splits,
    proxies,
  };
  return { ...state, mesh: planned, callers };
}
