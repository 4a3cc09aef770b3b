/** Small collection helpers the passes share; every ordering here is total and locale-free, for deterministic output. */
import { resourceKey, type ObjectMeta } from '../ir/types.ts';
import { compareStrings } from '../shared/compare.ts';

/** By namespace, then name. */
export function byNamespaceAndName(a: { meta: ObjectMeta }, b: { meta: ObjectMeta }): number {
  return compareStrings(a.meta.namespace, b.meta.namespace) || compareStrings(a.meta.name, b.meta.name);
}

export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The first item per key, in input order; later duplicates are dropped (the duplicates pass reports them). */
export function firstByKey<T>(items: readonly T[], keyFn: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = keyFn(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `ns/name` → the first resource with that key. */
export function indexByKey<T extends { meta: ObjectMeta }>(items: readonly T[]): Map<string, T> {
  return new Map(firstByKey(items, resourceKey).map((item) => [resourceKey(item), item]));
}

/** Structural equality of plain data (arrays, plain objects, primitives); identical objects short-cut. */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
