/**
 * `compile --ca DIR [--emit-secrets]`: certificates in an offline compile.
 *
 * By default `secrets.yaml` names the secrets and nothing more (policy, safe to commit). With
 * `--ca`, the trust anchors get the CA's trust bundle (`trusted_ca`: public roots, still safe to
 * commit). Private keys are written only with `--emit-secrets`: then each workload directory gets
 * `tls.crt` and `tls.key` (mode 0600), and its `service-cert` secret points at them by file name,
 * so the key never sits inside a YAML file that gets diffed, reviewed and pasted around.
 *
 * A step applied to one proxy at a time (ProxyCertificates), as the compile session hands the
 * proxies out: it keeps the CA provider, the certificates issued so far (one per identity, shared
 * by the workloads of a service account) and the trust-bundle secrets already made (one object
 * per distinct secret, shared by every proxy that names it), never the proxies.
 */
import { resolve } from 'node:path';
import { treePath } from '../compiler/tree-paths.ts';
import { diagnostic, formatDiagnostic } from '../diagnostics/diagnostic.ts';
import { withXdsTls } from '../emit/bootstrap.ts';
import type { EnvoyResource, ProxyConfig } from '../emit/types.ts';
import { CONTROL_PLANE_ACCOUNT, DEFAULT_LIFETIME_MS, principalName, spiffeId, serviceCertName, type CertificateProvider, type IssuedCertificate, type WorkloadIdentity } from '../identity/index.ts';
import { KEY_FILE_MODE } from '../identity/files.ts';
import { isRootCertSecret, withTrustBundle } from '../identity/trust-bundle.ts';
import { loadProvider, loadTrustBundle, type CaProviderKind } from './ca-command.ts';

export interface CompileCertificateOptions {
  readonly ca: string;
  readonly caProvider: CaProviderKind;
  readonly emitSecrets: boolean;
  /** The output directory as given (`-o`): secrets.yaml names the key files by absolute path in it. */
  readonly outDir?: string;
  readonly lifetimeMs?: number;
  /** A provider to issue with instead of loading `ca` (`compile --verify-envoy`'s throwaway CA); closed with this. */
  readonly provider?: CertificateProvider;
}

/** A file of the output tree beside a proxy's config (tls.crt, tls.key). */
export interface CertificateFile {
  /** Relative path with `/`: `<namespace>/<workload>/tls.crt`. */
  readonly path: string;
  readonly content: string;
  /** Set for files that must not be world-readable (the key: 0600); undefined: the tree's default. */
  readonly mode?: number;
}

export interface CertifiedProxy {
  /** The proxy with trust bundles in its root-cert secrets and, with `emitSecrets`, its service-cert pointing at the files. */
  readonly proxy: ProxyConfig;
  /** The certificate files of the proxy's directory, in path order (none without `emitSecrets`). */
  readonly files: readonly CertificateFile[];
}

/** What SMI6009 reports once the keys are written. */
export interface KeysWritten {
  /** Workload directories given a private key. */
  readonly keys: number;
  /** The earliest expiry among the issued certificates. */
  readonly notAfter?: Date;
}

/**
 * Certificates for the proxies of one compile, one proxy at a time (`apply`): `open` loads the CA
 * (a CertificateError, e.g. SMI6001, when it is unusable), `close` releases it. Memory: the
 * provider, one issued certificate per identity, one trust-bundle secret per distinct root-cert
 * secret, and the certificate files of the last directory; not the proxies.
 *
 * Give it the proxies in path order (`session.proxies('path')`), as the CLI does: two workloads
 * that share a directory (same namespace and name, different kinds) then come one after the
 * other, and the directory keeps the certificate files of the last of them that has one, as the
 * output tree keeps the files of the last one.
 */
export class ProxyCertificates implements KeysWritten {
  private readonly bundle: string;
  private readonly issued = new Map<string, IssuedCertificate>(); // by principal: one certificate per identity
  /** Root-cert secrets with the trust bundle, by the emitted secret (emit shares the outbound ones)... */
  private readonly bySecret = new WeakMap<EnvoyResource, EnvoyResource>();
  /** ...and by content, for those emit makes afresh for each proxy (the inbound one). */
  private readonly byContent = new Map<string, EnvoyResource>();
  private dir: string | undefined;
  private dirFiles: readonly CertificateFile[] = [];
  private keyDir: string | undefined;
  private keyCount = 0;
  private earliest: Date | undefined;
  private closed = false;

  private constructor(
    /** The CA that issues, with `emitSecrets` only. */
    private readonly provider: CertificateProvider | undefined,
    private readonly opts: CompileCertificateOptions,
  ) {
    this.bundle = provider ? provider.trustBundle().pem : loadTrustBundle(opts.caProvider, opts.ca).pem;
  }

