/**
 * Snapshots: what every proxy should have, encoded once.
 *
 * A snapshot maps each node id to its resources per type. Each resource is encoded to a
 * `google.protobuf.Any` exactly once and interned by content hash, so the 10,000 proxies of a
 * mesh that all carry the same `ClusterLoadAssignment` share one buffer, and a recompile that
 * leaves a resource unchanged reuses the buffer of the previous snapshot instead of encoding it
 * again. The content hash is also the resource's version (delta xDS) and, combined per set, the
 * version of a state-of-the-world response.
 */
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { encodeProtoJsonAny, forgetConverted } from '../envoy/protos.ts';
import { resourceName, TYPE_URL, XDS_KINDS, type EnvoyResource, type ProxyConfig } from '../emit/types.ts';
import { encodeDeltaResource } from './ads-service.ts';
import type { WireSnapshot } from './compile-worker.ts';
import { JsonTexts, resourceVersion, setVersion } from '../emit/versions.ts';
import { byName } from '../shared/compare.ts';
import { unpackProxylessMesh, type LazyProxylessMesh } from '../emit/proxyless/index.ts';

export interface EncodedResource {
  readonly name: string;
  readonly typeUrl: string;
  /** Content hash of the resource: its delta xDS version. */
  readonly version: string;
  /** The encoded `Any`, shared by every proxy and every response that carries this resource. */
  readonly any: Uint8Array;
  /** The resource as emitted (proto3 JSON), for derived resources and debugging. */
  readonly json: EnvoyResource;
}

/**
 * A copy in an ArrayBuffer of its own. protobufjs returns small Buffers sliced from Node's 8 KB
 * allocation pool; kept for the life of a snapshot, each would pin a whole 8 KB slab (measured:
 * 11 MB of encoded resources held 125 MB of external memory before this copy).
 */
function ownBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/**
 * Encodes resources once and hands out the same object for the same content.
 *
 * Two caches: by object identity (emit shares frozen objects between proxies and across
 * recompiles, so most lookups never even stringify) and by content hash. The live set is what
 * the served snapshot uses, counted by reference: committing a snapshot adds the references of
 * the proxies it changed, added or carried from the worker and drops those of the proxies it
 * replaced or removed, so a one-policy edit costs a few dozen count updates, not one per
 * resource of every proxy, and the cache never outgrows the live snapshot plus the one being built.
 */
export class ResourceInterner {
  private live = new Map<string, EncodedResource>();
  /** References to each live resource, summed over the served snapshot's proxies. */
  private readonly refs = new Map<EncodedResource, number>();
  private liveBytes = 0;
  /** The snapshot the live set belongs to: the next one is built against it. */
  served: Snapshot | undefined;
  /** Interned for the snapshot being built and not live yet. */
  private building = new Map<string, EncodedResource>();
  /** Derived from the served snapshot (the proxyless flavour): dropped with it. */
  private derived = new Map<string, EncodedResource>();
  private readonly byObject = new WeakMap<object, EncodedResource>();
  private readonly deltaCache = new WeakMap<EncodedResource, Uint8Array>();
  /** JSON texts of the frozen parts of fresh resources (versions.ts). */
  private readonly texts = new JsonTexts();
  /** Resources encoded (cache misses) since the server started: a test and a metric read it. */
  encodeCount = 0;

  /** Interns a resource of the snapshot being built. Throws when the JSON does not fit the proto. */
  intern(typeUrl: string, json: EnvoyResource): EncodedResource {
    const r = this.lookupOrEncode(typeUrl, json);
    if (!this.refs.has(r)) this.building.set(r.version, r);
    return r;
  }

  /**
   * Interns a resource derived from the live snapshot (the proxyless flavour): it lives as long
   * as that snapshot does.
   */
  internDerived(typeUrl: string, json: EnvoyResource): EncodedResource {
    const r = this.lookupOrEncode(typeUrl, json);
    if (!this.refs.has(r)) this.derived.set(r.version, r);
    return r;
  }

  private lookupOrEncode(typeUrl: string, json: EnvoyResource): EncodedResource {
    // Identity is only proof of equal content for objects nobody can mutate.
    const frozen = Object.isFrozen(json);
    if (frozen) {
      const hit = this.byObject.get(json);
      if (hit && hit.typeUrl === typeUrl) return hit;
    }
    const key = resourceVersion(typeUrl, json, this.texts);
    let r = this.building.get(key) ?? this.live.get(key) ?? this.derived.get(key);
    if (!r) {
      r = { name: resourceName(json), typeUrl, version: key, any: encodeProtoJsonAny(typeUrl, json), json };
      this.encodeCount += 1;
    }
    if (frozen) this.byObject.set(json, r);
    return r;
  }

  /** The encoded delta `Resource` (name, version, Any), also built once per resource. */
  deltaBytes(r: EncodedResource): Uint8Array {
    let bytes = this.deltaCache.get(r);
    if (!bytes) {
      bytes = ownBytes(encodeDeltaResource(r.name, r.version, r.any));
      this.deltaCache.set(r, bytes);
    }
    return bytes;
  }

