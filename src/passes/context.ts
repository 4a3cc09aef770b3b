import type { Diagnostic, Reporter, ResourceRef } from '../diagnostics/diagnostic.ts';
import type { CompileOptions } from '../shared/options.ts';
import type { FieldPath, Resource } from '../ir/types.ts';
import type { SourcePosition } from '../diagnostics/diagnostic.ts';
import { positionOf } from '../parser/origin.ts';

/** What every pass receives: where to report, and the options of this compile. */
export interface PassContext extends Reporter {
  readonly options: CompileOptions;
}

export function passContext(reporter: Reporter, options: CompileOptions): PassContext {
  return { report: (d: Diagnostic) => reporter.report(d), options };
}

export function refOf(r: Resource): ResourceRef {
  return r.meta.namespace ? { kind: r.kind, namespace: r.meta.namespace, name: r.meta.name } : { kind: r.kind, name: r.meta.name };
}

/** The position of a field of a resource, for a diagnostic. */
export function at(r: Resource, path: FieldPath): SourcePosition {
  return positionOf(r.origin, path);
}
