/**
 * Resources encoded once: each to a `google.protobuf.Any` exactly once and interned by content
 * hash, so the 10,000 proxies of a mesh that all carry the same `ClusterLoadAssignment` share one
 * buffer, and a recompile that leaves a resource unchanged reuses the buffer of the previous
 * snapshot instead of encoding it again. The content hash is also the resource's version (delta
 * xDS) and, combined per set, the version of a state-of-the-world response.
 */
import { encodeProtoJsonAny, SharedMessages } from '../../envoy/protos.ts';
import { resourceName, type EnvoyResource } from '../../emit/types.ts';
import { JsonTexts, resourceVersion } from '../../emit/versions.ts';
import { encodeDeltaResource } from '../xds/ads-service.ts';
import type { EncodedResource, Snapshot } from './snapshot-types.ts';

/**
 * A copy in an ArrayBuffer of its own. protobufjs returns small Buffers sliced from Node's 8 KB
 * allocation pool; kept for the life of a snapshot, each would pin a whole 8 KB slab, many times
 * its own size.
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
  /** The messages converted for the snapshot being built (and resources derived from the served one): a new one per build. */
  private messages = new SharedMessages();
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
      r = { name: resourceName(json), typeUrl, version: key, any: encodeProtoJsonAny(typeUrl, json, this.messages), json };
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
    this.messages = new SharedMessages();
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
    this.messages = new SharedMessages();
  }

  /** Distinct resources the served snapshot uses, and their encoded bytes. */
  get liveStats(): { readonly resources: number; readonly bytes: number } {
    return { resources: this.live.size, bytes: this.liveBytes };
  }

  get size(): number {
    return this.live.size + this.derived.size;
  }
}
