/**
 * What the stream core needs of a flavour (the sidecar's view of a snapshot, the proxyless
 * client's): the server hands the core an implementation (views.ts), and the core depends on
 * this interface only.
 */
import type { NodeMessage } from './ads-service.ts';
import type { ResourceSet } from '../snapshot/resource-set.ts';
import type { EncodedResource, ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';

export type Flavour = 'sidecar' | 'proxyless';

/** What one stream sees of the snapshot. */
export interface View {
  /** The named resource, or undefined when it does not exist for this proxy. */
  get(typeUrl: string, name: string): EncodedResource | undefined;
  /** Every resource of the type: what a wildcard subscription gets. */
  all(typeUrl: string): Iterable<EncodedResource>;
  /**
   * The same as `all`, as a set shared by every stream of the proxy (resource-set.ts), where the
   * view can share it: undefined otherwise.
   */
  set?(typeUrl: string): ResourceSet | undefined;
}

export interface Flavours {
  /** The flavour a stream's node declares (its user agent), when it declares one. */
  ofNode(node: NodeMessage | null | undefined): Flavour | undefined;
  /** A stream of no declared flavour that asks for these names is proxyless. */
  looksProxyless(typeUrl: string, names: Iterable<string>): boolean;
  /** The view of `snapshot` for a stream of `flavour` and `proxy` (the core memoises it per snapshot). */
  view(flavour: Flavour, snapshot: Snapshot, proxy: ProxySnapshot): View;
}
