/**
 * The Secrets injected sidecars mount for their xDS client certificate (`serve --kubernetes --ca`).
 *
 * The injector (src/inject) mounts Secret `envoy-xds-cert-<serviceaccount>` (kubernetes.io/tls:
 * tls.crt, tls.key, ca.crt) at /etc/envoy-tls; this keeps one per ServiceAccount of every
 * monitored namespace, as OSM's controller provisions what its sidecars need:
 *
 * - created when missing, with the workload certificate of `<sa>.<ns>.<trust domain>`;
 * - renewed at the same fraction of its lifetime as SDS certificates (2/3), or at once when the
 *   trust bundle or the identity no longer matches (a root rotation, a new trust domain);
 * - deleted when its ServiceAccount goes or its namespace leaves the mesh;
 * - never touched when a Secret of that name exists without our managed-by label (SMI8021).
 *
 * Every decision is read from the Secret itself (its annotations say when it is due), never from
 * memory, so replicas agree and a renewal is idempotent: writes carry the resourceVersion they
 * were decided on; on a conflict the Secret is read again and written only if still due, so two
 * replicas renewing at once produce one new certificate, not two fights.
 *
 * Managed Secrets are listed (label-selected) at each reconcile rather than watched: reconciles
 * run on ServiceAccount and Namespace events, at the next renewal time, and every `resyncMs`
 * (which also recreates a managed Secret someone deleted). A failed write never reaches xDS: it
 * is logged (SMI8020/SMI8022) and the whole reconcile is retried with backoff.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { diagnostic, formatDiagnostic, type Diagnostic } from '../../diagnostics/diagnostic.ts';
import { renewalTime } from '../../identity/certificate-manager.ts';
import type { WorkloadIdentity } from '../../identity/identity.ts';
import type { IssuedCertificate } from '../../identity/provider.ts';
import { certSecretName } from '../../inject/constants.ts';
import { logAtLevel, type Logger } from '../../shared/logger.ts';
import { describeError, kubeRequest, statusOf } from './http.ts';
import { compareStrings } from '../../shared/compare.ts';
import { certSecret, isManaged, MANAGED_BY, MANAGED_BY_LABEL, renewalRecorded, secretPath, secretsPath } from './sidecar-cert-secret.ts';
import type { LooseJson as Json } from '../../shared/json.ts';

export const SIDECAR_CERT_BACKOFF = { firstMs: 200, maxMs: 30_000 } as const;
export const DEFAULT_RESYNC_MS = 60_000;
const MIN_PASS_GAP_MS = 1_000;

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

export interface SidecarCertOptions {
  readonly kc: KubeConfig;
  /** Every ServiceAccount of every monitored namespace, now. */
  accounts(): readonly ServiceAccountRef[];
  issue(identity: WorkloadIdentity): Promise<IssuedCertificate>;
  /** The CA bundle sidecars trust (ca.crt), now. */
  trustBundlePem(): string;
  readonly trustDomain: string;
  readonly renewFraction: number;
  /** The certificates' lifetime: a replica's renewals are spread over a twentieth of it (at most a minute). */
  readonly lifetimeMs: number;
  readonly logger: Logger;
  readonly resyncMs?: number;
  readonly now?: () => number;
}

/** Writes made, for tests and the report: how many of each. */
export interface SidecarCertStats {
  created: number;
  renewed: number;
  deleted: number;
  /** Updates or deletes refused for a stale resourceVersion (another replica wrote first). */
  conflicts: number;
  /** Reads of one Secret: before a renewal (the list may be stale), after a conflict, after a create found it. */
  reads: number;
  failures: number;
  reconciles: number;
}


/** A failure that stops this reconcile: retried as a whole after the backoff. */
class WriteFailed extends Error {
  constructor(readonly diag: Diagnostic) {
    super(diag.message);
  }
}

