/**
 * The kinds smi-compile reads, at every version it accepts. This table is the single list
 * both the schema generator (which writes one JSON Schema per entry) and the parser (which
 * picks the schema for a document) work from.
 */

export interface KnownKind {
  /** API group; `''` for the core group (`apiVersion: v1`). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Cluster-scoped kinds have no namespace (only Namespace here). */
  readonly clusterScoped?: boolean;
}

const SMI_ACCESS = 'access.smi-spec.io';
const SMI_SPECS = 'specs.smi-spec.io';
const SMI_SPLIT = 'split.smi-spec.io';
const OSM_CONFIG = 'config.openservicemesh.io';

function versions(group: string, kind: string, vs: readonly string[]): KnownKind[] {
  return vs.map((version) => ({ group, version, kind }));
}

export const KNOWN_KINDS: readonly KnownKind[] = [
  { group: '', version: 'v1', kind: 'Namespace', clusterScoped: true },
  { group: '', version: 'v1', kind: 'ServiceAccount' },
  { group: '', version: 'v1', kind: 'Service' },
  { group: '', version: 'v1', kind: 'Pod' },
  { group: '', version: 'v1', kind: 'Endpoints' },
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: 'apps', version: 'v1', kind: 'StatefulSet' },
  { group: 'apps', version: 'v1', kind: 'DaemonSet' },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet' },
  { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' },
  ...versions(SMI_ACCESS, 'TrafficTarget', ['v1alpha1', 'v1alpha2', 'v1alpha3']),
  ...versions(SMI_SPECS, 'HTTPRouteGroup', ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4']),
  ...versions(SMI_SPECS, 'TCPRoute', ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4']),
  ...versions(SMI_SPECS, 'UDPRoute', ['v1alpha4']),
  ...versions(SMI_SPLIT, 'TrafficSplit', ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4']),
  ...versions(OSM_CONFIG, 'MeshConfig', ['v1alpha1', 'v1alpha2']),
];

/**
 * Groups in which a kind name means *our* kind, including retired groups
 * (`extensions/v1beta1` Deployments). A known kind name in one of these groups at a version
 * we do not accept is an error (SMI1007); the same name in an unrelated group (a Knative
 * `serving.knative.dev` Service) is just a kind we do not read (SMI1006).
 */
const RELATED_GROUPS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['apps', 'extensions'],
  StatefulSet: ['apps'],
  DaemonSet: ['apps', 'extensions'],
  ReplicaSet: ['apps', 'extensions'],
  EndpointSlice: ['discovery.k8s.io'],
};

export function apiVersionOf(k: KnownKind): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Where the JSON Schema of a kind lives, relative to `schemas/`. */
export function schemaFileOf(k: KnownKind): string {
  return `${k.group || 'core'}/${k.version}/${k.kind.toLowerCase()}.json`;
}

const BY_TYPE = new Map<string, KnownKind>(KNOWN_KINDS.map((k) => [`${apiVersionOf(k)}\0${k.kind}`, k]));

export type KindLookup =
  | { readonly status: 'known'; readonly known: KnownKind }
  /** Our kind, at a version we do not accept; `supported` lists the ones we do. */
  | { readonly status: 'unsupported-version'; readonly supported: readonly string[] }
  | { readonly status: 'unknown' };

export function lookupKind(apiVersion: string, kind: string): KindLookup {
  const known = BY_TYPE.get(`${apiVersion}\0${kind}`);
  if (known) return { status: 'known', known };
  const candidates = KNOWN_KINDS.filter((k) => k.kind === kind);
  if (candidates.length === 0) return { status: 'unknown' };
  const { group } = splitApiVersion(apiVersion);
  const related = new Set([...candidates.map((k) => k.group), ...(RELATED_GROUPS[kind] ?? [])]);
  if (!related.has(group)) return { status: 'unknown' };
  return { status: 'unsupported-version', supported: candidates.map(apiVersionOf) };
}
