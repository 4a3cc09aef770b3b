/**
 * What a policy change means: access edges added and removed, split weights moved, and per proxy
 * how many Envoy resources change. Each change carries the position, in the new manifests, of the
 * policy line that caused it (for `--output github`), when the new side still has that object.
 */
import type { SourcePosition } from '../diagnostics/diagnostic.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { keyOf, resourceKey, type Resource } from '../ir/types.ts';
import type { PlannedMesh } from '../passes/plan.ts';
import { accessEdges, edgeKey, edgeText, proxyResourceHashes, splitViews, type AccessEdge } from './edges.ts';
import { keyPositionOf, positionOf } from '../parser/origin.ts';

export interface MeshSide {
  readonly mesh: PlannedMesh;
  readonly proxies: readonly ProxyConfig[];
}

export interface AccessChange {
  readonly change: 'added' | 'removed';
  readonly from: string;
  readonly service: string;
  readonly port: number;
  readonly route: string;
  readonly text: string;
  readonly source?: SourcePosition;
}

export interface SplitChange {
  readonly change: 'added' | 'removed' | 'changed';
  readonly apex: string;
  readonly backends: readonly { readonly service: string; readonly before?: number; readonly after?: number }[];
  readonly text: string;
  readonly source?: SourcePosition;
}