  /**
   * Makes the snapshot just built the live one: `added` are the resource lists of the proxies it
   * brings (new or changed), `dropped` those of the served snapshot's proxies it replaces or
   * removes. Resources no proxy refers to any more leave the cache, as do the previous snapshot's
   * derived ones. The caller then sets `served`.
   */
  commit(added: Iterable<readonly EncodedResource[]>, dropped: Iterable<readonly EncodedResource[]>): void {
    for (const list of added) {
      for (const r of list) {
        const n = this.refs.get(r);
        if (n === undefined) {
          this.live.set(r.version, r);
          this.liveBytes += r.any.byteLength;
        }
        this.refs.set(r, (n ?? 0) + 1);
      }
    }
    for (const list of dropped) {
      for (const r of list) {
        const n = this.refs.get(r)! - 1;
        if (n > 0) {
          this.refs.set(r, n);
          continue;
        }
        this.refs.delete(r);
        this.live.delete(r.version);
        this.liveBytes -= r.any.byteLength;
      }
    }
    this.building = new Map();
    this.derived = new Map();
    forgetConverted();
  }

  /**
   * A resource encoded elsewhere (the compile worker) for the snapshot being built: the one
   * already held under its version if any (its bytes stay shared), else `r` itself.
   */
  adopt(version: string, r?: EncodedResource): EncodedResource | undefined {
    const out = this.building.get(version) ?? this.live.get(version) ?? this.derived.get(version) ?? r;
    if (out && !this.refs.has(out)) this.building.set(version, out);
    return out;
  }

  /** Versions of the live set (what a new compile worker is told the server holds). */
  liveVersions(): IterableIterator<string> {
    return this.live.keys();
  }

  /** Abandons what was interned for a snapshot that failed to build. */
  discard(): void {
    this.building = new Map();
    forgetConverted();
  }

  /** Distinct resources the served snapshot uses, and their encoded bytes. */
  get liveStats(): { readonly resources: number; readonly bytes: number } {
    return { resources: this.live.size, bytes: this.liveBytes };
  }

  get size(): number {
    return this.live.size + this.derived.size;
  }
}

export type ResourcesByType = ReadonlyMap<string, ReadonlyMap<string, EncodedResource>>;

export interface ProxySnapshot {
  readonly nodeId: string;
  readonly namespace: string;
  readonly workload: string;
  /** Who the workload runs as (its certificate identity); absent in hand-made test configs. */
  readonly identity?: ProxyConfig['identity'];
  /** typeUrl → name → resource. */
  readonly resources: ResourcesByType;
  /** Hash over every resource of the proxy: equal versions, nothing to push. */
  readonly version: string;
  /** Every resource of the proxy, once per reference: what it holds in the interner's live set. */
  readonly all: readonly EncodedResource[];
}

export interface SnapshotStats {
  readonly proxies: number;
  /** Resource references summed over proxies. */
  readonly resources: number;
  /** Distinct encoded resources actually held in memory. */
  readonly uniqueResources: number;
  /** Bytes of the distinct encoded resources. */
  readonly encodedBytes: number;
}

export interface Snapshot {
  /** Hash over every proxy's version: identical input, identical version on every replica. */
  readonly version: string;
  readonly proxies: ReadonlyMap<string, ProxySnapshot>;
  readonly stats: SnapshotStats;
  /**
   * Values derived from this snapshot on demand (the proxyless flavour and its indexes),
   * memoised for its lifetime: they are pure functions of the snapshot, so streams share them.
   */
  readonly memo: Map<string, unknown>;
  /**
   * The config each proxy was built from (buildSnapshot): the next snapshot carries a proxy
   * whose config is the very same frozen object over as it is, without looking at its resources. Emit under `serve` (stableObjects)
   * hands back the same frozen config for a plan that did not change, so a one-policy edit
   * re-reads only the proxies it touched. Absent for snapshots assembled from the compile worker.
   */
  readonly configs?: ReadonlyMap<string, ProxyConfig>;
  /** What the proxyless flavour is emitted from (emit/proxyless), made when a gRPC stream first asks; absent for hand-made configs. */
  readonly proxyless?: LazyProxylessMesh;
}

