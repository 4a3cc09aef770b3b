/**
 * `compile --ca DIR [--emit-secrets]`: certificates in an offline compile.
 *
 * By default `secrets.yaml` names the secrets and nothing more (policy, safe to commit). With
 * `--ca`, the trust anchors get the CA's trust bundle (`trusted_ca`: public roots, still safe to
 * commit). Private keys are written only with `--emit-secrets`: then each workload directory gets
 * `tls.crt` and `tls.key` (mode 0600), and its `service-cert` secret points at them by file name,
 * so the key never sits inside a YAML file that gets diffed, reviewed and pasted around.
 */
import { resolve } from 'node:path';
import type { OutputTree } from '../compiler/output-tree.ts';
import { diagnostic, formatDiagnostic } from '../diagnostics/diagnostic.ts';
import type { EnvoyResource, ProxyConfig } from '../emit/types.ts';
import { CertificateError, DEFAULT_LIFETIME_MS, principalName, serviceCertName, type IssuedCertificate, type WorkloadIdentity } from '../identity/index.ts';
import { KEY_FILE_MODE } from '../identity/files.ts';
import { loadProvider, type CaProviderKind } from './ca-command.ts';

export interface CompileCertificateOptions {
  readonly ca: string;
  readonly caProvider: CaProviderKind;
  readonly emitSecrets: boolean;
  /** The output directory as given (`-o`): secrets.yaml names the key files by absolute path in it. */
  readonly outDir?: string;
  readonly lifetimeMs?: number;
}

export interface CompiledCertificates {
  readonly proxies: ProxyConfig[];
  /** Extra files of the output tree (tls.crt, tls.key), by relative path. */
  readonly files: Map<string, string>;
  /** File modes for those that must not be world-readable. */
  readonly modes: Map<string, number>;
  readonly keys: number;
  /** The earliest expiry among the issued certificates. */
  readonly notAfter?: Date;
}

function withTrustBundle(secret: EnvoyResource, pem: string): EnvoyResource {
  if (!String(secret.name).startsWith('root-cert-for-mtls-')) return secret;
  const validation = (secret.validation_context ?? {}) as Record<string, unknown>;
  return { ...secret, validation_context: { trusted_ca: { inline_string: pem }, ...validation } };
}

export async function compileCertificates(proxies: readonly ProxyConfig[], opts: CompileCertificateOptions): Promise<CompiledCertificates> {
  const provider = await loadProvider(opts.caProvider, opts.ca);
  try {
    const bundle = provider.trustBundle().pem;
    const files = new Map<string, string>();
    const modes = new Map<string, number>();
    const issued = new Map<string, IssuedCertificate>(); // one certificate per identity, shared by its workloads
    let notAfter: Date | undefined;
    const out: ProxyConfig[] = [];
    for (const proxy of proxies) {
      let secrets = proxy.resources.secrets.map((s) => withTrustBundle(s, bundle));
      const identity: WorkloadIdentity | undefined = proxy.identity && { namespace: proxy.namespace, ...proxy.identity };
      const certName = identity && serviceCertName(identity);
      if (opts.emitSecrets && identity && secrets.some((s) => s.name === certName)) {
        const key = principalName(identity);
        let cert = issued.get(key);
        if (!cert) {
          cert = await provider.issue({ identity, lifetimeMs: opts.lifetimeMs ?? DEFAULT_LIFETIME_MS });
          issued.set(key, cert);
          if (!notAfter || cert.notAfter < notAfter) notAfter = cert.notAfter;
        }
        const dir = `${proxy.namespace}/${proxy.workload}`;
        files.set(`${dir}/tls.crt`, cert.chainPem);
        files.set(`${dir}/tls.key`, cert.privateKeyPem);
        modes.set(`${dir}/tls.key`, KEY_FILE_MODE);
        const abs = (f: string): string => resolve(opts.outDir ?? '.', proxy.namespace, proxy.workload, f);
        secrets = secrets.map((s) =>
          s.name === certName ? { ...s, tls_certificate: { certificate_chain: { filename: abs('tls.crt') }, private_key: { filename: abs('tls.key') } } } : s,
        );
      }
      out.push({ ...proxy, resources: { ...proxy.resources, secrets } });
    }
    return { proxies: out, files, modes, keys: modes.size, notAfter };
  } finally {
    await provider.close();
  }
}

/** `compileCertificates`, with an unusable CA printed as its diagnostic (undefined: exit 1). */
export async function compileCertificatesOrReport(
  proxies: readonly ProxyConfig[],
  opts: CompileCertificateOptions,
  stderr: (text: string) => void,
): Promise<CompiledCertificates | undefined> {
  try {
    return await compileCertificates(proxies, opts);
  } catch (err) {
    if (!(err instanceof CertificateError)) throw err;
    stderr(`${formatDiagnostic(err.diagnostic)}\n`);
    return undefined;
  }
}

/** The rendered tree plus the certificate files, in path order as renderTree keeps it. */
export function withCertificateFiles(tree: OutputTree, files: ReadonlyMap<string, string> | undefined): OutputTree {
  if (!files || files.size === 0) return tree;
  return new Map([...tree, ...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** SMI6009, printed after keys were written. */
export function privateKeysWarning(certs: CompiledCertificates, outDir: string): string {
  const d = diagnostic('private-keys-written', { count: certs.keys, dir: outDir, notAfter: certs.notAfter?.toISOString() ?? '?' });
  return `${formatDiagnostic(d)}\n`;
}
