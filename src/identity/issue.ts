/**
 * Issuing one workload certificate with a given signing CA: what both providers do once they
 * have decided which CA signs.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { identityProblem, principalName } from './identity.ts';
import { CertificateError, logDiagnostic, type IdentityLog, type IssuedCertificate, type IssueRequest } from './provider.ts';
import { certificatesPem, createLeaf, fingerprint, generateKeyPair, privateKeyPem, type Certificate, type SigningKey } from './x509.ts';

export interface Signer {
  readonly certificate: Certificate;
  readonly key: SigningKey;
  /** Certificates between the signer and the root, presented after the leaf (file provider: the rest of tls.crt). */
  readonly intermediates: readonly Certificate[];
}

/** notBefore is set this far back: nodes' clocks disagree by seconds, and a certificate "from the future" fails. */
export const DEFAULT_SKEW_MS = 60_000;

export async function issueWith(signer: Signer, req: IssueRequest, now: number, skewMs = DEFAULT_SKEW_MS): Promise<IssuedCertificate> {
  const problem = identityProblem(req.identity);
  if (problem) throw new Error(`cannot issue for ${principalName(req.identity)}: ${problem}`);
  // X.509 times have whole seconds; keep issuedAt on the same grid so lifetimes are exact.
  const issuedAt = Math.floor(now / 1000) * 1000;
  const caNotBefore = signer.certificate.notBefore.getTime();
  const caNotAfter = signer.certificate.notAfter.getTime();
  if (caNotAfter <= issuedAt) {
    throw new CertificateError(diagnostic('ca-invalid', { file: signer.certificate.subject, detail: `the CA certificate expired at ${signer.certificate.notAfter.toISOString()}` }));
  }
  const notBefore = new Date(Math.max(issuedAt - skewMs, caNotBefore));
  // Never beyond the CA: a leaf that outlives its issuer fails validation from that moment on.
  const notAfter = new Date(Math.min(issuedAt + req.lifetimeMs, caNotAfter));
  const keys = await generateKeyPair();
  const leaf = await createLeaf({
    identity: req.identity,
    altNames: req.altNames,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    issuer: { certificate: signer.certificate, key: signer.key },
  });
  return {
    identity: req.identity,
    chainPem: certificatesPem([leaf, ...signer.intermediates]),
    privateKeyPem: await privateKeyPem(keys.privateKey),
    issuedAt,
    notBefore,
    notAfter,
    serialNumber: leaf.serialNumber,
    issuer: fingerprint(signer.certificate),
  };
}

const EXPIRY_WARNING_MS = 30 * 24 * 3600_000;

/** SMI6005 when a CA certificate has less than 30 days left. */
export function warnIfExpiring(log: IdentityLog, what: string, cert: Certificate, now: number): void {
  const left = cert.notAfter.getTime() - now;
  if (left > EXPIRY_WARNING_MS) return;
  logDiagnostic(
    log,
    diagnostic('ca-expiring', { what, subject: cert.subject, notAfter: cert.notAfter.toISOString(), days: Math.max(0, Math.floor(left / 86_400_000)) }),
  );
}
