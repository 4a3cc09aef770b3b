/**
 * Everything emit keeps between proxies, in one object: an EmitSession. A compile without a
 * memo makes one for itself; a CompileMemo owns one for the compiles it serves (serve --watch,
 * the compile worker) and sweeps it after each, so it holds what the last two compiles used.
 * Nothing in emit keeps state of its own: every builder is handed the session.
 *
 * Sharing. In a mesh of N services every proxy may call every service, so most of what a
 * proxy receives (filter chains, virtual hosts, ClusterLoadAssignments, ...) is the same for
 * many proxies. Builders that do not depend on the calling proxy go through `shared()`: the
 * same content key returns the very same (frozen) object, so N proxies hold N references
 * instead of N copies, and the proto check encodes each object once. Keys are content keys, so
 * sharing is always correct, whatever the passes hand us. Each family has its own bounded
 * table: when one grows past `MAX_ENTRIES_PER_FAMILY` it starts afresh (objects already handed
 * out stay valid; only the sharing of future ones restarts), so families whose objects are
 * rarely reused (a cluster is per upstream *and* per caller identity) cannot push out the ones
 * every proxy reuses (filter chains, virtual hosts).
 */
import { createHash } from 'node:crypto';
import type { InboundPort, OutboundPort, UpstreamCluster } from '../ir/proxy-plan.ts';
import { ProtoCheckCache } from './proto-check.ts';
import type { EnvoyResource } from './types.ts';

const MAX_ENTRIES_PER_FAMILY = 250_000;

/**
 * Per-caller clusters kept, counted in clusters, for whole callers (see `callerClusters`).
 * 32,768 holds every caller of a 1,000-service restrictive mesh (22,780 clusters in all), so
 * `serve` recompiles of it keep their objects.
 */
export const MAX_CACHED_CALLER_CLUSTERS = 32_768;

/**
 * A family's objects in two generations: `current` holds what was handed out since the last
 * sweep, `previous` what was handed out before it. A compile that asks for an object of the
 * previous compile gets the very same one (and moves it to `current`); a sweep forgets what
 * was not asked for since the sweep before. Without sweeps (one compile, the CLI) everything
 * stays in `current`.
 */
interface Family {
  current: Map<string, object>;
  previous: Map<string, object>;
}

/** An inbound listener and its route configurations, made together (index.ts). */
export interface InboundResources {
  readonly listener: EnvoyResource | undefined;
  readonly routes: readonly EnvoyResource[];
}

export class EmitSession {
  private readonly families = new Map<string, Family>();
  /**
   * Every object `shared()` has handed out, with what the proto check has proven of it: ''
   * nothing yet, else the message type it is valid as (a set in the rare case of several).
   */
  private readonly handedOut = new WeakMap<object, string | Set<string>>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly callers = new Map<string, Map<string, EnvoyResource>>();
  private cachedCallerClusters = 0;

  /** What the proto check keeps between resources (proto-check.ts). */
  readonly protoCheck = new ProtoCheckCache(this);

  /**
   * Content keys of immutable input objects (the planner's UpstreamClusters, OutboundPorts),
   * made once per object: the planner hands the same objects to many proxies, and a key string
   * used again also keeps the hash the family table computed for it.
   */
  readonly keys = {
    clusterParts: new WeakMap<UpstreamCluster, string>(),
    cla: new WeakMap<UpstreamCluster, string>(),
    vhostSameNamespace: new WeakMap<OutboundPort, string>(),
    vhostOtherNamespace: new WeakMap<OutboundPort, string>(),
  };

  /**
   * Results of the families that read one or two fields of a plan, by those fields' identity
   * (index.ts): the planner hands every proxy of a source service account the same lists.
   */
  readonly byList = {
    outboundListener: new WeakMap<readonly OutboundPort[], { readonly listener: EnvoyResource | undefined }>(),
    outboundRoutes: new WeakMap<readonly OutboundPort[], Map<string, readonly EnvoyResource[]>>(),
    endpoints: new WeakMap<readonly UpstreamCluster[], readonly EnvoyResource[]>(),
    inbound: new WeakMap<readonly InboundPort[], Map<string, InboundResources>>(),
  };

