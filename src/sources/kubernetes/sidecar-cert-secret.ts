/**
 * A sidecar certificate Secret as sidecar-certs.ts keeps it: its name and paths, the label that
 * says it is ours, and the annotations every decision is read from (so replicas agree).
 */
import type { WorkloadIdentity } from '../../identity/identity.ts';
import { principalName } from '../../identity/identity.ts';
import type { IssuedCertificate } from '../../identity/provider.ts';
import { certSecretName } from '../../inject/constants.ts';
import { sha256Hex } from '../../shared/hash.ts';
import type { LooseJson as Json } from '../../shared/json.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'smi-compile';
/** The identity the Secret's certificate was issued for (`<sa>.<ns>.<trust domain>`). */
export const IDENTITY_ANNOTATION = 'smi-compile.io/identity';
/** When the certificate is due for renewal (ISO 8601): 2/3 of the way to notAfter. */
export const RENEW_AT_ANNOTATION = 'smi-compile.io/renew-at';
/** SHA-256 of the trust bundle in ca.crt: a metadata-only list tells a Secret with an old bundle. */
export const CA_BUNDLE_ANNOTATION = 'smi-compile.io/ca-bundle-sha256';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const secretsPath = (ns: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`;
export const secretPath = (ns: string, name: string): string => `${secretsPath(ns)}/${encodeURIComponent(name)}`;
export const isManaged = (s: Json): boolean => s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;

/**
 * The renewal time a managed Secret records for `identity`, or undefined (due now) when it is for another
 * identity or trust bundle, or (a full read, not the metadata list) lacks its key material.
 */
export function renewalRecorded(identity: WorkloadIdentity, secret: Json, trustBundlePem: string): number | undefined {
  const annotations = secret.metadata?.annotations ?? {};
  if (annotations[IDENTITY_ANNOTATION] !== principalName(identity)) return undefined;
  if (annotations[CA_BUNDLE_ANNOTATION] !== sha256Hex(trustBundlePem)) return undefined;
  if (secret.data && (!secret.data['tls.crt'] || !secret.data['tls.key'] || secret.data['ca.crt'] !== b64(trustBundlePem))) return undefined;
  const renewAt = Date.parse(annotations[RENEW_AT_ANNOTATION] ?? '');
  return Number.isFinite(renewAt) ? renewAt : undefined;
}

/** The Secret for a certificate just issued (`resourceVersion`: the one a renewal replaces). */
export function certSecret(identity: WorkloadIdentity, cert: IssuedCertificate, renewAt: number, trustBundlePem: string, resourceVersion: string | undefined): Json {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: certSecretName(identity.serviceAccount),
      namespace: identity.namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: {
        [IDENTITY_ANNOTATION]: principalName(identity),
        [RENEW_AT_ANNOTATION]: new Date(renewAt).toISOString(),
        [CA_BUNDLE_ANNOTATION]: sha256Hex(trustBundlePem),
      },
    },
    data: { 'tls.crt': b64(cert.chainPem), 'tls.key': b64(cert.privateKeyPem), 'ca.crt': b64(trustBundlePem) },
  };
}
