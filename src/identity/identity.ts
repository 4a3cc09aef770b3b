/**
 * Workload identities, in the two spellings the mesh uses:
 *
 * - the principal name `<sa>.<ns>.<trustDomain>` (OSM's), which RBAC policies name, certificates
 *   carry as their CN and a DNS SAN, and outbound trust anchors pin;
 * - the SPIFFE ID `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`, which certificates carry as a URI
 *   SAN so that SPIFFE-aware peers (gRPC, Istio, SPIRE) read the same identity.
 */
import { DEFAULT_TRUST_DOMAIN } from '../compiler/options.ts';

export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly trustDomain: string;
}

/**
 * Who the xDS server is (`serve --ca` gets a certificate for it; deploy/ runs the server as this
 * service account): the identity a proxy's bootstrap expects the control plane to prove.
 */
export const CONTROL_PLANE_ACCOUNT = { namespace: 'smi-system', serviceAccount: 'smi-compile' } as const;

/** `<sa>.<ns>.<trustDomain>`: the principal name, also the key identities are cached under. */
export function principalName(id: WorkloadIdentity): string {
  return `${id.serviceAccount}.${id.namespace}.${id.trustDomain}`;
}

export function spiffeId(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** `service-cert:<ns>/<sa>`: the SDS secret holding the identity's certificate (DESIGN.md). */
export function serviceCertName(id: Pick<WorkloadIdentity, 'namespace' | 'serviceAccount'>): string {
  return `service-cert:${id.namespace}/${id.serviceAccount}`;
}

// Kubernetes naming: a namespace is a DNS label, a service account name a DNS subdomain.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why the identity cannot be put in a certificate, or undefined when it can. */
export function identityProblem(id: WorkloadIdentity): string | undefined {
  if (!DNS_LABEL.test(id.namespace)) return `namespace "${id.namespace}" is not a DNS label`;
  if (!DNS_SUBDOMAIN.test(id.serviceAccount)) return `service account "${id.serviceAccount}" is not a DNS subdomain`;
  if (!DNS_SUBDOMAIN.test(id.trustDomain)) return `trust domain "${id.trustDomain}" is not a DNS name`;
  return undefined;
}

/**
 * `<sa>.<ns>` as the CLI takes it (`ca issue --identity bookbuyer.bookbuyer`). The namespace is
 * what follows the last dot: namespaces cannot contain dots, service account names can.
 */
export function parseIdentityArg(arg: string, trustDomain = DEFAULT_TRUST_DOMAIN): WorkloadIdentity {
  const dot = arg.lastIndexOf('.');
  if (dot <= 0 || dot === arg.length - 1) throw new Error(`identity "${arg}" is not <serviceaccount>.<namespace>`);
  const id = { serviceAccount: arg.slice(0, dot), namespace: arg.slice(dot + 1), trustDomain };
  const problem = identityProblem(id);
  if (problem) throw new Error(`identity "${arg}": ${problem}`);
  return id;
}

/** The identity of a SPIFFE ID in our `/ns/<ns>/sa/<sa>` shape; undefined for any other URI. */
export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  return { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] };
}

export function sameIdentity(a: WorkloadIdentity, b: WorkloadIdentity): boolean {
  return a.namespace === b.namespace && a.serviceAccount === b.serviceAccount && a.trustDomain === b.trustDomain;
}
