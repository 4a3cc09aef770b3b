/**
 * What a proxy should hold for a type: the view's resources for its subscription, plus the
 * "break" of make-before-break held back. A cluster (and its endpoints) that left the snapshot
 * stays in the proxy's state until the proxy has accepted listeners and routes that no longer
 * point at it (wildcard), or for as long as the proxy still asks for it by name. Pure functions
 * of the stream's type states and its view: the stream core (stream-core.ts) calls them on every
 * evaluation, and caches them for one.
 */
import type { View } from './flavour.ts';
import { isSharedSetMap, retainedSet, type ResourceSet } from '../snapshot/resource-set.ts';
import type { EncodedResource } from '../snapshot/snapshot-types.ts';
import { sentResource, type TypeState } from './type-state.ts';
import { CDS, EDS, ROUTING_TYPES } from './type-urls.ts';

export interface Desired {
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** Subscribed names that exist neither in the snapshot nor in what the client holds. */
  readonly missing: string[];
  /** When `resources` is exactly the proxy's shared set of the type (see `View.set`). */
  readonly set?: ResourceSet;
  /** SotW: the content hash of `resources`, computed once per evaluation. */
  version?: string;
  /**
   * Make-before-break kept, or weighed keeping, resources the proxy's set no longer has: ACKs
   * of listeners and routes may change it.
   */
  readonly retaining?: boolean;
}

/** Only clusters and their endpoints are held back; listeners, routes and secrets are replaced as they are. */
const retains = (typeUrl: string): boolean => typeUrl === CDS || typeUrl === EDS;

/**
 * What the client should hold for `state`'s type. `routingSynced` (see `routingSynced` below) is
 * asked only when the answer depends on it: a wildcard stream holding a resource its set no
 * longer has.
 */
export function desiredState(state: TypeState, view: View, routingSynced: () => boolean): Desired {
  // A subscription to the proxy's whole set (Envoy's wildcard CDS and LDS, and its EDS, RDS and
  // SDS names, which are all of the proxy's) gets that set, shared by every stream of the proxy:
  // no per-stream copy or hash, unless make-before-break still holds a removed cluster in it
  // (the general path below).
  const set = view.set?.(state.typeUrl);
  if (set && coversExactly(state, set)) {
    if (!holdsOutside(state, set)) return { resources: set.resources, missing: [], set };
    if (state.wildcard && state.names.size === 0 && isSharedSetMap(state.sent)) {
      // What the general path below makes of a wildcard stream that holds a shared set: the
      // set itself once routing is synced, else the set and everything held outside it.
      if (routingSynced()) return { resources: set.resources, missing: [], set };
      const union = retainedSet(set, state.sent as ReadonlyMap<string, EncodedResource>);
      return { resources: union.resources, missing: [], set: union, retaining: true };
    }
  }
  const resources = new Map<string, EncodedResource>();
  const missing: string[] = [];
  if (state.wildcard) for (const r of view.all(state.typeUrl)) resources.set(r.name, r);
  for (const name of state.names) {
    if (resources.has(name)) continue;
    const r = view.get(state.typeUrl, name);
    if (r) resources.set(name, r);
    else missing.push(name);
  }
  let synced: boolean | undefined;
  if (retains(state.typeUrl)) {
    for (const [name, entry] of state.sent) {
      const sent = sentResource(entry);
      if (resources.has(name) || !sent) continue;
      const stillNamed = state.names.has(name);
      if (!stillNamed) {
        if (!state.wildcard) continue;
        synced ??= routingSynced();
        if (synced) continue;
      }
      resources.set(name, sent);
      const i = stillNamed ? missing.indexOf(name) : -1;
      if (i >= 0) missing.splice(i, 1);
    }
  }
  // Whether routes are synced changes with their ACKs: a desired state that asked depends on them.
  return synced === undefined ? { resources, missing } : { resources, missing, retaining: true };
}

/**
 * The proxy has accepted the current listeners and routes, or does not ask for them: none of
 * those types is in flight, NACKed, or has a change still to send (`changed`).
 */
export function routingSynced(stateOf: (typeUrl: string) => TypeState | undefined, changed: (state: TypeState) => boolean): boolean {
  for (const t of ROUTING_TYPES) {
    const s = stateOf(t);
    if (!s?.subscribed) continue;
    if (s.inFlight || s.nacked) return false;
    if (changed(s)) return false;
  }
  return true;
}

/** The state asks for exactly the set: a wildcard naming nothing outside it, or every one of its names. */
export function coversExactly(state: TypeState, set: ResourceSet): boolean {
  if (!state.wildcard && state.names.size !== set.resources.size) return false;
  for (const name of state.names) if (!set.resources.has(name)) return false;
  return true;
}

/** A CDS or EDS state holding a sent resource that `set` no longer has (retention may apply). */
export function holdsOutside(state: TypeState, set: ResourceSet): boolean {
  if (!retains(state.typeUrl) || state.sent === set.resources) return false;
  for (const [name, entry] of state.sent) if (sentResource(entry) && !set.resources.has(name)) return true;
  return false;
}
