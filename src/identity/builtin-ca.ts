/**
 * The built-in CA: a self-signed ECDSA P-256 root kept in a directory, signing workload
 * certificates directly.
 *
 * ```
 * DIR/ca.crt            the root (what peers trust)
 * DIR/ca.key            its key, mode 0600
 * DIR/previous-ca.crt   during a root rotation: the old root, still trusted for a while
 * DIR/previous-ca.key   and its key, still signing for a while
 * DIR/rotation.json     when signing switches to the new root, and when the old one stops being trusted
 * ```
 *
 * Root rotation, in three steps. Each is a point in time written to rotation.json, so that
 * every replica reading the directory, and a restarted server, agrees on where it stands:
 *
 * 1. `rotate()` (`smi-compile ca rotate DIR`): a new root. Trust bundles carry both roots from
 *    now on and are pushed to every proxy; certificates are still signed by the old root, which
 *    every peer trusts whether or not it has the new bundle yet.
 * 2. `signWithCurrentFrom` (after `propagationMs`, 15 min by default: gRPC's file watcher
 *    re-reads its files every 10 min): signing switches to the new root and every certificate
 *    the server manages is reissued and pushed.
 * 3. `trustPreviousUntil` (`overlapMs` later, 24 h by default, the longest a certificate signed
 *    by the old root lives): the old root leaves the trust bundles.
 *
 * `serve` never writes here: the directory may be a read-only Secret volume, and a replica
 * must not undo another's rotation. It re-reads the files when they change.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { systemClock, type Clock, type Timer } from './clock.ts';
import { watchDirectory, type DirectoryWatch } from './dir-watch.ts';
import { CERT_FILE_MODE, KEY_FILE_MODE, readOptional, writeFileAtomic } from './files.ts';
import { issueWith, warnIfExpiring, DEFAULT_SKEW_MS } from './issue.ts';
import {
  CertificateError,
  Listeners,
  logDiagnostic,
  silentLog,
  type CertificateProvider,
  type IdentityLog,
  type IssuedCertificate,
  type IssueRequest,
  type ProviderChange,
  type TrustBundle,
} from './provider.ts';
import {
  certificatesPem,
  createRoot,
  fingerprint,
  importSigningKey,
  isCaCertificate,
  keyMatches,
  parseCertificates,
  privateKeyPem,
  signingKeyOf,
  trustBundleOf,
  type Certificate,
  type SigningKey,
} from './x509.ts';

export const BUILTIN_CA_FILES = {
  cert: 'ca.crt',
  key: 'ca.key',
  previousCert: 'previous-ca.crt',
  previousKey: 'previous-ca.key',
  rotation: 'rotation.json',
} as const;

const ALL_FILES = Object.values(BUILTIN_CA_FILES);

const HOUR = 3600_000;
export const DEFAULT_ROOT_LIFETIME_MS = 10 * 365 * 24 * HOUR;
export const DEFAULT_PROPAGATION_MS = 15 * 60_000;
export const DEFAULT_OVERLAP_MS = 24 * HOUR;

export interface BuiltinCaOptions {
  readonly clock?: Clock;
  /** Lifetime of new roots (default 10 years). */
  readonly rootLifetimeMs?: number;
  /** Rotation: how long the old root keeps signing while bundles with both roots spread (default 15 min). */
  readonly propagationMs?: number;
  /** Rotation: how long the old root stays trusted after signing switched (default 24 h). */
  readonly overlapMs?: number;
  readonly skewMs?: number;
  readonly log?: IdentityLog;
  /** Re-read the directory when its files change (serve). */
  readonly watch?: boolean;
  /** Poll interval of the watch's safety net (default 30 s). */
  readonly pollMs?: number;
}

interface Root {
  readonly certificate: Certificate;
  readonly key: SigningKey;
  readonly keyPem: string;
}

interface Rotation {
  readonly signWithCurrentFrom: number;
  readonly trustPreviousUntil: number;
}

interface State {
  readonly current: Root;
  readonly previous?: Root;
  readonly rotation?: Rotation;
}

/** `ca init` on a directory that already has a CA. */
export class CaExistsError extends Error {}

