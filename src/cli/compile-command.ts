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
 */
import { existsSync } from 'node:fs';
import { startCompilePaths } from '../compiler/compile.ts';
import { foreignFiles, GoldenComparison, renderProxy, StagedTree, type OutputFormat } from '../compiler/output-tree.ts';
import { atLeast, formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { ProxyConfig } from '../emit/types.ts';
import type { CaProviderKind } from './ca-command.ts';
import { compileCertificatesOrReport, privateKeysWarning, type CompiledCertificates } from './compile-secrets.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIO } from './io.ts';

export interface CompileCommandOptions {
  output?: string;
  format: OutputFormat;
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

/**
 * Hands a proxy's files on to the sinks, one workload directory at a time. Two workloads that
 * share a directory (same namespace and name, different kinds) come one after the other in path
 * order; the later one's files replace the earlier's, as in a rendered tree.
 */
class DirectoryBuffer {
  private dir: string | undefined;
  private files: [string, string][] = [];
  constructor(
    private readonly sinks: Sinks,
    private readonly modes?: ReadonlyMap<string, number>,
  ) {}

  add(dir: string, files: [string, string][]): void {
    if (dir !== this.dir) this.flush();
    this.dir = dir;
    this.files = files;
  }

  flush(): void {
    for (const [file, content] of this.files) {
      this.sinks.golden?.add(file, content);
      this.sinks.staged?.write(file, content, this.modes?.get(file));
    }
    this.files = [];
    this.dir = undefined;
  }
}

export async function runCompile(paths: string[], opts: CompileCommandOptions, io: CliIO): Promise<number> {
  if (opts.update && !opts.check) throw new UsageError('--update needs --check GOLDEN_DIR (the tree to update)');
  if (opts.output && opts.check) throw new UsageError('use either -o DIR or --check GOLDEN_DIR, not both');
  if (opts.emitSecrets && !opts.ca) throw new UsageError('--emit-secrets needs --ca DIR, the CA that signs the certificates');
  if (opts.emitSecrets && opts.check) throw new UsageError('--emit-secrets cannot be checked against goldens: every run makes new keys');
  if (opts.output && existsSync(opts.output)) {
    const foreign = foreignFiles(opts.output);
    if (foreign.length > 0) {
      throw new UsageError(
        `refusing to replace ${opts.output}: it holds files smi-compile did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`,
      );
    }
  }

  const t0 = performance.now();
  // Read, parse, build and the passes run here: their errors are known before anything is emitted.
  const session = startCompilePaths(
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

  // The proxies, in path order, each emitted and proto-checked on demand. `--ca` needs them all
  // at once (compileCertificates issues one certificate per identity across workloads), so then
  // they are collected first; otherwise each is rendered, written or compared, and dropped.
  let proxies: Iterable<ProxyConfig> = session.proxies('path');
  let certs: CompiledCertificates | undefined;
  let printed = false;
  if (opts.ca) {
    const all: ProxyConfig[] = [];
    for (const proxy of proxies) all.push(proxy);
    if (!session.ok()) return failed();
    // Every diagnostic is known now: print them before what the CA step may report, as they come in order.
    printDiagnostics(session.result().diagnostics, io, opts.verbose);
    printed = true;
    certs = await compileCertificatesOrReport(
      all,
      { ca: opts.ca, caProvider: opts.caProvider ?? 'builtin', emitSecrets: Boolean(opts.emitSecrets), outDir: opts.output, lifetimeMs: opts.certLifetime },
      io.stderr,
    );
    if (!certs) return EXIT_FAILURE;
    proxies = certs.proxies;
  }

  const writeTo = opts.output ?? (opts.check && opts.update ? opts.check : undefined);
  const sinks: Sinks = {
    staged: writeTo === undefined ? undefined : new StagedTree(writeTo),
    golden: opts.check ? new GoldenComparison(opts.check) : undefined,
  };
  const buffer = new DirectoryBuffer(sinks, certs?.modes);
  let count = 0;
  try {
    for (const proxy of proxies) {
      // An SMI9001 (a resource the Envoy protos reject) stops the output: the staging directory
      // goes, the old tree stays. The rest is still emitted and checked so that one run reports
      // every problem.
      if (!session.ok()) {
        sinks.staged?.abort();
        continue;
      }
      count++;
      if (!sinks.staged && !sinks.golden) continue; // no -o, no --check: compiled and checked is all
      const dir = `${proxy.namespace}/${proxy.workload}`;
      const files = renderProxy(proxy, opts.format);
      for (const name of ['tls.crt', 'tls.key']) {
        const content = certs?.files.get(`${dir}/${name}`);
        if (content !== undefined) files.push([`${dir}/${name}`, content]);
      }
      buffer.add(dir, files);
    }
    if (session.ok()) buffer.flush();
    const result = session.result();
    if (!result.ok) return failed();
    if (!printed) printDiagnostics(result.diagnostics, io, opts.verbose);
    const warnings = countBy(result.diagnostics, 'warning');
    const withWarnings = warnings ? ` with ${plural(warnings, 'warning')}` : '';

    if (sinks.golden) {
      const differences = sinks.golden.finish();
      if (differences.length === 0) {
        io.stderr(`${opts.check}: up to date (${plural(sinks.golden.files, 'file')}, ${plural(count, 'proxy')}${warnings ? `, ${plural(warnings, 'warning')}` : ''})\n`);
        return EXIT_OK; // --update: the staged copy is dropped (finally), the golden tree left untouched
      }
      if (sinks.staged) {
        sinks.staged.commit();
        io.stderr(`${opts.check}: updated ${plural(differences.length, 'file')}\n`);
        for (const d of differences) io.stderr(`  ${d.kind.padEnd(10)} ${d.file}\n`);
        return EXIT_OK;
      }
      for (const d of differences) io.stdout(d.patch);
      io.stderr(
        `${opts.check}: ${plural(differences.length, 'file')} differ (${differences.map((d) => d.kind).filter((k, i, a) => a.indexOf(k) === i).join(', ')}); review the diff, then rerun with --update to accept it\n`,
      );
      return EXIT_FAILURE;
    }

    const ms = Math.round(performance.now() - t0);
    if (!sinks.staged || !opts.output) {
      io.stderr(`compiled ${plural(count, 'proxy')} in ${ms} ms${withWarnings}; pass -o DIR to write them\n`);
      return EXIT_OK;
    }
    const written = sinks.staged.commit();
    io.stderr(`wrote ${plural(count, 'proxy')} (${plural(written.files, 'file')}, ${(written.bytes / 1024).toFixed(1)} KiB) to ${opts.output} in ${ms} ms${withWarnings}\n`);
    if (certs && certs.keys > 0) io.stderr(privateKeysWarning(certs, opts.output));
    return EXIT_OK;
  } finally {
    sinks.staged?.abort(); // a no-op once committed; otherwise nothing of this compile is left behind
  }
}
