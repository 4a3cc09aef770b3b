/**
 * Machine-readable output for scripts: the diagnostics exactly as the compiler holds them,
 * plus the counts, so `jq '.summary.error'` answers "did it fail?" without re-deriving
 * levels. `version` lets consumers detect a future change of shape.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { Summary } from './summary.ts';

export interface JsonReport {
  version: 1;
  diagnostics: Diagnostic[];
  summary: Summary;
}

export function formatJson(diagnostics: readonly Diagnostic[], summary: Summary): string {
  // Fixed key order per diagnostic, so the output is byte-stable whatever built the object.
  const report: JsonReport = {
    version: 1,
    diagnostics: diagnostics.map((d) => {
      const out: Diagnostic = { code: d.code, level: d.level, message: d.message };
      if (d.source) out.source = { file: d.source.file, line: d.source.line, column: d.source.column };
      if (d.resource) {
        out.resource = { kind: d.resource.kind, ...(d.resource.namespace !== undefined && { namespace: d.resource.namespace }), name: d.resource.name };
      }
      return out;
    }),
    summary: { error: summary.error, warning: summary.warning, info: summary.info, suppressed: summary.suppressed },
  };
  return JSON.stringify(report, null, 2) + '\n';
}
