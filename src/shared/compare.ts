/**
 * Orderings for deterministic output: total, and by UTF-16 code units, never by locale
 * (`localeCompare` orders by the machine's locale, so two machines could write two orders).
 */

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A comparator by a string key of each item: `items.sort(byKey((r) => r.ref))`. */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => compareStrings(key(a), key(b));
}

/** By `name`: resources, filter chains, policies, directory entries. */
export function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return compareStrings(a.name, b.name);
}