export class SidecarCertSync {
  readonly stats: SidecarCertStats = { created: 0, renewed: 0, deleted: 0, conflicts: 0, reads: 0, failures: 0, reconciles: 0 };
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private backoff: number = SIDECAR_CERT_BACKOFF.firstMs;
  private closed = false;
  /** Secrets already reported as not ours (SMI8021 once each, again only after that changes). */
  private readonly foreign = new Set<string>();
  private readonly refused = new Set<string>();
  private readonly now: () => number;
  private readonly resyncMs: number;
  private readonly idle: (() => void)[] = [];
  /** This replica's own salt for `spread`. */
  private readonly seed = String(Math.random());

  constructor(private readonly opts: SidecarCertOptions) {
    this.now = opts.now ?? Date.now;
    this.resyncMs = opts.resyncMs ?? DEFAULT_RESYNC_MS;
  }

  /** Reconciles soon (coalesced: one at a time, one more if asked meanwhile). */
  trigger(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      for (const f of this.idle.splice(0)) f();
    });
  }

  /** Resolves when no reconcile is running (tests). */
  settled(): Promise<void> {
    return this.running ? new Promise((r) => this.idle.push(r)) : Promise.resolve();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      let next: number;
      try {
        // At most one timed pass a second: Secrets falling due a few ms apart share a pass (and its list).
        next = Math.max(await this.reconcile(), this.now() + MIN_PASS_GAP_MS);
        this.backoff = SIDECAR_CERT_BACKOFF.firstMs;
      } catch (err) {
        this.stats.failures += 1;
        const d = err instanceof WriteFailed ? err.diag : diagnostic('sidecar-cert-write-failed', { secret: '(list)', detail: describeError(err), retryMs: this.backoff });
        this.log(d);
        next = this.now() + this.backoff;
        this.backoff = Math.min(this.backoff * 2, SIDECAR_CERT_BACKOFF.maxMs);
      }
      if (this.closed) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.trigger();
      }, Math.max(0, Math.min(next, this.now() + this.resyncMs) - this.now()));
    } while (this.again && !this.closed);
  }

  /** One pass: every wanted Secret present and current, every unwanted managed one gone. Returns when to run next. */
  private async reconcile(): Promise<number> {
    this.stats.reconciles += 1;
    // Metadata only (≈ 0.5 KiB a Secret instead of ≈ 3): the annotations say what is due.
    const list = (await this.call(
      'list',
      '(all)',
      'GET',
      `/api/v1/secrets?labelSelector=${encodeURIComponent(`${MANAGED_BY_LABEL}=${MANAGED_BY}`)}`,
      undefined,
      'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
    )) as Json;
    const managed = new Map<string, Json>();
    for (const s of (list.items ?? []) as Json[]) managed.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
    const wanted = new Map<string, WorkloadIdentity>();
    for (const sa of this.opts.accounts()) {
      wanted.set(`${sa.namespace}/${certSecretName(sa.name)}`, { namespace: sa.namespace, serviceAccount: sa.name, trustDomain: this.opts.trustDomain });
    }
    let next = Infinity;
    // One Secret that cannot be written (a quota, an admission webhook, a namespace being
    // deleted) must not hold up the others: each is tried, and the first failure retries the pass.
    let failed: unknown;
    let failures = 0;
    const attempt = async (work: () => Promise<number | undefined | void>): Promise<void> => {
      try {
        const renewAt = await work();
        if (typeof renewAt === 'number') next = Math.min(next, renewAt);
      } catch (err) {
        failures += 1;
        if (failures > 1) this.stats.failures += 1;
        failed ??= err;
        // Forbidden once is forbidden for all: no point asking a thousand times.
        if (err instanceof WriteFailed && err.diag.code === 'SMI8022') throw err;
      }
    };
    // Each replica walks the Secrets in its own order (by its salted hash): replicas renewing the
    // same window then rarely reach a Secret at the same moment, and the one that comes second
    // reads it renewed and moves on; in one order they would walk in step and race for each.
    const order = [...wanted].map(([key, identity]) => ({ key, identity, rank: this.salted(key) })).sort((a, b) => a.rank - b.rank || compareStrings(a.key, b.key));
    for (const { key, identity } of order) {
      if (this.closed) return next;
      const found = managed.get(key);
      await attempt(() => (found ? this.keep(identity, found) : this.create(identity)));
    }
    for (const [key, s] of managed) {
      if (this.closed) return next;
      if (wanted.has(key) || !String(s.metadata.name).startsWith(certSecretName(''))) continue;
      await attempt(() => this.remove(s));
    }
    if (failed) throw failed;
    return next;
  }

  /** Creates the Secret; if one exists already, keeps it when it is ours, leaves it when not. */
  private async create(identity: WorkloadIdentity): Promise<number | undefined> {
    const name = certSecretName(identity.serviceAccount);
    const key = `${identity.namespace}/${name}`;
    // The pass's list may be stale (another replica creating the same Secrets): a read first is
    // cheaper than a certificate issued for nothing and a create refused.
    try {
      const existing = (await this.call('get', key, 'GET', secretPath(identity.namespace, name))) as Json;
      return await this.keep(identity, existing, true);
    } catch (err) {
      if (!(err instanceof WriteFailed) || (err as WriteFailed & { status?: number }).status !== 404) throw err;
    }
    const body = await this.secretFor(identity, undefined);
    if (!body) return undefined;
    try {
      await this.call('create', key, 'POST', secretsPath(identity.namespace), body.secret);
      this.stats.created += 1;
      this.opts.logger.info('sidecar certificate Secret created', { secret: key, renewAt: new Date(body.renewAt).toISOString() });
      return body.renewAt + this.spread(`${identity.namespace}/${certSecretName(identity.serviceAccount)}`);
    } catch (err) {
      if (!(err instanceof WriteFailed) || (err as WriteFailed & { status?: number }).status !== 409) throw err;
    }
    // It exists (a replica made it meanwhile, or it is someone else's): decide on what is there.
    const existing = (await this.call('get', key, 'GET', secretPath(identity.namespace, name))) as Json;
    return this.keep(identity, existing, true);
  }

  /** Renews the Secret if due; on a conflict reads it again and renews only if still due. */
  private async keep(identity: WorkloadIdentity, secret: Json, fresh = false): Promise<number | undefined> {
    const key = `${identity.namespace}/${certSecretName(identity.serviceAccount)}`;
    for (let attempt = 0; ; attempt++) {
      if (!isManaged(secret)) {
        if (!this.foreign.has(key)) this.log(diagnostic('sidecar-cert-secret-not-managed', { secret: key }));
        this.foreign.add(key);
        return undefined;
      }
      this.foreign.delete(key);
      const due = this.dueAt(identity, secret);
      if (due > this.now()) return due;
      if (!fresh) {
        // The pass's list may be seconds old: another replica may have renewed it since. A read
        // is cheaper than a certificate issued for nothing and an update refused for a conflict.
        secret = (await this.call('get', key, 'GET', secretPath(identity.namespace, certSecretName(identity.serviceAccount)))) as Json;
        fresh = true;
        continue;
      }
      const body = await this.secretFor(identity, secret.metadata.resourceVersion);
      if (!body) return undefined;
      try {
        await this.call('update', key, 'PUT', secretPath(identity.namespace, certSecretName(identity.serviceAccount)), body.secret);
        this.stats.renewed += 1;
        this.opts.logger.info('sidecar certificate Secret renewed', { secret: key, renewAt: new Date(body.renewAt).toISOString() });
        return body.renewAt + this.spread(`${identity.namespace}/${certSecretName(identity.serviceAccount)}`);
      } catch (err) {
        if (!(err instanceof WriteFailed) || (err as WriteFailed & { status?: number }).status !== 409 || attempt >= 3) throw err;
        this.stats.conflicts += 1;
      }
      secret = (await this.call('get', key, 'GET', secretPath(identity.namespace, certSecretName(identity.serviceAccount)))) as Json;
    }
  }

  /** When a managed Secret must be rewritten: its renewal time, or now if it is for another identity or trust bundle. */
  private dueAt(identity: WorkloadIdentity, secret: Json): number {
    const renewAt = renewalRecorded(identity, secret, this.opts.trustBundlePem());
    return renewAt === undefined ? 0 : renewAt + this.spread(`${identity.namespace}/${certSecretName(identity.serviceAccount)}`);
  }

  /**
   * This replica's delay past a Secret's renewal time, different for every Secret and replica:
   * replicas then rarely find the same Secret due at the same moment (the one that renews first
   * leaves the other nothing to do), instead of racing for each.
   */
  private spread(key: string): number {
    const window = Math.min(60_000, this.opts.lifetimeMs / 20);
    return Math.floor((this.salted(key) / 2 ** 32) * window);
  }

  /** A number in [0, 2^32) from this replica's salt and the key. */
  private salted(key: string): number {
    return createHash('sha256').update(this.seed).update(key).digest().readUInt32BE(0);
  }

  private async remove(secret: Json): Promise<void> {
    const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
    try {
      // Only the Secret as listed: if someone changed it since, the next pass decides again.
      await this.call('delete', key, 'DELETE', secretPath(secret.metadata.namespace, secret.metadata.name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { resourceVersion: secret.metadata.resourceVersion },
      });
      this.stats.deleted += 1;
      this.opts.logger.info('sidecar certificate Secret deleted (its ServiceAccount is gone or not in the mesh)', { secret: key });
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) return;
      if (status === 409) {
        this.stats.conflicts += 1;
        this.again = true;
        return;
      }
      throw err;
    }
  }

  /** A fresh certificate as a Secret body; undefined (SMI8023, once) when the CA refuses the identity. */
  private async secretFor(identity: WorkloadIdentity, resourceVersion: string | undefined): Promise<{ secret: Json; renewAt: number } | undefined> {
    const name = certSecretName(identity.serviceAccount);
    let cert: IssuedCertificate;
    try {
      cert = await this.opts.issue(identity);
    } catch (err) {
      const key = `${identity.namespace}/${name}`;
      if (!this.refused.has(key)) {
        this.refused.add(key);
        this.log(diagnostic('sidecar-cert-identity-refused', { secret: key, namespace: identity.namespace, serviceAccount: identity.serviceAccount, detail: describeError(err) }));
      }
      return undefined;
    }
    const renewAt = renewalTime(cert, this.opts.renewFraction);
    return { renewAt, secret: certSecret(identity, cert, renewAt, this.opts.trustBundlePem(), resourceVersion) };
  }

  /** One API call; a failure becomes a WriteFailed carrying its diagnostic and HTTP status. */
  private async call(verb: string, key: string, method: string, path: string, body?: unknown, accept?: string): Promise<unknown> {
    if (verb === 'get') this.stats.reads += 1;
    try {
      return await kubeRequest(this.opts.kc, method, path, body, accept);
    } catch (err) {
      const status = statusOf(err);
      const d =
        status === 401 || status === 403
          ? diagnostic('sidecar-cert-forbidden', { verb, secret: key, detail: describeError(err) })
          : diagnostic('sidecar-cert-write-failed', { secret: key, detail: describeError(err), retryMs: this.backoff });
      throw Object.assign(new WriteFailed(d), { status });
    }
  }

  private log(d: Diagnostic): void {
    logAtLevel(this.opts.logger, d.level, formatDiagnostic(d), { code: d.code });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}

/**
 * The server's `sidecarCerts` hook for a Kubernetes source: keeps the Secrets of the source's
 * ServiceAccounts, reconciling at start and on every ServiceAccount or Namespace event.
 */
export function sidecarCertsFor(
  source: { serviceAccounts(): readonly ServiceAccountRef[]; onServiceAccountsChange(l: () => void): void; readonly kubeConfig: KubeConfig },
  logger: Logger,
  extra: Pick<SidecarCertOptions, 'resyncMs' | 'now'> = {},
): (ca: { issue: SidecarCertOptions['issue']; trustBundlePem(): string; renewFraction: number; lifetimeMs: number; trustDomain: string }) => SidecarCertSync {
  return (ca) => {
    const sync = new SidecarCertSync({
      kc: source.kubeConfig,
      accounts: () => source.serviceAccounts(),
      issue: (identity) => ca.issue(identity),
      trustBundlePem: () => ca.trustBundlePem(),
      trustDomain: ca.trustDomain,
      renewFraction: ca.renewFraction,
      lifetimeMs: ca.lifetimeMs,
      logger,
      ...extra,
    });
    source.onServiceAccountsChange(() => sync.trigger());
    sync.trigger();
    return sync;
  };
}
