/**
 * The review commands (explain, diff, graph) read the passes' tables, so they need a mesh that
 * planned without errors: this compiles for analysis and, when it did not, prints the errors as
 * lint does and says why the command stops.
 */
import type { CompileResult } from '../compiler/compile.ts';
import { lintReport } from '../lint/index.ts';
import type { PlannedMesh } from '../passes/plan.ts';
import type { CliIO } from './io.ts';

/** The planned mesh of `result`, or undefined after printing its errors and `why` (the command's own line). */
export function plannedMeshOrReport(result: CompileResult, io: CliIO, why: string): PlannedMesh | undefined {
  const errors = result.diagnostics.filter((d) => d.level === 'error');
  if (errors.length === 0 && result.mesh && 'proxies' in result.mesh) return result.mesh as PlannedMesh;
  io.stderr(lintReport(errors, { format: 'text', stream: { isTTY: false }, env: io.env, cwd: io.cwd }).text);
  io.stderr(`${why}\n`);
  return undefined;
}