export interface ProxyChange {
  readonly change: 'added' | 'removed' | 'changed';
  readonly proxy: string;
  /** `<kind>/<name>` of the resources added, removed and changed. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly text: string;
}

export interface MeshDiff {
  readonly access: readonly AccessChange[];
  readonly splits: readonly SplitChange[];
  readonly proxies: readonly ProxyChange[];
}

function find<R extends Resource>(list: readonly R[], key: string): R | undefined {
  return list.find((r) => resourceKey(r) === key);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Where in the new manifests an added edge comes from: the new source entry, else the new match, else its TrafficTarget. */
function addedAt(edge: AccessEdge, before: PlannedMesh): SourcePosition | undefined {
  const by = edge.admittedBy;
  if (!by) return undefined;
  const oldTarget = find(before.trafficTargets, resourceKey(by.target));
  const named = by.target.sources.find((s) => s.path === by.sourcePath);
  const sourceNamed = named !== undefined && oldTarget?.sources.some((s) => s.namespace === named.namespace && s.name === named.name);
  if (!oldTarget || !sourceNamed) return positionOf(by.target.origin, by.sourcePath);
  if (by.group && by.match) {
    const oldGroup = find(before.httpRouteGroups, resourceKey(by.group));
    if (!oldGroup?.matches.some((m) => m.name === by.match!.name)) return positionOf(by.group.origin, by.match.path);
  }
  return positionOf(by.target.origin, ['metadata', 'name']);
}

/** Where in the new manifests a removed edge went: the target's sources, the group's matches, or nothing when both are gone. */
function removedAt(edge: AccessEdge, after: PlannedMesh): SourcePosition | undefined {
  const by = edge.admittedBy;
  if (!by) return undefined;
  const target = find(after.trafficTargets, resourceKey(by.target));
  if (!target) return undefined;
  const named = by.target.sources.find((s) => s.path === by.sourcePath);
  if (named && !target.sources.some((s) => s.namespace === named.namespace && s.name === named.name)) return keyPositionOf(target.origin, ['spec', 'sources']);
  if (by.group && by.match) {
    const group = find(after.httpRouteGroups, resourceKey(by.group));
    if (group && !group.matches.some((m) => m.name === by.match!.name)) return keyPositionOf(group.origin, ['spec', 'matches']);
  }
  return positionOf(target.origin, ['metadata', 'name']);
}

function accessChanges(before: PlannedMesh, after: PlannedMesh): AccessChange[] {
  const old = new Map(accessEdges(before).map((e) => [edgeKey(e), e]));
  const now = new Map(accessEdges(after).map((e) => [edgeKey(e), e]));
  const changes: AccessChange[] = [];
  const view = (e: AccessEdge) => ({ from: e.from, service: e.service, port: e.port, route: e.route });
  for (const [key, e] of now) {
    if (old.has(key)) continue;
    const at = addedAt(e, before);
    changes.push({ change: 'added', ...view(e), text: `${e.from} may now call ${edgeText(e)}`, ...(at ? { source: at } : {}) });
  }
  for (const [key, e] of old) {
    if (now.has(key)) continue;
    const at = removedAt(e, after);
    changes.push({ change: 'removed', ...view(e), text: `${e.from} can no longer call ${edgeText(e)}`, ...(at ? { source: at } : {}) });
  }
  return changes;
}

/** `bookstore-v1` for a backend in the apex's namespace, `ns/name` otherwise. */
function backendName(apex: string, service: string): string {
  const [ns] = apex.split('/');
  return service.startsWith(`${ns}/`) ? service.slice(ns.length + 1) : service;
}

function splitChanges(before: PlannedMesh, after: PlannedMesh): SplitChange[] {
  const old = splitViews(before);
  const now = splitViews(after);
  const apexes = [...new Set([...old.keys(), ...now.keys()])].sort();
  const changes: SplitChange[] = [];
  for (const apex of apexes) {
    const o = old.get(apex);
    const n = now.get(apex);
    const services = [...new Set([...(o?.backends ?? []), ...(n?.backends ?? [])].map((b) => b.service))];
    const backends = services.map((service) => ({
      service,
      before: o?.backends.find((b) => b.service === service)?.weight,
      after: n?.backends.find((b) => b.service === service)?.weight,
    }));
    const moved = backends.filter((b) => b.before !== b.after);
    if (moved.length === 0) continue;
    const weight = (w: number | undefined) => (w === undefined ? '(none)' : String(w));
    const change = !o ? 'added' : !n ? 'removed' : 'changed';
    const list = (change === 'changed' ? moved : backends).map((b) =>
      change === 'added' ? `${backendName(apex, b.service)} ${b.after}` : change === 'removed' ? `${backendName(apex, b.service)} ${b.before}` : `${backendName(apex, b.service)} ${weight(b.before)} → ${weight(b.after)}`,
    );
    const text = change === 'changed' ? `split ${apex}: ${list.join(', ')}` : `split ${apex} ${change}: ${list.join(', ')}`;
    const first = n?.backends.find((b) => b.service === moved[0].service);
    const source = n ? (first ? positionOf(n.split.origin, [...first.path, 'weight']) : positionOf(n.split.origin, ['spec', 'backends'])) : undefined;
    changes.push({ change, apex, backends: change === 'changed' ? moved : backends, text, ...(source ? { source } : {}) });
  }
  return changes;
}

function proxyChanges(before: readonly ProxyConfig[], after: readonly ProxyConfig[]): ProxyChange[] {
  const old = proxyResourceHashes(before);
  const now = proxyResourceHashes(after);
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  const changes: ProxyChange[] = [];
  for (const proxy of names) {
    const o = old.get(proxy) ?? new Map<string, string>();
    const n = now.get(proxy) ?? new Map<string, string>();
    const added = [...n.keys()].filter((k) => !o.has(k)).sort();
    const removed = [...o.keys()].filter((k) => !n.has(k)).sort();
    const changed = [...n.keys()].filter((k) => o.has(k) && o.get(k) !== n.get(k)).sort();
    const total = added.length + removed.length + changed.length;
    if (total === 0) continue;
    const change = !old.has(proxy) ? 'added' : !now.has(proxy) ? 'removed' : 'changed';
    const text =
      change === 'changed'
        ? `proxy ${proxy}: ${plural(total, 'resource')} change${total === 1 ? 's' : ''}`
        : `proxy ${proxy} ${change === 'added' ? 'is new' : 'is gone'}: ${plural(total, 'resource')}`;
    changes.push({ change, proxy, added, removed, changed, text });
  }
  return changes;
}

export function diffMeshes(before: MeshSide, after: MeshSide): MeshDiff {
  return {
    access: accessChanges(before.mesh, after.mesh),
    splits: splitChanges(before.mesh, after.mesh),
    proxies: proxyChanges(before.proxies, after.proxies),
  };
}
