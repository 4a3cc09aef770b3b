/**
 * `smi-compile inject -f FILE|-`: the sidecar added offline, like `istioctl kube-inject`. Reads
 * one YAML stream, writes it back (stdout or `-o FILE`) with the injectable workloads injected and
 * every other document as it was, byte for byte. Diagnostics go to stderr with file:line; exit 1
 * when any is an error (the offending documents are written back unchanged, the rest injected).
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatDiagnostic } from '../diagnostics/diagnostic.ts';
import { CertificateError } from '../identity/index.ts';
import { injectText } from '../inject/documents.ts';
import { DEFAULT_MAX_FILE_SIZE } from '../parser/read-inputs.ts';
import { injectOptionsFrom, type InjectFlags } from './inject-options.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIO } from './io.ts';

export interface InjectCommandOptions extends InjectFlags {
  filename: string;
  output?: string;
  xdsAddress: string;
  xdsPort: number;
  verbose?: boolean;
  maxFileSize?: number;
}

export function runInject(opts: InjectCommandOptions, io: CliIO): number {
  const max = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const file = opts.filename === '-' ? '<stdin>' : opts.filename;
  let text: string;
  try {
    // Check the size before reading: a file past the bound is never read into memory.
    if (opts.filename !== '-' && statSync(resolve(io.cwd, opts.filename)).size > max) throw new UsageError(`${file} is larger than --max-file-size (${max} bytes)`);
    const raw = opts.filename === '-' ? io.stdin(max + 1) : readFileSync(resolve(io.cwd, opts.filename));
    if (raw.length > max) throw new UsageError(`${file} is larger than --max-file-size (${max} bytes)`);
    text = raw.toString();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let options;
  try {
    options = injectOptionsFrom(opts, { address: opts.xdsAddress, port: opts.xdsPort });
  } catch (e) {
    if (e instanceof CertificateError) {
      io.stderr(`${formatDiagnostic(e.diagnostic)}\n`);
      return EXIT_FAILURE;
    }
    throw e;
  }
  const result = injectText(text, file, options);
  let failed = false;
  for (const d of result.diagnostics) {
    if (d.level === 'error') failed = true;
    if (d.level !== 'info' || opts.verbose) io.stderr(`${formatDiagnostic(d)}\n`);
  }
  if (result.diagnostics.some((d) => d.code === 'SMI1001')) return EXIT_FAILURE; // nothing to write back but the input
  if (opts.output) {
    const target = resolve(io.cwd, opts.output);
    const temp = join(dirname(target), `.${process.pid}.inject.tmp`);
    writeFileSync(temp, result.text);
    renameSync(temp, target);
  } else {
    io.stdout(result.text);
  }
  return failed ? EXIT_FAILURE : EXIT_OK;
}
