/**
 * The names that more than one stage spells (the passes plan with them, identity puts them in
 * certificates, emit gives them to Envoy objects, serve and the CLI look secrets up by them),
 * each made by one function here. They sit in `ir`, the lowest stage that needs them; emit's
 * own names (src/emit/names.ts) are built on these. OSM v1.2's spellings (DESIGN.md's naming
 * table), so that OSM users' dashboards and habits carry over.
 */
import type { ServiceName } from './proxy-plan.ts';
import { keyOf, type Workload } from './types.ts';

/** Who a workload is: the service account it runs as, and the mesh's trust domain. */
export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly trustDomain: string;
}

// ── Services ───────────────────────────────────────────────────────────────

/** `<ns>/<svc>`, OSM's MeshService.String(). */
export function serviceKey(svc: ServiceName): string {
  return keyOf(svc.namespace, svc.name);
}

/** `<svc>.<ns>.svc`: the Service's host name whatever the cluster domain. */
export function serviceHost(svc: ServiceName): string {
  return `${svc.name}.${svc.namespace}.svc`;
}

/** `<svc>.<ns>.svc.cluster.local`: SNI, inbound server name, and virtual host suffix (osm MeshService.FQDN). */
export function serviceFqdn(svc: ServiceName): string {
  return `${serviceHost(svc)}.cluster.local`;
}

/** `serviceHost` and `serviceFqdn`: the DNS names a serving certificate for the Service carries. */
export function serviceDnsNames(svc: ServiceName): string[] {
  return [serviceHost(svc), serviceFqdn(svc)];
}

/**
 * The service key a host name names, the inverse of the names above: `svc`, `svc.ns`,
 * `svc.ns.svc` or `svc.ns.svc.<cluster domain>` → `ns/svc`. SMI names a TrafficSplit's apex by
 * short name or FQDN; OSM's docs also write `<svc>.<ns>`.
 */
export function serviceKeyFromName(name: string, defaultNamespace: string): string {
  const parts = name.split('.');
  if (parts.length === 1) return keyOf(defaultNamespace, name);
  return keyOf(parts[1], parts[0]);
}

/** `<ns>/<svc>|<targetPort>` for the service's `serviceKey` (osm MeshService.EnvoyClusterName). */
export function upstreamClusterName(serviceKey: string, targetPort: number): string {
  return `${serviceKey}|${targetPort}`;
}

/** `<ns>/<svc>|<targetPort>|local` (osm MeshService.EnvoyLocalClusterName): the app behind the port. */
export function localClusterName(serviceKey: string, targetPort: number): string {
  return `${upstreamClusterName(serviceKey, targetPort)}|local`;
}

// ── Proxies ────────────────────────────────────────────────────────────────

/** `<ns>/<workload>`: the xDS `node.id` (and `node.cluster`) a proxy announces, which picks its configuration. */
export function nodeId(workload: { readonly namespace: string; readonly workload: string }): string {
  return keyOf(workload.namespace, workload.workload);
}

/** The node id of the proxy a workload runs (its plan's `workload` is the workload's name). */
export function workloadNodeId(w: Pick<Workload, 'meta'>): string {
  return nodeId({ namespace: w.meta.namespace, workload: w.meta.name });
}

// ── Identities ─────────────────────────────────────────────────────────────

/** `<sa>.<ns>.<trustDomain>`: the principal name RBAC names, certificates carry as CN and DNS SAN, and trust anchors pin. */
export function principalName(id: WorkloadIdentity): string {
  return `${id.serviceAccount}.${id.namespace}.${id.trustDomain}`;
}

/** `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`: the same identity as a URI SAN, for SPIFFE-aware peers. */
export function spiffeId(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The identity of a SPIFFE ID in `spiffeId`'s shape; undefined for any other URI. */
export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  return { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] };
}

// ── SDS secrets (osm pkg/envoy/secrets/secrets.go; DESIGN.md) ─────────────

type Account = Pick<WorkloadIdentity, 'namespace' | 'serviceAccount'>;

/** The three kinds of SDS secret, each name `<kind>:<ns>/<name>`. */
export type SecretKind = 'service-cert' | 'root-cert-for-mtls-inbound' | 'root-cert-for-mtls-outbound';
const SECRET_KINDS: ReadonlySet<string> = new Set<SecretKind>(['service-cert', 'root-cert-for-mtls-inbound', 'root-cert-for-mtls-outbound']);

function secretName(kind: SecretKind, namespace: string, name: string): string {
  return `${kind}:${keyOf(namespace, name)}`;
}

/** `service-cert:<ns>/<sa>`: the SDS secret holding the identity's own certificate. */
export function serviceCertName(id: Account): string {
  return secretName('service-cert', id.namespace, id.serviceAccount);
}

/** `root-cert-for-mtls-inbound:<ns>/<sa>`: the trust anchor for callers of the identity's proxies. */
export function inboundRootCertSecretName(id: Account): string {
  return secretName('root-cert-for-mtls-inbound', id.namespace, id.serviceAccount);
}

/** `root-cert-for-mtls-outbound:<ns>/<svc>`: the trust anchor (and SAN check) for calling `svc`. */
export function outboundRootCertSecretName(svc: ServiceName): string {
  return secretName('root-cert-for-mtls-outbound', svc.namespace, svc.name);
}

/** Which kind of secret the makers above named `name`; undefined for a name they do not make. */
export function secretKindOf(name: string): SecretKind | undefined {
  const colon = name.indexOf(':');
  const kind = colon < 0 ? '' : name.slice(0, colon);
  return SECRET_KINDS.has(kind) ? (kind as SecretKind) : undefined;
}

// ── Identities that read as host names ─────────────────────────────────────

/**
 * Labels that make a DNS name a Kubernetes host name: `<svc>.<ns>.svc.<zone>` is a Service
 * (and `<host>.<svc>.<ns>.svc.<zone>` a pod behind a headless one), `<ip>.<ns>.pod.<zone>` a Pod.
 */
const HOST_LABELS: Readonly<Record<string, string>> = {
  svc: 'a Service host name (such as smi-compile.smi-system.svc.cluster.local, the name proxies pin for the xDS server)',
  pod: 'a Pod host name',
};

export interface HostClash {
  readonly principal: string;
  /** The label that makes it a host name (`svc`). */
  readonly label: string;
  /** Its 1-based position among the principal's labels (3 or more). */
  readonly position: number;
  /** What a certificate for it would impersonate, in words. */
  readonly what: string;
}

/**
 * Whether the identity's principal name reads as a Kubernetes host name. Workload certificates
 * carry the principal as their CN and a DNS SAN (OSM's layout, which the outbound SAN pinning
 * and RBAC of every golden rely on), so an identity that is also a host name would let a
 * workload present a certificate valid for that host: ServiceAccount `smi-compile.smi-system`
 * in namespace `svc` becomes `smi-compile.smi-system.svc.cluster.local`, the xDS server's name.
 * Istio avoids the question by putting only the SPIFFE URI in workload certificates; we keep
 * OSM's names and refuse the identities instead. Any `svc` or `pod` label from the third on
 * counts, whatever the cluster domain (`<a>.<b>.svc` alone is a host name too); the first two
 * labels cannot make a host name (`web.svc.cluster.local` is not one).
 */
export function identityHostClash(id: WorkloadIdentity): HostClash | undefined {
  const principal = principalName(id);
  const labels = principal.split('.');
  for (let i = 2; i < labels.length; i++) {
    const what = HOST_LABELS[labels[i]];
    if (what) return { principal, label: labels[i], position: i + 1, what };
  }
  return undefined;
}
