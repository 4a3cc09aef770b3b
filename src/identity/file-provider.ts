/**
 * The file provider: an operator's own PKI signs the mesh, through a CA certificate it hands
 * us as files, in the layout cert-manager writes for a Certificate with `isCA: true` (and
 * Vault agent templates commonly reproduce):
 *
 * ```
 * DIR/tls.crt   the CA certificate workload certificates are signed with (an intermediate),
 *               optionally followed by the intermediates above it
 * DIR/tls.key   its private key (PKCS#8, SEC1 or PKCS#1 PEM; ECDSA or RSA)
 * DIR/ca.crt    the roots peers trust; during a root rotation, old and new together
 * ```
 *
 * The files are re-read when they change (cert-manager renewing the intermediate, trust-manager
 * adding a new root). New material that does not hold together (the key is not the
 * certificate's, the CA does not chain to ca.crt) is reported and ignored: the mesh keeps
 * running on the last good CA rather than breaking every handshake at once.
 */
import { join } from 'node:path';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { systemClock, type Clock } from './clock.ts';
import { watchDirectory, type DirectoryWatch } from './dir-watch.ts';
import { readOptional } from './files.ts';
import { issueWith, warnIfExpiring, type Signer } from './issue.ts';
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
import { fingerprint, importSigningKey, isCaCertificate, issuedBy, keyMatches, parseCertificates, trustBundleOf, type Certificate } from './x509.ts';

export const FILE_PROVIDER_FILES = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;
const ALL_FILES = Object.values(FILE_PROVIDER_FILES);

export interface FileProviderOptions {
  readonly clock?: Clock;
  readonly skewMs?: number;
  readonly log?: IdentityLog;
  /** Re-read the files when they change (default true). */
  readonly watch?: boolean;
  readonly pollMs?: number;
}

interface Material {
  readonly signer: Signer;
  readonly roots: readonly Certificate[];
}

const MAX_CHAIN = 8;

function isSelfSigned(c: Certificate): boolean {
  return c.subject === c.issuer && issuedBy(c, c);
}

function invalidFile(dir: string, file: string, detail: string): CertificateError {
  return new CertificateError(diagnostic('ca-invalid', { file: join(dir, file), detail }));
}

/** The certificates in `dir/file` (SMI6002 when there are none, or it is not PEM). */
function parseCertificateFile(dir: string, file: string, pem: string): Certificate[] {
  let certs: Certificate[];
  try {
    certs = parseCertificates(pem);
  } catch (err) {
    throw invalidFile(dir, file, `not a PEM certificate (${err instanceof Error ? err.message : String(err)})`);
  }
  if (certs.length === 0) throw invalidFile(dir, file, 'holds no certificate');
  return certs;
}

/** What peers trust: ca.crt, or `ca` itself when it is a self-signed root and there is no ca.crt (SMI6001). */
function trustedRoots(dir: string, caPem: string | undefined, ca: Certificate): Certificate[] {
  if (caPem !== undefined) return parseCertificateFile(dir, FILE_PROVIDER_FILES.ca, caPem);
  if (isSelfSigned(ca)) return [ca];
  throw new CertificateError(diagnostic('ca-missing-file', { dir, file: FILE_PROVIDER_FILES.ca }));
}

async function readMaterial(dir: string, now: number): Promise<Material> {
  const read = (file: string): string | undefined => readOptional(join(dir, file));
  const invalid = (file: string, detail: string): CertificateError => invalidFile(dir, file, detail);
  const parse = (file: string, pem: string): Certificate[] => parseCertificateFile(dir, file, pem);

  const certPem = read(FILE_PROVIDER_FILES.cert);
  if (certPem === undefined) throw new CertificateError(diagnostic('ca-missing-file', { dir, file: FILE_PROVIDER_FILES.cert }));
  const keyPem = read(FILE_PROVIDER_FILES.key);
  if (keyPem === undefined) throw new CertificateError(diagnostic('ca-missing-file', { dir, file: FILE_PROVIDER_FILES.key }));
  const chain = parse(FILE_PROVIDER_FILES.cert, certPem);
  const ca = chain[0];
  if (!isCaCertificate(ca)) {
    throw invalid(FILE_PROVIDER_FILES.cert, 'not a CA certificate (basic constraints CA:TRUE and key usage keyCertSign); with cert-manager, set isCA: true');
  }
  if (ca.notAfter.getTime() <= now) throw invalid(FILE_PROVIDER_FILES.cert, `the CA certificate expired at ${ca.notAfter.toISOString()}`);
  let key;
  try {
    key = await importSigningKey(keyPem);
    if (!keyMatches(ca, keyPem)) throw new Error(`it is not the key of ${FILE_PROVIDER_FILES.cert}`);
  } catch (err) {
    throw invalid(FILE_PROVIDER_FILES.key, err instanceof Error ? err.message : String(err));
  }

  // ca.crt may be absent when tls.crt is itself a self-signed root (a CA made by hand).
  const roots = trustedRoots(dir, read(FILE_PROVIDER_FILES.ca), ca);

  // Walk up from the signing CA through tls.crt's extra certificates to one of the roots.
  const isRoot = (c: Certificate): boolean => roots.some((r) => fingerprint(r) === fingerprint(c));
  let at = ca;
  for (let steps = 0; !isRoot(at) && !roots.some((r) => issuedBy(at, r)); steps++) {
    const up = chain.find((c) => c !== at && issuedBy(at, c));
    if (!up || steps >= MAX_CHAIN) {
      throw new CertificateError(diagnostic('ca-untrusted-chain', { file: join(dir, FILE_PROVIDER_FILES.cert), bundle: join(dir, FILE_PROVIDER_FILES.ca) }));
    }
    at = up;
  }
  // Presented after each leaf: every CA between it and the root, never the root itself.
  const intermediates = chain.filter((c) => !isRoot(c) && !isSelfSigned(c));
  return { signer: { certificate: ca, key, intermediates }, roots };
}