/** A root certificate file: one CA certificate. Throws CertificateError (SMI6001, SMI6002). */
function readRootCertificate(dir: string, certFile: string): Certificate {
  const certPem = readOptional(join(dir, certFile));
  if (certPem === undefined) throw new CertificateError(diagnostic('ca-missing-file', { dir, file: certFile }));
  const invalid = (detail: string): CertificateError => new CertificateError(diagnostic('ca-invalid', { file: join(dir, certFile), detail }));
  let certs: Certificate[];
  try {
    certs = parseCertificates(certPem);
  } catch (err) {
    throw invalid(`not a PEM certificate (${err instanceof Error ? err.message : String(err)})`);
  }
  if (certs.length !== 1) throw invalid(`expected one certificate, found ${certs.length}`);
  if (!isCaCertificate(certs[0])) throw invalid('not a CA certificate (basic constraints CA:TRUE and key usage keyCertSign)');
  return certs[0];
}

async function loadRoot(dir: string, certFile: string, keyFile: string): Promise<Root> {
  const certificate = readRootCertificate(dir, certFile);
  const keyPem = readOptional(join(dir, keyFile));
  if (keyPem === undefined) throw new CertificateError(diagnostic('ca-missing-file', { dir, file: keyFile }));
  let key: SigningKey;
  try {
    key = await importSigningKey(keyPem);
    if (!keyMatches(certificate, keyPem)) throw new Error(`it is not the key of ${certFile}`);
  } catch (err) {
    throw new CertificateError(diagnostic('ca-invalid', { file: join(dir, keyFile), detail: err instanceof Error ? err.message : String(err) }));
  }
  return { certificate, key, keyPem };
}

/** rotation.json of a rotation under way. Throws CertificateError. */
function readRotation(dir: string): Rotation {
  const text = readOptional(join(dir, BUILTIN_CA_FILES.rotation));
  if (text === undefined) throw new CertificateError(diagnostic('ca-missing-file', { dir, file: BUILTIN_CA_FILES.rotation }));
  try {
    const r = JSON.parse(text) as { signWithCurrentFrom: string; trustPreviousUntil: string };
    const rotation = { signWithCurrentFrom: Date.parse(r.signWithCurrentFrom), trustPreviousUntil: Date.parse(r.trustPreviousUntil) };
    if (Number.isNaN(rotation.signWithCurrentFrom) || Number.isNaN(rotation.trustPreviousUntil)) throw new Error('times are not ISO 8601');
    return rotation;
  } catch (err) {
    throw new CertificateError(diagnostic('ca-invalid', { file: join(dir, BUILTIN_CA_FILES.rotation), detail: err instanceof Error ? err.message : String(err) }));
  }
}

async function readState(dir: string): Promise<State> {
  const current = await loadRoot(dir, BUILTIN_CA_FILES.cert, BUILTIN_CA_FILES.key);
  if (!existsSync(join(dir, BUILTIN_CA_FILES.previousCert))) return { current };
  const previous = await loadRoot(dir, BUILTIN_CA_FILES.previousCert, BUILTIN_CA_FILES.previousKey);
  return { current, previous, rotation: readRotation(dir) };
}

/** The roots trusted at `now`, as trustedRoots() has them: the current root, and the previous one during a rotation's overlap. */
function trustedAt<T>(current: T, previous: T | undefined, rotation: Rotation | undefined, now: number): T[] {
  return previous && rotation && now < rotation.trustPreviousUntil ? [current, previous] : [current];
}

async function newRoot(now: number, lifetimeMs: number): Promise<Root> {
  const notBefore = new Date(Math.floor((now - DEFAULT_SKEW_MS) / 1000) * 1000);
  // A distinct subject per root: during a rotation both are trusted, and TLS stacks pick an
  // issuer by subject name first.
  const stamp = new Date(now).toISOString().replace(/[-:]|\.\d+Z$/g, '').replace('T', '-');
  const { certificate, keys } = await createRoot({ commonName: `smi-compile mesh root ${stamp}`, notBefore, notAfter: new Date(now + lifetimeMs) });
  return { certificate, key: signingKeyOf(keys), keyPem: await privateKeyPem(keys.privateKey) };
}

function writeRoot(dir: string, root: Root, certFile: string, keyFile: string): void {
  // Key first: a reader that sees the new certificate must find its key.
  writeFileAtomic(join(dir, keyFile), root.keyPem, KEY_FILE_MODE);
  writeFileAtomic(join(dir, certFile), certificatesPem([root.certificate]), CERT_FILE_MODE);
}

