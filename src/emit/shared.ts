/**
 * Sharing of emitted objects between proxies.
 *
 * In a mesh of N services every proxy may call every service, so most of what a proxy
 * receives (filter chains, virtual hosts, ClusterLoadAssignments, ...) is the same for
 * many proxies. Builders that do not depend on the calling proxy go through `shared()`:
 * the same content key returns the very same (frozen) object, so N proxies hold N
 * references instead of N copies, and the proto check encodes each object once.
 *
 * Keys are content keys, so sharing is always correct, whatever the passes hand us. Each
 * family has its own bounded table: when one grows past `MAX_ENTRIES_PER_FAMILY` it starts
 * afresh (objects already handed out stay valid; only the sharing of future ones restarts).
 * Families whose objects are rarely reused (a cluster is per upstream *and* per caller
 * identity) thus cannot push out the ones every proxy reuses (filter chains, virtual hosts).
 */

import { createHash } from 'node:crypto';

const MAX_ENTRIES_PER_FAMILY = 250_000;

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

const families = new Map<string, Family>();
/**
 * Every object `shared()` has handed out (the ones many resources reach), with what the proto
 * check has proven of it: '' nothing yet, else the message type it is valid as (a set in the
 * rare case of several). One weak table answers both questions the check asks of each object
 * it meets, and holds one entry per shared object, not two.
 */
const handedOut = new WeakMap<object, string | Set<string>>();
const ids = new WeakMap<object, number>();
let nextId = 1;

/** The object built for `key` in `family`, built (and deep-frozen) on first use. */
export function shared<T extends object>(family: string, key: string, build: () => T): T {
  let table = families.get(family);
  if (!table) families.set(family, (table = { current: new Map(), previous: new Map() }));
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
  handedOut.set(made, '');
  return made;
}

/**
 * A content key for text that may run to kilobytes (a plan's whole inbound side as JSON): its
 * SHA-256, so the table keeps 43 characters a key instead of the text. Sharing stays exact in
 * practice (no SHA-256 collision is known); keys of a few dozen characters need no digest.
 */
export function digestKey(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * The content key of an immutable input object (a planner's UpstreamCluster, OutboundPort),
 * made once per object: the planner hands the same objects to many proxies, and a key string
 * used again also keeps the hash the table computed for it, so the lookup in `shared()` is
 * cheap. Only the key is remembered; the lookup, and so the sharing, is `shared()`'s as ever.
 */
export function inputKey<T extends object>(keys: WeakMap<T, string>, input: T, make: (input: T) => string): string {
  let key = keys.get(input);
  if (key === undefined) keys.set(input, (key = make(input)));
  return key;
}

/**
 * What is known of an object from `shared()`: '' nothing yet, else the message type (or types)
 * the proto check proved it valid as; undefined when `shared()` did not make it. Caches keyed by
 * object identity (the proto check's) are worth their entries only for shared objects: an
 * object only one resource reaches is never met again.
 */
export function sharedProof(obj: object): string | ReadonlySet<string> | undefined {
  return handedOut.get(obj);
}

/** Records that the proto check proved a shared object valid as `typeName` (see sharedProof). */
export function recordProof(obj: object, typeName: string): void {
  const known = handedOut.get(obj);
  if (known === undefined || known === typeName) return; // not shared: nothing to remember it by
  if (known === '') handedOut.set(obj, typeName);
  else if (typeof known === 'string') handedOut.set(obj, new Set([known, typeName]));
  else known.add(typeName);
}

/**
 * Forgets the objects not handed out since the previous sweep. A long-running server calls
 * it after each compile, so the tables hold what the last two compiles used, not everything
 * any compile ever made.
 */
export function sweepShared(): void {
  for (const table of families.values()) {
    table.previous = table.current;
    table.current = new Map();
  }
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
  families.clear();
}

/** Shared objects are handed to many proxies: freeze them so no caller can edit one for all. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    // Not Object.values: no array made per object (≈ 20,000 objects a 1,000-service compile).
    if (Array.isArray(value)) for (const child of value) deepFreeze(child);
    else for (const key in value) if (Object.hasOwn(value, key)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