export class FileProvider implements CertificateProvider {
  readonly kind = 'file' as const;
  private readonly clock: Clock;
  private readonly log: IdentityLog;
  private readonly changes = new Listeners<ProviderChange>();
  private readonly watcher: DirectoryWatch | undefined;
  private loadedAt: number;

  private constructor(
    private material: Material,
    private readonly dir: string,
    private readonly opts: FileProviderOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLog;
    this.loadedAt = this.clock.now();
    this.warnExpiring();
    if (opts.watch ?? true) this.watcher = watchDirectory(dir, ALL_FILES, () => void this.reload(), { pollMs: opts.pollMs });
  }

  /**
   * What peers trust, from the certificates alone: ca.crt, or tls.crt when it is a self-signed
   * root and there is no ca.crt (as `load` reads them). `compile --ca` embeds it without reading
   * the CA's key. Throws CertificateError (SMI6001, SMI6002).
   */
  static trustBundleIn(dir: string): TrustBundle {
    const caPem = readOptional(join(dir, FILE_PROVIDER_FILES.ca));
    if (caPem !== undefined) return trustBundleOf(parseCertificateFile(dir, FILE_PROVIDER_FILES.ca, caPem));
    const certPem = readOptional(join(dir, FILE_PROVIDER_FILES.cert));
    if (certPem === undefined) throw new CertificateError(diagnostic('ca-missing-file', { dir, file: FILE_PROVIDER_FILES.ca }));
    return trustBundleOf(trustedRoots(dir, undefined, parseCertificateFile(dir, FILE_PROVIDER_FILES.cert, certPem)[0]));
  }

  /** Throws CertificateError (SMI6001-SMI6003) when the files do not make a usable CA. */
  static async load(dir: string, opts: FileProviderOptions = {}): Promise<FileProvider> {
    return new FileProvider(await readMaterial(dir, (opts.clock ?? systemClock).now()), dir, opts);
  }

  async issue(req: IssueRequest): Promise<IssuedCertificate> {
    return issueWith(this.material.signer, req, this.clock.now(), this.opts.skewMs);
  }

  trustBundle(): TrustBundle {
    return trustBundleOf(this.material.roots);
  }

  /** Re-reads the files now. */
  rotate(): Promise<void> {
    return this.reload();
  }

  async reload(): Promise<void> {
    let next: Material;
    try {
      next = await readMaterial(this.dir, this.clock.now());
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (err instanceof CertificateError) logDiagnostic(this.log, err.diagnostic);
      logDiagnostic(this.log, diagnostic('ca-reload-failed', { dir: this.dir, detail, loadedAt: new Date(this.loadedAt).toISOString() }));
      return;
    }
    const before = this.material;
    this.material = next;
    this.loadedAt = this.clock.now();
    const roots = (m: Material): string => m.roots.map(fingerprint).join();
    const change = {
      trustBundle: roots(before) !== roots(next),
      signer: fingerprint(before.signer.certificate) !== fingerprint(next.signer.certificate),
      reason: `${this.dir} changed`,
    };
    if (!change.trustBundle && !change.signer) return;
    this.log.info('CA files reloaded', { dir: this.dir, signer: next.signer.certificate.subject, roots: next.roots.map((r) => r.subject) });
    this.warnExpiring();
    this.changes.emit(change);
  }

  private warnExpiring(): void {
    const now = this.clock.now();
    warnIfExpiring(this.log, 'signing CA', this.material.signer.certificate, now);
    for (const r of this.material.roots) warnIfExpiring(this.log, 'root', r, now);
  }

  onChange(listener: (change: ProviderChange) => void): () => void {
    return this.changes.add(listener);
  }

  async close(): Promise<void> {
    this.watcher?.close();
  }
}