  /**
   * Loads the CA: with `emitSecrets` the whole CA, key included; without, its certificates only
   * (the trust bundle is public: a CI job embedding it need not hold the CA's key). Throws
   * CertificateError when the CA is unusable.
   */
  static async open(opts: CompileCertificateOptions): Promise<ProxyCertificates> {
    if (opts.provider) return new ProxyCertificates(opts.provider, opts);
    if (!opts.emitSecrets) return new ProxyCertificates(undefined, opts);
    const provider = await loadProvider(opts.caProvider, opts.ca);
    try {
      return new ProxyCertificates(provider, opts);
    } catch (err) {
      await provider.close();
      throw err;
    }
  }

  get keys(): number {
    return this.keyCount;
  }

  get notAfter(): Date | undefined {
    return this.earliest;
  }

  /** The proxy with its certificates. Throws CertificateError when the CA cannot issue. */
  async apply(proxy: ProxyConfig): Promise<CertifiedProxy> {
    if (this.closed) throw new Error('ProxyCertificates: apply() after close()');
    let secrets = proxy.resources.secrets.map((s) => this.withTrustBundle(s));
    const dir = treePath(proxy.namespace, proxy.workload); // OutputTreeError (SMI4001) for a name that is not a plain file name
    if (dir !== this.dir) {
      this.dir = dir;
      this.dirFiles = [];
    }
    const identity: WorkloadIdentity | undefined = proxy.identity && { namespace: proxy.namespace, ...proxy.identity };
    const certName = identity && serviceCertName(identity);
    const abs = (f: string): string => resolve(this.opts.outDir ?? '.', ...dir.split('/'), f);
    // Every workload with an identity gets a certificate: its xDS connection needs one, even
    // when none of its listeners or clusters has a TLS context.
    if (this.opts.emitSecrets && identity) {
      const cert = await this.certificate(identity);
      this.dirFiles = [
        { path: `${dir}/tls.crt`, content: cert.chainPem },
        { path: `${dir}/tls.key`, content: cert.privateKeyPem, mode: KEY_FILE_MODE },
      ];
      if (this.keyDir !== dir) {
        this.keyDir = dir;
        this.keyCount++;
      }
      secrets = secrets.map((s) =>
        s.name === certName ? { ...s, tls_certificate: { certificate_chain: { filename: abs('tls.crt') }, private_key: { filename: abs('tls.key') } } } : s,
      );
    }
    // `serve --ca` takes mTLS only: the bootstrap dials it with the certificate files of the
    // workload's directory (written by --emit-secrets, else put there by whoever deploys it).
    const bootstrap = identity
      ? withXdsTls(proxy.bootstrap, {
          certificateChainFile: abs('tls.crt'),
          privateKeyFile: abs('tls.key'),
          trustedCa: this.bundle,
          serverSpiffeId: spiffeId({ ...CONTROL_PLANE_ACCOUNT, trustDomain: identity.trustDomain }),
        })
      : proxy.bootstrap;
    return { proxy: { ...proxy, resources: { ...proxy.resources, secrets }, bootstrap }, files: this.dirFiles };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.provider?.close();
  }

  private async certificate(identity: WorkloadIdentity): Promise<IssuedCertificate> {
    const key = principalName(identity);
    let cert = this.issued.get(key);
    if (!cert) {
      if (!this.provider) throw new Error('ProxyCertificates: a certificate asked for without emitSecrets');
      cert = await this.provider.issue({ identity, lifetimeMs: this.opts.lifetimeMs ?? DEFAULT_LIFETIME_MS });
      this.issued.set(key, cert);
      if (!this.earliest || cert.notAfter < this.earliest) this.earliest = cert.notAfter;
    }
    return cert;
  }

  /** A root-cert secret with `trusted_ca` first in its validation context; the same object for the same secret. */
  private withTrustBundle(secret: EnvoyResource): EnvoyResource {
    if (!isRootCertSecret(String(secret.name))) return secret;
    let out = this.bySecret.get(secret);
    if (out) return out;
    const content = JSON.stringify(secret);
    out = this.byContent.get(content);
    if (!out) {
      out = withTrustBundle(secret, this.bundle);
      this.byContent.set(content, out);
    }
    this.bySecret.set(secret, out);
    return out;
  }
}

/** SMI6009, printed after keys were written. */
export function privateKeysWarning(certs: KeysWritten, outDir: string): string {
  const d = diagnostic('private-keys-written', { count: certs.keys, dir: outDir, notAfter: certs.notAfter?.toISOString() ?? '?' });
  return `${formatDiagnostic(d)}\n`;
}
