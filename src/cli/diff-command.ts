/**
 * `smi-compile diff <old-paths...> -- <new-paths...>` and `diff <paths...> --base <ref>`: what a
 * policy change means (src/review/diff.ts). Exit 0 when compared, 1 when either side has errors or
 * `--fail-on-new-access` finds an added edge, 2 on usage.
 */
import { compilePaths, type CompileResult } from '../compiler/compile.ts';
import { diffMeshes, type MeshSide } from '../review/diff.ts';
import { formatDiff, type DiffFormat } from '../review/format-diff.ts';
import { GitTreeError, pathsAtRef, type TreeAtRef } from '../review/git-tree.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIO } from './io.ts';
import { plannedMeshOrReport } from './planned-mesh.ts';

export interface DiffCommandOptions {
  base?: string;
  output: DiffFormat;
  failOnNewAccess?: boolean;
  trustDomain?: string;
  maxFileSize?: number;
}

/** Splits `diff`'s operands at the `--` the user typed (commander drops it): `rawArgs` is the command line after the program name. */
export function splitOperands(paths: readonly string[], rawArgs: readonly string[], base: string | undefined): { before: string[]; after: string[] } {
  const command = rawArgs.indexOf('diff');
  const dashes = rawArgs.indexOf('--', command + 1);
  if (base !== undefined) {
    if (dashes >= 0) throw new UsageError('diff: use either --base <ref> or <old-paths...> -- <new-paths...>, not both');
    return { before: [], after: [...paths] };
  }
  if (dashes < 0) throw new UsageError('diff: expected <old-paths...> -- <new-paths...>, or <paths...> --base <git-ref>');
  const after = rawArgs.slice(dashes + 1);
  const before = paths.slice(0, paths.length - after.length);
  if (before.length === 0 || after.length === 0) throw new UsageError('diff: name at least one path on each side of --');
  return { before, after };
}

function side(result: CompileResult, label: string, io: CliIO): MeshSide | undefined {
  const mesh = plannedMeshOrReport(result, io, `smi-compile diff: the ${label} manifests have errors; nothing to compare`);
  return mesh && { mesh, proxies: result.proxies };
}

export function runDiff(paths: string[], opts: DiffCommandOptions, rawArgs: readonly string[], io: CliIO): number {
  const { before, after } = splitOperands(paths, rawArgs, opts.base);
  const options = { trustDomain: opts.trustDomain, maxFileSize: opts.maxFileSize };
  let tree: TreeAtRef | undefined;
  try {
    try {
      tree = opts.base !== undefined ? pathsAtRef(io.cwd, opts.base, after) : undefined;
    } catch (err) {
      if (!(err instanceof GitTreeError)) throw err;
      io.stderr(`smi-compile diff: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    const oldPaths = tree ? (tree.paths.length > 0 ? tree.paths : [tree.dir]) : before;
    const old = side(compilePaths(oldPaths, options, io.stdin), opts.base !== undefined ? `old (${opts.base})` : 'old', io);
    const now = side(compilePaths(after, options, io.stdin), 'new', io);
    if (!old || !now) return EXIT_FAILURE;
    const d = diffMeshes(old, now);
    io.stdout(formatDiff(d, opts.output, io.cwd));
    return opts.failOnNewAccess && d.access.some((c) => c.change === 'added') ? EXIT_FAILURE : EXIT_OK;
  } finally {
    tree?.remove();
  }
}