export class BuiltinCa implements CertificateProvider {
  readonly kind = 'builtin' as const;
  private readonly clock: Clock;
  private readonly log: IdentityLog;
  private readonly changes = new Listeners<ProviderChange>();
  private timers: Timer[] = [];
  private watcher: DirectoryWatch | undefined;
  private loadedAt: number;

  private constructor(
    private state: State,
    private readonly dir: string | undefined,
    private readonly opts: BuiltinCaOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLog;
    this.loadedAt = this.clock.now();
    this.schedulePhases();
    warnIfExpiring(this.log, 'root', state.current.certificate, this.clock.now());
    if (dir && opts.watch) {
      this.watcher = watchDirectory(dir, ALL_FILES, () => void this.reload(), { pollMs: opts.pollMs });
    }
  }

  /** A CA that lives in memory only (tests, `compile --emit-secrets` without `--ca`). */
  static async ephemeral(opts: BuiltinCaOptions = {}): Promise<BuiltinCa> {
    const now = (opts.clock ?? systemClock).now();
    return new BuiltinCa({ current: await newRoot(now, opts.rootLifetimeMs ?? DEFAULT_ROOT_LIFETIME_MS) }, undefined, opts);
  }

  /** `ca init DIR`: a new root in DIR; refuses to replace one unless `force`. */
  static async init(dir: string, opts: BuiltinCaOptions & { force?: boolean } = {}): Promise<BuiltinCa> {
    const existing = ALL_FILES.filter((f) => existsSync(join(dir, f)));
    if (existing.length > 0 && !opts.force) {
      throw new CaExistsError(`${dir} already holds a CA (${existing.join(', ')}); pass --force to replace it (every certificate it issued stops being trusted)`);
    }
    const root = await newRoot((opts.clock ?? systemClock).now(), opts.rootLifetimeMs ?? DEFAULT_ROOT_LIFETIME_MS);
    for (const f of [BUILTIN_CA_FILES.previousCert, BUILTIN_CA_FILES.previousKey, BUILTIN_CA_FILES.rotation]) rmSync(join(dir, f), { force: true });
    writeRoot(dir, root, BUILTIN_CA_FILES.cert, BUILTIN_CA_FILES.key);
    return new BuiltinCa({ current: root }, dir, opts);
  }

  /**
   * What peers of the CA in DIR trust now, read from the certificates alone (ca.crt, and
   * previous-ca.crt with rotation.json during a rotation): `compile --ca` embeds it without
   * needing the root's key, so CI jobs need not hold it. Throws CertificateError.
   */
  static trustBundleIn(dir: string, opts: { clock?: Clock } = {}): TrustBundle {
    const current = readRootCertificate(dir, BUILTIN_CA_FILES.cert);
    if (!existsSync(join(dir, BUILTIN_CA_FILES.previousCert))) return trustBundleOf([current]);
    const previous = readRootCertificate(dir, BUILTIN_CA_FILES.previousCert);
    return trustBundleOf(trustedAt(current, previous, readRotation(dir), (opts.clock ?? systemClock).now()));
  }

  /** The CA in DIR, as `ca init` (and `ca rotate`) left it. Throws CertificateError. */
  static async load(dir: string, opts: BuiltinCaOptions = {}): Promise<BuiltinCa> {
    return new BuiltinCa(await readState(dir), dir, opts);
  }

  /** The root certificates trusted now: the current one, and the previous one during a rotation. */
  private trustedRoots(now: number): Root[] {
    const { current, previous, rotation } = this.state;
    return trustedAt(current, previous, rotation, now);
  }

  private signer(now: number): Root {
    const { current, previous, rotation } = this.state;
    return previous && rotation && now < rotation.signWithCurrentFrom ? previous : current;
  }

  async issue(req: IssueRequest): Promise<IssuedCertificate> {
    const now = this.clock.now();
    const root = this.signer(now);
    return issueWith({ certificate: root.certificate, key: root.key, intermediates: [] }, req, now, this.opts.skewMs);
  }

  trustBundle(): TrustBundle {
    return trustBundleOf(this.trustedRoots(this.clock.now()).map((r) => r.certificate));
  }

  /** The current root, as `ca.crt` holds it. */
  rootPem(): string {
    return certificatesPem([this.state.current.certificate]);
  }

