/**
 * `smi-compile ca init|issue|rotate`: the built-in CA from the command line.
 *
 * - `ca init DIR` makes a root (ca.crt, and ca.key at mode 0600); it never replaces one
 *   without `--force`, because every certificate the old root issued stops being trusted.
 * - `ca issue DIR --identity <sa>.<ns> --out OUT` writes tls.crt, tls.key (0600) and ca.crt in
 *   the layout cert-manager uses, for proxies that read files: a gRPC `file_watcher`
 *   certificate provider, an Envoy bootstrapping its xDS connection, a test.
 * - `ca rotate DIR` starts a root rotation that a running `serve --ca DIR` follows.
 */
import { join, resolve } from 'node:path';
import { formatDiagnostic } from '../diagnostics/diagnostic.ts';
import {
  BuiltinCa,
  CaExistsError,
  CertificateError,
  DEFAULT_LIFETIME_MS,
  FileProvider,
  parseIdentityArg,
  principalName,
  spiffeId,
  type CertificateProvider,
  type TrustBundle,
} from '../identity/index.ts';
import { CERT_FILE_MODE, KEY_FILE_MODE, writeFileAtomic } from '../identity/files.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIO } from './io.ts';

export type CaProviderKind = 'builtin' | 'file';

/** The CA in `dir`, built-in or an operator's files; CertificateError when it does not load. */
export async function loadProvider(kind: CaProviderKind, dir: string): Promise<CertificateProvider> {
  return kind === 'file' ? FileProvider.load(dir, { watch: false }) : BuiltinCa.load(dir);
}

/**
 * What peers of the CA in `dir` trust, read from its certificates only: the key is not read, so a
 * CI job that embeds the bundle (`compile --ca` without `--emit-secrets`) need not hold it.
 * CertificateError when the certificates do not load.
 */
export function loadTrustBundle(kind: CaProviderKind, dir: string): TrustBundle {
  return kind === 'file' ? FileProvider.trustBundleIn(dir) : BuiltinCa.trustBundleIn(dir);
}

/** Runs a CA command, turning CA problems into diagnostics (exit 1) and `ca init` collisions into usage errors. */
async function guarded(io: CliIO, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CaExistsError) throw new UsageError(err.message);
    if (err instanceof CertificateError) {
      io.stderr(`${formatDiagnostic(err.diagnostic)}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

export interface CaInitOptions {
  force?: boolean;
  rootLifetime?: number;
}

export function runCaInit(dir: string, opts: CaInitOptions, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const ca = await BuiltinCa.init(dir, { force: opts.force, rootLifetimeMs: opts.rootLifetime });
    const root = ca.trustBundle().roots[0];
    io.stderr(
      `wrote ${join(dir, 'ca.crt')} and ${join(dir, 'ca.key')} (mode 0600): ${root.subject}, sha256 ${root.fingerprint.slice(0, 16)}…, valid until ${root.notAfter.toISOString()}\n` +
        `keep ca.key secret; serve with: smi-compile serve <manifests> --ca ${dir}\n`,
    );
    await ca.close();
    return EXIT_OK;
  });
}

export interface CaIssueOptions {
  identity: string;
  out: string;
  trustDomain?: string;
  lifetime?: number;
  caProvider: CaProviderKind;
}

export function runCaIssue(dir: string, opts: CaIssueOptions, io: CliIO): Promise<number> {
  let identity;
  try {
    identity = parseIdentityArg(opts.identity, opts.trustDomain);
  } catch (err) {
    throw new UsageError(`--identity: ${err instanceof Error ? err.message : String(err)}`);
  }
  const id = identity;
  return guarded(io, async () => {
    const provider = await loadProvider(opts.caProvider, dir);
    const issued = await provider.issue({ identity: id, lifetimeMs: opts.lifetime ?? DEFAULT_LIFETIME_MS });
    // Key first: a file watcher that sees the new certificate must find its key.
    writeFileAtomic(join(opts.out, 'tls.key'), issued.privateKeyPem, KEY_FILE_MODE);
    writeFileAtomic(join(opts.out, 'tls.crt'), issued.chainPem, CERT_FILE_MODE);
    writeFileAtomic(join(opts.out, 'ca.crt'), provider.trustBundle().pem, CERT_FILE_MODE);
    await provider.close();
    io.stderr(
      `wrote ${join(opts.out, 'tls.crt')}, ${join(opts.out, 'tls.key')} (mode 0600) and ${join(opts.out, 'ca.crt')}: ` +
        `${principalName(id)} (${spiffeId(id)}), valid until ${issued.notAfter.toISOString()}\n`,
    );
    io.stdout(`${resolve(opts.out)}\n`);
    return EXIT_OK;
  });
}

export interface CaRotateOptions {
  propagation?: number;
  overlap?: number;
}

export function runCaRotate(dir: string, opts: CaRotateOptions, io: CliIO): Promise<number> {
  return guarded(io, async () => {
    const ca = await BuiltinCa.load(dir, { propagationMs: opts.propagation, overlapMs: opts.overlap });
    await ca.rotate();
    const [next, previous] = ca.trustBundle().roots;
    io.stderr(
      `root rotation started in ${dir}: new root ${next.subject}; ${previous.subject} keeps signing for ${Math.round((opts.propagation ?? 15 * 60_000) / 60_000)} min ` +
        `and stays trusted ${Math.round((opts.overlap ?? 24 * 3_600_000) / 3_600_000)} h longer (see rotation.json); a running serve --ca ${dir} follows\n`,
    );
    await ca.close();
    return EXIT_OK;
  });
}
