/**
 * Resource sets: a proxy's whole set of one type, shared by every stream that gets all of it.
 */
import { byName } from '../../shared/compare.ts';
import { setVersion } from '../../emit/versions.ts';
import type { EncodedResource } from './snapshot-types.ts';

/**
 * A proxy's whole set of one type, as every wildcard stream of that proxy gets it: built once
 * per snapshot and shared by all of them (10,000 streams of 1,100 workloads hash and encode
 * 5,500 sets, not 50,000), with its version.
 */
export interface ResourceSet {
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** The set's version: what a SotW response carrying it says in `version_info`. */
  readonly version: string;
  /** By name, the order responses list them in. */
  readonly sorted: readonly EncodedResource[];
}

class SharedSet implements ResourceSet {
  readonly sorted: readonly EncodedResource[];
  readonly version: string;
  constructor(readonly resources: ReadonlyMap<string, EncodedResource>) {
    this.sorted = [...resources.values()].sort(byName);
    this.version = setVersion(this.sorted);
  }
}

const sets = new WeakMap<ReadonlyMap<string, EncodedResource>, ResourceSet>();

/** The shared set of `resources` (a proxy's map of one type, which never changes once built). */
export function resourceSet(resources: ReadonlyMap<string, EncodedResource>): ResourceSet {
  let set = sets.get(resources);
  if (!set) sets.set(resources, (set = new SharedSet(resources)));
  return set;
}

/** The map was a shared set's (`resourceSet`, `retainedSet`): it never changes. */
export function isSharedSetMap(resources: ReadonlyMap<string, unknown>): boolean {
  return sets.has(resources as ReadonlyMap<string, EncodedResource>);
}

const retained = new WeakMap<ResourceSet, WeakMap<ReadonlyMap<string, EncodedResource>, ResourceSet>>();

/**
 * `set` plus whatever the shared map `held` has outside it: a wildcard stream's CDS or EDS while
 * make-before-break keeps a removed cluster, the same for every stream of the proxy that held
 * `held`, so built and hashed once, not once a stream.
 */
export function retainedSet(set: ResourceSet, held: ReadonlyMap<string, EncodedResource>): ResourceSet {
  let byHeld = retained.get(set);
  if (!byHeld) retained.set(set, (byHeld = new WeakMap()));
  let union = byHeld.get(held);
  if (!union) {
    const resources = new Map(set.resources);
    for (const [name, r] of held) if (!resources.has(name)) resources.set(name, r);
    union = resourceSet(resources);
    byHeld.set(held, union);
  }
  return union;
}