  /** Starts a root rotation (see the top of this file); written to the directory when there is one. */
  async rotate(): Promise<void> {
    const now = this.clock.now();
    if (this.state.previous && this.state.rotation && now < this.state.rotation.trustPreviousUntil) {
      this.log.warn('starting a root rotation while the previous one is still in its overlap window; the oldest root stops being trusted now', {
        dropped: this.state.previous.certificate.subject,
      });
    }
    const root = await newRoot(now, this.opts.rootLifetimeMs ?? DEFAULT_ROOT_LIFETIME_MS);
    const signWithCurrentFrom = now + (this.opts.propagationMs ?? DEFAULT_PROPAGATION_MS);
    const rotation = { signWithCurrentFrom, trustPreviousUntil: signWithCurrentFrom + (this.opts.overlapMs ?? DEFAULT_OVERLAP_MS) };
    const next: State = { current: root, previous: this.state.current, rotation };
    if (this.dir) {
      // Previous root and schedule first, the new root last: a reader between two writes sees
      // the old root still current, never a new root without the old one trusted.
      writeRoot(this.dir, next.previous!, BUILTIN_CA_FILES.previousCert, BUILTIN_CA_FILES.previousKey);
      writeFileAtomic(
        join(this.dir, BUILTIN_CA_FILES.rotation),
        `${JSON.stringify({ signWithCurrentFrom: new Date(rotation.signWithCurrentFrom).toISOString(), trustPreviousUntil: new Date(rotation.trustPreviousUntil).toISOString() }, null, 2)}\n`,
        CERT_FILE_MODE,
      );
      writeRoot(this.dir, root, BUILTIN_CA_FILES.cert, BUILTIN_CA_FILES.key);
    }
    this.apply(next, 'root rotation started');
  }

  /** Re-reads the directory; a CA that does not load is reported and the old one kept. */
  async reload(): Promise<void> {
    if (!this.dir) return;
    let next: State;
    try {
      next = await readState(this.dir);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (err instanceof CertificateError) logDiagnostic(this.log, err.diagnostic);
      logDiagnostic(this.log, diagnostic('ca-reload-failed', { dir: this.dir, detail, loadedAt: new Date(this.loadedAt).toISOString() }));
      return;
    }
    this.loadedAt = this.clock.now();
    this.apply(next, `${this.dir} changed`);
  }

  private apply(next: State, reason: string): void {
    const now = this.clock.now();
    const before = { trusted: this.trustedRoots(now).map((r) => fingerprint(r.certificate)).join(), signer: fingerprint(this.signer(now).certificate) };
    this.state = next;
    this.schedulePhases();
    const after = { trusted: this.trustedRoots(now).map((r) => fingerprint(r.certificate)).join(), signer: fingerprint(this.signer(now).certificate) };
    const change = { trustBundle: before.trusted !== after.trusted, signer: before.signer !== after.signer, reason };
    if (!change.trustBundle && !change.signer) return;
    this.log.info('CA changed', { reason, roots: this.trustBundle().roots.map((r) => r.subject), signer: this.signer(now).certificate.subject });
    warnIfExpiring(this.log, 'root', next.current.certificate, now);
    this.changes.emit(change);
  }

  /** Timers for the rotation steps still ahead. */
  private schedulePhases(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    const { rotation, previous } = this.state;
    if (!rotation || !previous) return;
    const now = this.clock.now();
    if (now < rotation.signWithCurrentFrom) {
      this.timers.push(
        this.clock.at(rotation.signWithCurrentFrom, () => {
          this.log.info('root rotation: signing with the new root', { root: this.state.current.certificate.subject });
          this.changes.emit({ trustBundle: false, signer: true, reason: 'root rotation: signing switched to the new root' });
        }),
      );
    }
    if (now < rotation.trustPreviousUntil) {
      this.timers.push(
        this.clock.at(rotation.trustPreviousUntil, () => {
          this.log.info('root rotation: the previous root is no longer trusted', { root: previous.certificate.subject });
          this.changes.emit({ trustBundle: true, signer: false, reason: 'root rotation: previous root retired' });
        }),
      );
    }
  }

  onChange(listener: (change: ProviderChange) => void): () => void {
    return this.changes.add(listener);
  }

  async close(): Promise<void> {
    this.watcher?.close();
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }
}
