/**
 * What a snapshot is made of: encoded resources, per proxy and per type (snapshot.ts builds it,
 * interner.ts holds its resources).
 */
import type { EnvoyResource, ProxyConfig } from '../../emit/types.ts';
import type { LazyProxylessMesh } from '../../emit/proxyless/index.ts';

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