export interface SnapshotResult {
  readonly snapshot?: Snapshot;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Encodes every proxy's resources. Resources that do not encode make the whole snapshot fail.
 * A proxy whose config is the same frozen object the interner's served snapshot was built from
 * is carried over as it is.
 */
export function buildSnapshot(configs: readonly ProxyConfig[], interner: ResourceInterner, proxyless?: LazyProxylessMesh): SnapshotResult {
  const previous = interner.served;
  const diagnostics: Diagnostic[] = [];
  const proxies = new Map<string, ProxySnapshot>();
  const sources = new Map<string, ProxyConfig>();
  const added: (readonly EncodedResource[])[] = [];
  let refs = 0;
  for (const config of configs) {
    sources.set(config.nodeId, config);
    const carried = Object.isFrozen(config) && previous?.configs?.get(config.nodeId) === config ? previous.proxies.get(config.nodeId) : undefined;
    if (carried) {
      proxies.set(config.nodeId, carried);
      refs += carried.all.length;
      continue;
    }
    const byType = new Map<string, Map<string, EncodedResource>>();
    const all: EncodedResource[] = [];
    for (const kind of XDS_KINDS) {
      const typeUrl = TYPE_URL[kind];
      const named = new Map<string, EncodedResource>();
      for (const json of config.resources[kind] ?? []) {
        try {
          const r = interner.intern(typeUrl, json);
          named.set(r.name, r);
        } catch (err) {
          diagnostics.push(
            diagnostic('proto-encode', {
              typeName: typeUrl.replace(/^.*\//, ''),
              name: resourceName(json),
              detail: err instanceof Error ? err.message : String(err),
            }),
          );
        }
      }
      for (const r of named.values()) all.push(r);
      byType.set(typeUrl, named);
    }
    refs += all.length;
    added.push(all);
    proxies.set(config.nodeId, {
      nodeId: config.nodeId,
      namespace: config.namespace,
      workload: config.workload,
      identity: config.identity,
      resources: byType,
      version: setVersion(all.map((r) => ({ name: `${r.typeUrl}/${r.name}`, version: r.version }))),
      all,
    });
  }
  if (diagnostics.length > 0) {
    interner.discard();
    return { diagnostics };
  }
  interner.commit(added, replacedIn(previous, proxies));
  const version = setVersion([...proxies.values()].map((p) => ({ name: p.nodeId, version: p.version })));
  const snapshot: Snapshot = { version, proxies, stats: snapshotStats(proxies.size, refs, interner), memo: new Map(), configs: sources, proxyless };
  interner.served = snapshot;
  return { snapshot, diagnostics };
}

/** The resource lists of the proxies of `previous` that `proxies` does not carry over. */
function* replacedIn(previous: Snapshot | undefined, proxies: ReadonlyMap<string, ProxySnapshot>): Generator<readonly EncodedResource[]> {
  if (previous) for (const [id, p] of previous.proxies) if (proxies.get(id) !== p) yield p.all;
}

function snapshotStats(proxies: number, resources: number, interner: ResourceInterner): SnapshotStats {
  const live = interner.liveStats;
  return { proxies, resources, uniqueResources: live.resources, encodedBytes: live.bytes };
}


/**
 * The snapshot the compile worker built (compile-worker.ts), assembled from the resources this
 * server already holds and the fresh ones the worker sent. Same versions, same maps in the same
 * order as `buildSnapshot` would have made in this thread.
 */
export function snapshotFromWire(wire: WireSnapshot, interner: ResourceInterner): Snapshot {
  const fresh = new Map<string, EncodedResource>();
  for (const r of wire.fresh) fresh.set(r.version, r);
  const proxies = new Map<string, ProxySnapshot>();
  let refs = 0;
  try {
    for (const p of wire.proxies) {
      const byType = new Map<string, Map<string, EncodedResource>>();
      const all: EncodedResource[] = [];
      for (const [typeUrl, versions] of p.types) {
        const named = new Map<string, EncodedResource>();
        for (const v of versions) {
          const r = interner.adopt(v, fresh.get(v));
          if (!r) throw new Error(`compile worker referred to resource version ${v}, which it did not send and this server does not hold`);
          named.set(r.name, r);
        }
        for (const r of named.values()) all.push(r);
        refs += named.size;
        byType.set(typeUrl, named);
      }
      proxies.set(p.nodeId, { nodeId: p.nodeId, namespace: p.namespace, workload: p.workload, identity: p.identity, resources: byType, version: p.version, all });
    }
  } catch (err) {
    interner.discard();
    throw err;
  }
  interner.commit(
    [...proxies.values()].map((p) => p.all),
    replacedIn(interner.served, new Map()),
  );
  const snapshot: Snapshot = { version: wire.version, proxies, stats: snapshotStats(proxies.size, refs, interner), memo: new Map(), proxyless: wire.proxyless && unpackProxylessMesh(wire.proxyless) };
  interner.served = snapshot;
  return snapshot;
}

export interface SnapshotDiff {
  /** Node ids whose resources differ between the two snapshots. */
  readonly changed: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Which proxies a new snapshot affects; the rest are not even looked at when pushing. */
export function diffSnapshots(prev: Snapshot | undefined, next: Snapshot): SnapshotDiff {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [id, p] of next.proxies) {
    const old = prev?.proxies.get(id);
    if (!old) added.push(id);
    else if (old.version !== p.version) changed.push(id);
  }
  if (prev) for (const id of prev.proxies.keys()) if (!next.proxies.has(id)) removed.push(id);
  return { changed, added, removed };
}

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

/** `fn()` computed once per snapshot and key. */
export function memoize<T>(snapshot: Snapshot, key: string, fn: () => T): T {
  if (snapshot.memo.has(key)) return snapshot.memo.get(key) as T;
  const value = fn();
  snapshot.memo.set(key, value);
  return value;
}
