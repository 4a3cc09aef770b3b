/**
 * Sharing of emitted objects between proxies.
 *
 * In a mesh of N services every proxy may call every service, so most of what a proxy
 * receives (filter chains, virtual hosts, ClusterLoadAssignments, ...) is the same for
 * many proxies. Builders that do not depend on the calling proxy go through `shared()`:
 * the same content key returns the very same (frozen) object, so N proxies hold N
 * references instead of N copies, and the proto check encodes each object once.
 *
 * Keys are content keys, so sharing is always correct, whatever the passes hand us. The
 * table is bounded: when it grows past `MAX_ENTRIES` it starts afresh (objects already
 * handed out stay valid; only the sharing of future ones restarts).
 */

const MAX_ENTRIES = 500_000;

let table = new Map<string, object>();
const ids = new WeakMap<object, number>();
let nextId = 1;

/** The object built for `key` in `family`, built on first use. */
export function shared<T extends object>(family: string, key: string, build: () => T): T {
  const fullKey = `${family}\u0000${key}`;
  const hit = table.get(fullKey);
  if (hit) return hit as T;
  if (table.size >= MAX_ENTRIES) table = new Map();
  const made = deepFreeze(build());
  table.set(fullKey, made);
  return made;
}

/**
 * A short, stable-per-process id for an object: lets a parent's content key name its
 * (shared) children by identity instead of by their whole content.
 */
export function idOf(obj: object): number {
  let id = ids.get(obj);
  if (id === undefined) {
    id = nextId++;
    ids.set(obj, id);
  }
  return id;
}

/** Forget every shared object (tests, or a long-running server between unrelated compiles). */
export function clearShared(): void {
  table = new Map();
}

/** Shared objects are handed to many proxies: freeze them so no caller can edit one for all. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
