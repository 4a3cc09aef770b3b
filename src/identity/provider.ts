/**
 * One interface for every source of certificates. The server (SDS, its own TLS), the CLI
 * (`ca issue`) and `compile --emit-secrets` ask a provider to issue and to say what to trust;
 * whether the CA is the built-in one or an operator's PKI is decided once, at start-up.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { WorkloadIdentity } from './identity.ts';

export interface IssueRequest {
  readonly identity: WorkloadIdentity;
  /** From issue to expiry. */
  readonly lifetimeMs: number;
  /** More DNS names or IPs (the xDS server's own certificate). */
  readonly altNames?: readonly string[];
}

export interface IssuedCertificate {
  readonly identity: WorkloadIdentity;
  /** The leaf followed by any intermediates: what a TLS end presents (Envoy's `certificate_chain`, `tls.crt`). */
  readonly chainPem: string;
  /** PKCS#8 PEM. Never logged, never written unless asked (`ca issue`, `--emit-secrets`). */
  readonly privateKeyPem: string;
  /** When it was issued (ms since the epoch); `notBefore` may be a little earlier, for clock skew. */
  readonly issuedAt: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
  /** SHA-256 fingerprint of the CA certificate that signed it. */
  readonly issuer: string;
}

export interface TrustedRoot {
  readonly subject: string;
  readonly fingerprint: string;
  readonly notAfter: Date;
}

/** What peers validate against: every root trusted right now (two during a root rotation). */
export interface TrustBundle {
  readonly pem: string;
  readonly roots: readonly TrustedRoot[];
}

export interface ProviderChange {
  /** The set of trusted roots changed: every validation context must be re-sent. */
  readonly trustBundle: boolean;
  /** Certificates are now signed by another CA: every issued certificate should be replaced. */
  readonly signer: boolean;
  readonly reason: string;
}

export interface CertificateProvider {
  /** `builtin` (a root of our own) or `file` (an operator's CA from files, reloaded on change). */
  readonly kind: 'builtin' | 'file';
  issue(request: IssueRequest): Promise<IssuedCertificate>;
  trustBundle(): TrustBundle;
  /**
   * Moves to new CA material: the built-in CA starts a root rotation; the file provider
   * re-reads its files now instead of waiting for the watcher.
   */
  rotate(): Promise<void>;
  /** Called after the trust bundle or the signing CA changed. Returns an unsubscribe function. */
  onChange(listener: (change: ProviderChange) => void): () => void;
  close(): Promise<void>;
}

/** Unusable CA material, as an SMI6xxx diagnostic. */
export class CertificateError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** Where providers report; the server's logger fits. */
export interface IdentityLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLog: IdentityLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Logs a diagnostic at its level, with its code as a field. */
export function logDiagnostic(log: IdentityLog, d: Diagnostic, fields: Record<string, unknown> = {}): void {
  const line = `${d.code} ${d.message}`;
  if (d.level === 'error') log.error(line, { code: d.code, ...fields });
  else if (d.level === 'warning') log.warn(line, { code: d.code, ...fields });
  else log.info(line, { code: d.code, ...fields });
}

/** A small listener list, shared by the providers. */
export class Listeners<T> {
  private readonly fns = new Set<(v: T) => void>();
  add(fn: (v: T) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  emit(v: T): void {
    for (const fn of [...this.fns]) fn(v);
  }
}
