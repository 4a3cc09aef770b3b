/**
 * `smi-compile [compile] <paths...>`: compile to an output tree, or check one against goldens.
 * A compile with any error writes nothing.
 */
import { existsSync } from 'node:fs';
import { compilePaths } from '../compiler/compile.ts';
import { diffTrees, foreignFiles, readTree, renderTree, writeTree, type OutputFormat } from '../compiler/output-tree.ts';
import { atLeast, formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { CaProviderKind } from './ca-command.ts';
import { compileCertificatesOrReport, privateKeysWarning, withCertificateFiles } from './compile-secrets.ts';
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
  const result = compilePaths(
    paths,
    { trustDomain: opts.trustDomain, xdsAddress: opts.xdsAddress, xdsPort: opts.xdsPort, maxFileSize: opts.maxFileSize },
    io.stdin,
  );
  printDiagnostics(result.diagnostics, io, opts.verbose);
  const errors = countBy(result.diagnostics, 'error');
  const warnings = countBy(result.diagnostics, 'warning');
  if (!result.ok) {
    io.stderr(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}; nothing written\n`);
    return EXIT_FAILURE;
  }
  const certs = opts.ca
    ? await compileCertificatesOrReport(result.proxies, { ca: opts.ca, caProvider: opts.caProvider ?? 'builtin', emitSecrets: Boolean(opts.emitSecrets), outDir: opts.output, lifetimeMs: opts.certLifetime }, io.stderr)
    : undefined;
  if (opts.ca && !certs) return EXIT_FAILURE;
  const tree = withCertificateFiles(renderTree(certs?.proxies ?? result.proxies, opts.format), certs?.files);
  const ms = Math.round(performance.now() - t0);

  if (opts.check) {
    const differences = diffTrees(readTree(opts.check), tree);
    if (differences.length === 0) {
      io.stderr(`${opts.check}: up to date (${plural(tree.size, 'file')}, ${plural(result.proxies.length, 'proxy')}${warnings ? `, ${plural(warnings, 'warning')}` : ''})\n`);
      return EXIT_OK;
    }
    if (opts.update) {
      writeTree(tree, opts.check);
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

  if (!opts.output) {
    io.stderr(`compiled ${plural(result.proxies.length, 'proxy')} in ${ms} ms${warnings ? ` with ${plural(warnings, 'warning')}` : ''}; pass -o DIR to write them\n`);
    return EXIT_OK;
  }
  const written = writeTree(tree, opts.output, certs?.modes);
  io.stderr(
    `wrote ${plural(result.proxies.length, 'proxy')} (${plural(written.files, 'file')}, ${(written.bytes / 1024).toFixed(1)} KiB) to ${opts.output} in ${ms} ms${warnings ? ` with ${plural(warnings, 'warning')}` : ''}\n`,
  );
  if (certs && certs.keys > 0) io.stderr(privateKeysWarning(certs, opts.output));
  return EXIT_OK;
}
