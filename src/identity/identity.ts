/**
 * Workload identities, in the two spellings the mesh uses:
 *
 * - the principal name `<sa>.<ns>.<trustDomain>` (OSM's), which RBAC policies name, certificates
 *   carry as their CN and a DNS SAN, and outbound trust anchors pin;
 * - the SPIFFE ID `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`, which certificates carry as a URI
 *   SAN so that SPIFFE-aware peers (gRPC, Istio, SPIRE) read the same identity.
 */
import { DEFAULT_TRUST_DOMAIN } from '../shared/options.ts';
import { identityHostClash, type WorkloadIdentity } from '../ir/names.ts';
import { displayName, nameProblem } from '../ir/kubernetes-names.ts';

// The spellings live with the other names the stages share: identity is one of their users.
export { identityHostClash, parseSpiffeId, principalName, serviceCertName, spiffeId, type HostClash, type WorkloadIdentity } from '../ir/names.ts';

/**
 * Who the xDS server is (`serve --ca` gets a certificate for it; deploy/ runs the server as this
 * service account): the identity a proxy's bootstrap expects the control plane to prove.
 */
export const CONTROL_PLANE_ACCOUNT = { namespace: 'smi-system', serviceAccount: 'smi-compile' } as const;

/** Why the identity cannot be put in a certificate, or undefined when it can. */
export function identityProblem(id: WorkloadIdentity): string | undefined {
  const ns = nameProblem(id.namespace, 'label');
  if (ns) return `namespace ${displayName(id.namespace)} is not a DNS label: ${ns}`;
  const sa = nameProblem(id.serviceAccount, 'subdomain');
  if (sa) return `service account ${displayName(id.serviceAccount)} is not a DNS subdomain: ${sa}`;
  const td = nameProblem(id.trustDomain, 'subdomain');
  if (td) return `trust domain ${displayName(id.trustDomain)} is not a DNS name: ${td}`;
  const clash = identityHostClash(id);
  if (clash) return `${clash.principal} has the form of a Kubernetes host name ("${clash.label}" as its label ${clash.position}): a certificate for it would impersonate ${clash.what}`;
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

export function sameIdentity(a: WorkloadIdentity, b: WorkloadIdentity): boolean {
  return a.namespace === b.namespace && a.serviceAccount === b.serviceAccount && a.trustDomain === b.trustDomain;
}
