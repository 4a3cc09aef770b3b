/**
 * The trust anchors a mesh's root-cert secrets carry (`root-cert-for-mtls-inbound:<ns>/<sa>`,
 * `root-cert-for-mtls-outbound:<ns>/<svc>`): emit names them and writes their SAN matchers, and
 * whoever holds the CA fills in its trust bundle, the same way whether the secret goes into an
 * offline compile's output (`compile --ca`) or over SDS (`serve --ca`).
 */

import { secretKindOf } from '../ir/names.ts';

/** A secret as emit writes it (proto3 JSON of an Envoy `Secret`). */
export type SecretJson = Readonly<Record<string, unknown>>;

/** The secrets that hold trust anchors, not a certificate and key. */
export function isRootCertSecret(name: string): boolean {
  const kind = secretKindOf(name);
  return kind === 'root-cert-for-mtls-inbound' || kind === 'root-cert-for-mtls-outbound';
}

/**
 * The root-cert secret with `trusted_ca` set to `bundlePem`, first in its validation context,
 * before the matchers emit wrote. Frozen, as emit's own objects.
 */
export function withTrustBundle<T extends SecretJson>(secret: T, bundlePem: string): T {
  const validation = (secret.validation_context ?? {}) as Record<string, unknown>;
  return Object.freeze({ ...secret, validation_context: Object.freeze({ trusted_ca: Object.freeze({ inline_string: bundlePem }), ...validation }) });
}
