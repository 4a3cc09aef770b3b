/**
 * `smi-compile [compile] <paths...>`: compile to an output tree, or check one against goldens.
 * A compile with any error writes nothing.
 *
 * The tree is streamed: each proxy is emitted, proto-checked, serialised and written (or
 * compared with its golden files) before the next is emitted, so memory holds the mesh, the
 * objects proxies share, and one proxy's files; never the whole tree (in permissive mode the
 * tree grows with the square of the services: ≈5.7 GB of YAML at 1,000). Errors of the
 * earlier stages are known before the first file is written; a proto failure (SMI9001)
 * found on the way removes the staging directory and leaves the old tree.
 *
 * `--ca` (and `--emit-secrets`) stream too: the CA is loaded before the first proxy, and each
 * proxy gets its trust bundles (and certificate) on its way to the writer (ProxyCertificates in
 * compile-secrets.ts keeps the certificates issued so far, one per identity, not the proxies).
 */
import { startCompilePaths } from '../compiler/compile.ts';
import { OutputTreeError, renderProxy, SharedTexts, StagedTree, type OutputFormat } from '../compiler/output-tree.ts';
import type { GoldenComparison } from '../compiler/tree-diff.ts';
import { rootKind } from '../compiler/tree-manifest.ts';
import { atLeast, diagnostic, formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
// Not identity/index.ts: that loads @peculiar/x509 (≈ 0.2 s of CPU), which only --ca needs.
import { CertificateError } from '../identity/provider.ts';
import type { CaProviderKind } from './ca-command.ts';
// --ca and --verify-envoy load their modules (and the CA's libraries) when given: import type only.
import type { ProxyCertificates } from './compile-secrets.ts';
import { PatchSpool } from './patch-spool.ts';
import { findEnvoy, NO_ENVOY_MESSAGE } from '../envoy/find-envoy.ts';
import { envoyVersion } from '../envoy/validate.ts';
import type { EnvoyVerifier } from './verify-envoy.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type CliIO } from './io.ts';
import { recordPhase, recordPhases } from './profile.ts';
import { nodeId } from '../ir/names.ts';

export interface CompileCommandOptions {
  output?: string;
  /** `config-dump`: the yaml files and `config_dump.json` (src/compiler/config-dump.ts). */
  format: OutputFormat | 'config-dump';
  check?: string;
  update?: boolean;
  trustDomain?: string;
  xdsAddress?: string;
  xdsPort?: number;
  verbose?: boolean;
  /** A CA: trust bundles in secrets.yaml; with `emitSecrets`, certificates and keys too (compile-secrets.ts). */
  ca?: string;
  caProvider?: CaProviderKind;
  emitSecrets?: boolean;
  certLifetime?: number;
  maxFileSize?: number;
  /** Also write bootstrap-static.<format> per workload (src/emit/static-bootstrap.ts). */
  static?: boolean;
  /** Run the real Envoy (`--mode validate`) on every workload's static bootstrap (verify-envoy.ts). */
  verifyEnvoy?: boolean;
}

export function printDiagnostics(diagnostics: readonly Diagnostic[], io: CliIO, verbose = false): void {
  for (const d of diagnostics) {
    if (!verbose && !atLeast(d.level, 'warning')) continue;
    io.stderr(`${formatDiagnostic(d)}\n`);
  }
}

function countBy(diagnostics: readonly Diagnostic[], level: Diagnostic['level']): number {
  return diagnostics.filter((d) => d.level === level).length;
}

function plural(n: number, word: string): string {
  if (n === 1) return `1 ${word}`;
  return `${n} ${word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

/** Where a compile's files go: a staged output tree (`-o`, `--check --update`) and/or a golden comparison (`--check`). */
interface Sinks {
  readonly staged?: StagedTree;
  readonly golden?: GoldenComparison;
}

/** A file of the tree: relative path, content, and a mode when it must not be world-readable (tls.key). */
type TreeFile = [file: string, content: string, mode?: number];

/**
 * Hands a proxy's files on to the sinks, one workload directory at a time. Two workloads that
 * share a directory (same namespace and name, different kinds) come one after the other in path
 * order; the later one's files replace the earlier's, as in a rendered tree.
 */
class DirectoryBuffer {
  private dir: string | undefined;
  private files: TreeFile[] = [];
  constructor(private readonly sinks: Sinks) {}

  add(dir: string, files: TreeFile[]): void {
    if (dir !== this.dir) this.flush();
    this.dir = dir;
    this.files = files;
  }

  flush(): void {
    for (const [file, content, mode] of this.files) {
      this.sinks.golden?.add(file, content);
      this.sinks.staged?.write(file, content, mode);
    }
    this.files = [];
    this.dir = undefined;
  }
}

/** What stops a compile's output once it started: a CA that cannot issue, a path the tree refuses. Reported after the compile's own diagnostics. */
interface Stop {
  readonly diagnostic: Diagnostic;
  readonly exitCode: number;
}

function stopOf(err: unknown): Stop {
  if (err instanceof CertificateError) return { diagnostic: err.diagnostic, exitCode: EXIT_FAILURE };
  if (err instanceof OutputTreeError) return { diagnostic: err.diagnostic, exitCode: err.exitCode };
  throw err;
}

/**
 * @param start how the compile session is started: `startCompilePaths`, or a wrapper of it in
 * tests that watch the proxies go by (compile-command.test.ts).
 */
export async function runCompile(paths: string[], opts: CompileCommandOptions, io: CliIO, start: typeof startCompilePaths = startCompilePaths): Promise<number> {
  if (opts.update && !opts.check) throw new UsageError('--update needs --check GOLDEN_DIR (the tree to update)');
  if (opts.output && opts.check) throw new UsageError('use either -o DIR or --check GOLDEN_DIR, not both');
  if (opts.emitSecrets && !opts.ca) throw new UsageError('--emit-secrets needs --ca DIR, the CA that signs the certificates');
  if (opts.emitSecrets && opts.check) throw new UsageError('--emit-secrets cannot be checked against goldens: every run makes new keys');

  // --verify-envoy: Envoy is found (and runs) before anything is compiled.
  let envoy: { path: string; version: string } | undefined;
  if (opts.verifyEnvoy) {
    const found = findEnvoy(io.env);
    if (!found) throw new UsageError(`--verify-envoy: ${NO_ENVOY_MESSAGE}`);
    try {
      envoy = { path: found.path, version: envoyVersion(found.path) };
    } catch (err) {
      throw new UsageError(`--verify-envoy: Envoy from ${found.from} does not run: ${(err as Error).message}; ${NO_ENVOY_MESSAGE}`);
    }
  }

  const t0 = performance.now();
  const writeTo = opts.output ?? (opts.check && opts.update ? opts.check : undefined);
  let staged: StagedTree | undefined;
  let certs: ProxyCertificates | undefined;
  let verifier: EnvoyVerifier | undefined;
  const patches = new PatchSpool();
  try {
    // The directories first: one that is not ours (tree-manifest.ts), or a golden that is not
    // there, is refused before anything is compiled.
    if (opts.check && !opts.update && rootKind(opts.check) === undefined) {
      throw new OutputTreeError(diagnostic('golden-missing', { dir: opts.check }), EXIT_USAGE);
    }
    if (writeTo !== undefined) staged = new StagedTree(writeTo, { option: opts.output ? '-o' : '--check' });
    // --update prints no patches; --check spools them (patch-spool.ts) to print at the end. Loaded
    // only for --check: the diff library costs every other compile ≈ 50 ms of start-up.
    const golden = opts.check
      ? new (await import('../compiler/tree-diff.ts')).GoldenComparison(opts.check, opts.update ? undefined : (d) => patches.add(d.patch))
      : undefined;
    const sinks: Sinks = { staged, golden };

    // Read, parse, build and the passes run here: their errors are known before anything is emitted.
    const session = start(
      paths,
      { trustDomain: opts.trustDomain, xdsAddress: opts.xdsAddress, xdsPort: opts.xdsPort, maxFileSize: opts.maxFileSize },
      io.stdin,
    );
    const failed = (): number => {
      const result = session.result();
      printDiagnostics(result.diagnostics, io, opts.verbose);
      io.stderr(`${plural(countBy(result.diagnostics, 'error'), 'error')}, ${plural(countBy(result.diagnostics, 'warning'), 'warning')}; nothing written\n`);
      return EXIT_FAILURE;
    };
    if (!session.ok()) return failed();

    // `--ca`: the CA is loaded before the first proxy. A CA that cannot be used (or, later, cannot
    // issue), or a path the output tree refuses, is reported after the compile's own diagnostics,
    // as one that ran to the end: the rest is still emitted and checked (not written), and an
    // error there wins, as it always has.
    let stop: Stop | undefined;
    if (opts.ca) {
      try {
        const { ProxyCertificates } = await import('./compile-secrets.ts');
        certs = await ProxyCertificates.open({
          ca: opts.ca,
          caProvider: opts.caProvider ?? 'builtin',
          emitSecrets: Boolean(opts.emitSecrets),
          // Where the tree lives: bootstrap.yaml names the certificate files in it.
          outDir: opts.output ?? opts.check,
          lifetimeMs: opts.certLifetime,
        });
      } catch (err) {
        stop = stopOf(err);
      }
    }

    verifier = envoy && (await (await import('./verify-envoy.ts')).EnvoyVerifier.open(envoy.path, envoy.version));
    let count = 0;
    const buffer = new DirectoryBuffer(sinks);
    const sharedTexts = new SharedTexts();
    // The proxies, in path order, each emitted and proto-checked on demand, given its
    // certificates, rendered, written or compared, and dropped.
    for (const emitted of session.proxies('path')) {
      // An SMI9001 (a resource the Envoy protos reject) stops the output: the staging directory
      // goes, the old tree stays. The rest is still emitted and checked so that one run reports
      // every problem. So does a CA error or a refused path.
      if (!session.ok() || stop) {
        staged?.abort();
        continue;
      }
      await verifier?.add(emitted);
      try {
        let proxy = emitted;
        let certFiles: readonly TreeFile[] = [];
        if (certs) {
          const certified = await certs.apply(emitted);
          proxy = certified.proxy;
          certFiles = certified.files.map((f): TreeFile => [f.path, f.content, f.mode]);
        }
        count++;
        if (!staged && !golden) continue; // no -o, no --check: compiled and checked is all
        const r0 = performance.now();
        const files: TreeFile[] = renderProxy(proxy, opts.format === 'config-dump' ? 'yaml' : opts.format, { static: opts.static, configDump: opts.format === 'config-dump', sharedTexts });
        files.push(...certFiles);
        const r1 = performance.now();
        buffer.add(nodeId(proxy), files);
        recordPhase('render', r1 - r0);
        recordPhase('write', performance.now() - r1);
      } catch (err) {
        stop = stopOf(err);
        staged?.abort();
      }
    }
    await certs?.close();
    // Envoy's verdicts are in before anything is put in place: a tree Envoy rejects is not written.
    const rejections = (await verifier?.finish()) ?? [];
    if (rejections.length > 0) {
      staged?.abort();
      printDiagnostics(session.result().diagnostics, io, opts.verbose);
      for (const d of rejections) io.stderr(`${formatDiagnostic(d)}\n`);
      io.stderr(`Envoy ${envoy?.version} refuses ${plural(rejections.length, 'workload')} of ${count}; nothing written\n`);
      return EXIT_FAILURE;
    }
    if (session.ok() && !stop) {
      try {
        const w0 = performance.now();
        buffer.flush();
        recordPhase('write', performance.now() - w0);
      } catch (err) {
        stop = stopOf(err);
        staged?.abort();
      }
    }
    const result = session.result();
    recordPhases(result.timings);
    if (!result.ok) return failed();
    printDiagnostics(result.diagnostics, io, opts.verbose);
    if (stop) {
      io.stderr(`${formatDiagnostic(stop.diagnostic)}\n`);
      return stop.exitCode;
    }
    if (verifier) io.stderr(`Envoy ${envoy?.version} (${envoy?.path}) accepts all ${plural(verifier.accepted, 'workload')}\n`);
    const warnings = countBy(result.diagnostics, 'warning');
    const withWarnings = warnings ? ` with ${plural(warnings, 'warning')}` : '';

    if (golden) {
      const differences = golden.finish();
      if (differences.length === 0) {
        io.stderr(`${opts.check}: up to date (${plural(golden.files, 'file')}, ${plural(count, 'proxy')}${warnings ? `, ${plural(warnings, 'warning')}` : ''})\n`);
        return EXIT_OK; // --update: the staged copy is dropped (finally), the golden tree left untouched
      }
      if (staged) {
        staged.commit();
        io.stderr(`${opts.check}: updated ${plural(differences.length, 'file')}\n`);
        for (const d of differences) io.stderr(`  ${d.kind.padEnd(10)} ${d.file}\n`);
        return EXIT_OK;
      }
      patches.replay(io.stdout);
      io.stderr(
        `${opts.check}: ${plural(differences.length, 'file')} differ (${differences.map((d) => d.kind).filter((k, i, a) => a.indexOf(k) === i).join(', ')}); review the diff, then rerun with --update to accept it\n`,
      );
      return EXIT_FAILURE;
    }

    const ms = Math.round(performance.now() - t0);
    if (!staged || !opts.output) {
      io.stderr(`compiled ${plural(count, 'proxy')} in ${ms} ms${withWarnings}; pass -o DIR to write them\n`);
      return EXIT_OK;
    }
    const c0 = performance.now();
    const written = staged.commit();
    recordPhase('write', performance.now() - c0);
    io.stderr(`wrote ${plural(count, 'proxy')} (${plural(written.files, 'file')}, ${(written.bytes / 1024).toFixed(1)} KiB) to ${opts.output} in ${ms} ms${withWarnings}\n`);
    if (certs && certs.keys > 0) io.stderr((await import('./compile-secrets.ts')).privateKeysWarning(certs, opts.output));
    return EXIT_OK;
  } catch (err) {
    // A directory that is not ours, a golden tree that cannot be read, a commit the file system
    // refused: a coded diagnostic, and nothing written.
    if (!(err instanceof OutputTreeError)) throw err;
    io.stderr(`${formatDiagnostic(err.diagnostic)}\n`);
    return err.exitCode;
  } finally {
    patches.close();
    staged?.abort(); // a no-op once committed; otherwise nothing of this compile is left behind
    await certs?.close(); // a no-op once closed
    await verifier?.close();
  }
}
