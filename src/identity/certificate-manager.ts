/**
 * Keeps one live certificate per identity in use, and renews it before it expires.
 *
 * A certificate is renewed at two thirds of its lifetime (8 h before the end of a 24 h one), so
 * that a renewal which fails has a third of the lifetime to be retried before any handshake
 * breaks; the new one is pushed to proxies over SDS, and the old one keeps working for the
 * connections that use it until it expires. Short lifetimes are the revocation mechanism: a
 * leaked key is useless within a day.
 *
 * Identities are held by reference count (one per connected stream). When the last holder
 * goes, the certificate is not renewed again and is dropped at its renewal time, so a proxy
 * that reconnects within that time gets the same certificate back.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { systemClock, type Clock, type Timer } from './clock.ts';
import { principalName, type WorkloadIdentity } from './identity.ts';
import { Listeners, logDiagnostic, silentLog, type CertificateProvider, type IdentityLog, type IssuedCertificate, type TrustBundle } from './provider.ts';

export const DEFAULT_LIFETIME_MS = 24 * 3600_000;
export const DEFAULT_RENEW_FRACTION = 2 / 3;

export interface CertificateManagerOptions {
  /** Lifetime of workload certificates (default 24 h). */
  readonly lifetimeMs?: number;
  /** Renew when this fraction of the lifetime has passed (default 2/3). */
  readonly renewFraction?: number;
  readonly clock?: Clock;
  readonly log?: IdentityLog;
  /** Wait before retrying a failed issue (default 10 s). */
  readonly retryMs?: number;
}

/** What changed: one identity's certificate (by principal name), or the trust bundle. */
export type CertificateEvent = { readonly kind: 'certificate'; readonly principal: string } | { readonly kind: 'trust-bundle' };

interface Entry {
  readonly identity: WorkloadIdentity;
  readonly altNames?: readonly string[];
  cert?: IssuedCertificate;
  pending?: Promise<IssuedCertificate>;
  holders: number;
  timer?: Timer;
  /** Bumped whenever a newer certificate supersedes in-flight work (a signer change). */
  generation: number;
}

/** When a certificate should be replaced: `renewFraction` of the way from issue to expiry. */
export function renewalTime(cert: Pick<IssuedCertificate, 'issuedAt' | 'notAfter'>, fraction = DEFAULT_RENEW_FRACTION): number {
  return cert.issuedAt + Math.floor((cert.notAfter.getTime() - cert.issuedAt) * fraction);
}

export class CertificateManager {
  private readonly entries = new Map<string, Entry>();
  private readonly events = new Listeners<CertificateEvent>();
  private readonly clock: Clock;
  private readonly log: IdentityLog;
  readonly lifetimeMs: number;
  private readonly renewFraction: number;
  private readonly retryMs: number;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    readonly provider: CertificateProvider,
    opts: CertificateManagerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLog;
    this.lifetimeMs = opts.lifetimeMs ?? DEFAULT_LIFETIME_MS;
    this.renewFraction = opts.renewFraction ?? DEFAULT_RENEW_FRACTION;
    this.retryMs = opts.retryMs ?? 10_000;
    if (!(this.renewFraction > 0 && this.renewFraction < 1)) throw new Error('renewFraction must be between 0 and 1');
    this.unsubscribe = provider.onChange((change) => {
      if (change.trustBundle) this.events.emit({ kind: 'trust-bundle' });
      // A new signing CA: replace every certificate now, so none is left chaining to a CA that
      // is about to stop being trusted.
      if (change.signer) for (const e of this.entries.values()) if (e.holders > 0) void this.renew(e, change.reason);
    });
  }

  trustBundle(): TrustBundle {
    return this.provider.trustBundle();
  }

  /** The identity's certificate if one is live (issued and not expired). */
  current(identity: WorkloadIdentity): IssuedCertificate | undefined {
    const cert = this.entries.get(principalName(identity))?.cert;
    return cert && cert.notAfter.getTime() > this.clock.now() ? cert : undefined;
  }

  /**
   * Holds an identity: issues its certificate if needed and keeps renewing it until every
   * holder has released it. `altNames` (the xDS server's own certificate) must be the same for
   * every holder of one identity.
   */
  hold(identity: WorkloadIdentity, altNames?: readonly string[]): { readonly ready: Promise<IssuedCertificate>; release(): void } {
    const key = principalName(identity);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { identity, altNames, holders: 0, generation: 0 };
      this.entries.set(key, entry);
    }
    const e = entry;
    e.holders += 1;
    let released = false;
    const live = e.cert && renewalTime(e.cert, this.renewFraction) > this.clock.now();
    const ready = live ? Promise.resolve(e.cert!) : (e.pending ?? this.renew(e, 'first use'));
    if (live) this.schedule(e); // it may have stopped renewing when its last holder left
    return {
      ready,
      release: () => {
        if (released) return;
        released = true;
        e.holders -= 1;
      },
    };
  }

  /** Issues now, replacing the current certificate (renewal, signer change). */
  private renew(e: Entry, reason: string): Promise<IssuedCertificate> {
    const generation = ++e.generation;
    const p = this.provider
      .issue({ identity: e.identity, lifetimeMs: this.lifetimeMs, altNames: e.altNames })
      .then((cert) => {
        if (this.closed || generation !== e.generation) return cert; // superseded by a newer issue
        e.cert = cert;
        e.pending = undefined;
        this.log.info('certificate issued', {
          identity: principalName(e.identity),
          reason,
          serial: cert.serialNumber,
          notAfter: cert.notAfter.toISOString(),
          renewAt: new Date(renewalTime(cert, this.renewFraction)).toISOString(),
        });
        this.schedule(e);
        this.events.emit({ kind: 'certificate', principal: principalName(e.identity) });
        return cert;
      })
      .catch((err: unknown) => {
        if (generation === e.generation) e.pending = undefined;
        const retryAt = this.clock.now() + this.retryMs;
        logDiagnostic(
          this.log,
          diagnostic('cert-renewal-failed', {
            identity: principalName(e.identity),
            detail: err instanceof Error ? err.message : String(err),
            retry: `${Math.round(this.retryMs / 1000)} s`,
          }),
          e.cert ? { currentExpires: e.cert.notAfter.toISOString() } : {},
        );
        if (!this.closed && e.holders > 0) {
          e.timer?.cancel();
          e.timer = this.clock.at(retryAt, () => void this.renew(e, 'retry'));
        }
        throw err;
      });
    e.pending = p;
    // Holders may not await it (a renewal nobody waits for); its failure is logged above.
    p.catch(() => undefined);
    return p;
  }

  /** Arms the renewal timer; an identity nobody holds is dropped at that time instead. */
  private schedule(e: Entry): void {
    e.timer?.cancel();
    if (!e.cert || this.closed) return;
    e.timer = this.clock.at(renewalTime(e.cert, this.renewFraction), () => {
      e.timer = undefined;
      if (e.holders > 0) void this.renew(e, 'renewal');
      else if (this.entries.get(principalName(e.identity)) === e) this.entries.delete(principalName(e.identity));
    });
  }

  onChange(listener: (event: CertificateEvent) => void): () => void {
    return this.events.add(listener);
  }

  /** Identities with a certificate or one on its way. */
  get size(): number {
    return this.entries.size;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const e of this.entries.values()) e.timer?.cancel();
    this.entries.clear();
  }
}
