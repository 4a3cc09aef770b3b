/**
 * Which kinds the Kubernetes source watches, and at which version: the kinds the compiler reads
 * (src/parser/kinds.ts, the same table the parser and the schemas use), each at one version the
 * cluster serves and the compiler accepts. A CRD that serves several versions returns the same
 * objects at each, so watching more than one would read every object twice.
 */
import { apiVersionOf, KNOWN_KINDS, type KnownKind } from '../../parser/kinds.ts';
import { compareStrings } from '../../shared/compare.ts';

/** `Endpoints` are left to EndpointSlices, which the cluster mirrors them into (and which scale). */
const NOT_WATCHED = new Set(['Endpoints']);

/** The kinds read from the cluster, each with the versions the compiler accepts. */
export function watchedKinds(): { group: string; kind: string; versions: string[] }[] {
  const out = new Map<string, { group: string; kind: string; versions: string[] }>();
  for (const k of KNOWN_KINDS) {
    if (NOT_WATCHED.has(k.kind)) continue;
    const key = `${k.group}\0${k.kind}`;
    const entry = out.get(key) ?? { group: k.group, kind: k.kind, versions: [] };
    entry.versions.push(k.version);
    out.set(key, entry);
  }
  return [...out.values()];
}

/** What discovery says about one group: its preferred version, and the kinds each version serves. */
export interface GroupDiscovery {
  readonly preferred?: string;
  /** version → kind → { plural, namespaced } */
  readonly versions: ReadonlyMap<string, ReadonlyMap<string, { readonly plural: string; readonly namespaced: boolean }>>;
}

/** One kind as it will be watched. */
export interface WatchedKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** The other versions the cluster serves this kind at and the compiler accepts (not watched). */
  readonly alsoServed: readonly string[];
}

/** Kubernetes' version priority (`v1` > `v1beta2` > `v1alpha4` > `v1alpha1`), newest first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [-1, 0, 0];
    return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [pa, pb] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pb[i] - pa[i];
  return compareStrings(a, b);
}

/**
 * The version to watch each kind at: the group's preferred version when it serves the kind and
 * we accept it (what `kubectl get` reads), else the newest accepted version that serves it. A
 * kind the cluster does not serve at any version we accept is listed in `missing`.
 */
export function chooseVersions(discovered: ReadonlyMap<string, GroupDiscovery>): { kinds: WatchedKind[]; missing: { group: string; kind: string; served: string[]; accepted: string[] }[] } {
  const kinds: WatchedKind[] = [];
  const missing: { group: string; kind: string; served: string[]; accepted: string[] }[] = [];
  for (const want of watchedKinds()) {
    const group = discovered.get(want.group);
    const served = group ? [...group.versions].filter(([, ks]) => ks.has(want.kind)).map(([v]) => v) : [];
    const usable = served.filter((v) => want.versions.includes(v)).sort(compareVersions);
    if (usable.length === 0) {
      missing.push({ group: want.group, kind: want.kind, served: served.sort(compareVersions), accepted: want.versions });
      continue;
    }
    const version = group!.preferred && usable.includes(group!.preferred) ? group!.preferred : usable[0];
    const found = group!.versions.get(version)!.get(want.kind)!;
    kinds.push({ group: want.group, version, kind: want.kind, plural: found.plural, namespaced: found.namespaced, alsoServed: usable.filter((v) => v !== version) });
  }
  return { kinds, missing };
}

/** The REST path of a kind's collection across all namespaces. */
export function collectionPath(k: Pick<WatchedKind, 'group' | 'version' | 'plural'>): string {
  return k.group === '' ? `/api/${k.version}/${k.plural}` : `/apis/${k.group}/${k.version}/${k.plural}`;
}

export function apiVersionOfWatched(k: WatchedKind): string {
  return apiVersionOf(k as KnownKind);
}