  /** The object built for `key` in `family`, built (and deep-frozen) on first use. */
  shared<T extends object>(family: string, key: string, build: () => T): T {
    let table = this.families.get(family);
    if (!table) this.families.set(family, (table = { current: new Map(), previous: new Map() }));
    let hit = table.current.get(key);
    if (hit) return hit as T;
    if (table.current.size >= MAX_ENTRIES_PER_FAMILY) table.current.clear();
    hit = table.previous.get(key);
    if (hit) {
      table.current.set(key, hit);
      return hit as T;
    }
    const made = deepFreeze(build());
    table.current.set(key, made);
    // A module constant handed out again after a sweep keeps what the check proved of it.
    if (!this.handedOut.has(made)) this.handedOut.set(made, '');
    return made;
  }

  /**
   * What is known of an object from `shared()`: '' nothing yet, else the message type (or
   * types) the proto check proved it valid as; undefined when `shared()` did not make it.
   * Caches keyed by object identity (the proto check's) are worth their entries only for
   * shared objects: an object only one resource reaches is never met again.
   */
  sharedProof(obj: object): string | ReadonlySet<string> | undefined {
    return this.handedOut.get(obj);
  }

  /** Records that the proto check proved a shared object valid as `typeName` (see sharedProof). */
  recordProof(obj: object, typeName: string): void {
    const known = this.handedOut.get(obj);
    if (known === undefined || known === typeName) return; // not shared: nothing to remember it by
    if (known === '') this.handedOut.set(obj, typeName);
    else if (typeof known === 'string') this.handedOut.set(obj, new Set([known, typeName]));
    else known.add(typeName);
  }

  /** A short id for an object, stable for the session: lets a parent's content key name its (shared) children by identity. */
  idOf(obj: object): number {
    let id = this.ids.get(obj);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(obj, id);
    }
    return id;
  }

  /** The content key of an input object, made by `make` the first time it is asked for in `keys`. */
  keyOf<T extends object>(keys: WeakMap<T, string>, input: T, make: (input: T) => string): string {
    let key = keys.get(input);
    if (key === undefined) keys.set(input, (key = make(input)));
    return key;
  }

  /**
   * A caller's clusters, by upstream, for the callers seen last. A cluster names the caller's
   * certificate, so it is one object per (caller identity, upstream): workloads with one service
   * account share it, and a recompile gets the same objects back (the xDS server matches
   * unchanged resources by identity). Bounded by whole callers, least recently used first: in
   * permissive mode every proxy calls every service, and a table of every caller's would hold
   * the square of the mesh alive after the proxies that used it are written and gone.
   */
  callerClusters(callerCert: string): Map<string, EnvoyResource> {
    let table = this.callers.get(callerCert);
    if (table) {
      this.callers.delete(callerCert); // most recently used last
    } else {
      table = new Map();
      for (const [caller, oldest] of this.callers) {
        if (this.cachedCallerClusters <= MAX_CACHED_CALLER_CLUSTERS) break;
        this.callers.delete(caller);
        this.cachedCallerClusters -= oldest.size;
      }
    }
    this.callers.set(callerCert, table);
    return table;
  }

  /** Counts a cluster added to a table `callerClusters` handed out. */
  addedCallerCluster(): void {
    this.cachedCallerClusters++;
  }

  /** Forgets the shared objects not handed out since the previous sweep: the memo calls it after each compile. */
  sweep(): void {
    for (const table of this.families.values()) {
      table.previous = table.current;
      table.current = new Map();
    }
  }
}

/**
 * A content key for text that may run to kilobytes (a plan's whole inbound side as JSON): its
 * SHA-256, so the table keeps 43 characters a key instead of the text. Sharing stays exact in
 * practice (no SHA-256 collision is known); keys of a few dozen characters need no digest.
 */
export function digestKey(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Shared objects are handed to many proxies: frozen, so no caller can edit one for all. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    // Not Object.values: no array made per object.
    if (Array.isArray(value)) for (const child of value) deepFreeze(child);
    else for (const key in value) if (Object.hasOwn(value, key)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
