/**
 * Snapshots: what every proxy should have, encoded once (interner.ts).
 *
 * A snapshot maps each node id to its resources per type. It is built in the server's thread
 * (`buildSnapshot`) or assembled from what the compile worker sent (`snapshotFromWire`); both
 * give the same versions, maps and order (encode-proxy.ts makes each proxy's for both).
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.ts';
import type { EnvoyResource, ProxyConfig } from '../../emit/types.ts';
import { encodeProxy, snapshotVersion, versionOf } from './encode-proxy.ts';
import type { ResourceInterner } from './interner.ts';
import type { EncodedResource, ProxySnapshot, Snapshot, SnapshotStats } from './snapshot-types.ts';
import type { WireSnapshot } from './worker-protocol.ts';
import { unpackProxylessMesh, type LazyProxylessMesh } from '../../emit/proxyless/index.ts';

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
  const intern = (typeUrl: string, json: EnvoyResource): EncodedResource => interner.intern(typeUrl, json);
  for (const config of configs) {
    sources.set(config.nodeId, config);
    const carried = Object.isFrozen(config) && previous?.configs?.get(config.nodeId) === config ? previous.proxies.get(config.nodeId) : undefined;
    if (carried) {
      proxies.set(config.nodeId, carried);
      refs += carried.all.length;
      continue;
    }
    const { byType, all, version } = encodeProxy(config, intern, versionOf, diagnostics);
    refs += all.length;
    added.push(all);
    proxies.set(config.nodeId, { nodeId: config.nodeId, namespace: config.namespace, workload: config.workload, identity: config.identity, resources: byType, version, all });
  }
  if (diagnostics.length > 0) {
    interner.discard();
    return { diagnostics };
  }
  interner.commit(added, replacedIn(previous, proxies));
  const version = snapshotVersion(proxies.values());
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
  const snapshot: Snapshot = {
    version: wire.version,
    proxies,
    stats: snapshotStats(proxies.size, refs, interner),
    memo: new Map(),
    proxyless: wire.proxyless && unpackProxylessMesh(wire.proxyless),
  };
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

/** `fn()` computed once per snapshot and key. */
export function memoize<T>(snapshot: Snapshot, key: string, fn: () => T): T {
  if (snapshot.memo.has(key)) return snapshot.memo.get(key) as T;
  const value = fn();
  snapshot.memo.set(key, value);
  return value;
}
