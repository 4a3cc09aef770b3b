/**
 * References to objects that are in the input but were refused (InvalidObject): said as such
 * (SMI3020, naming the error that refused the object) instead of "does not exist".
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { keyOf, type FieldPath, type InvalidObject, type Mesh, type Resource } from '../ir/types.ts';
import { at, refOf, type PassContext } from './context.ts';

/**
 * Refused objects by `kind|ns/name` (the first of each wins, as for valid ones), indexed on the
 * first look: only a reference that resolved to nothing asks, which a clean mesh never does.
 */
export class InvalidIndex {
  private index?: Map<string, InvalidObject>;
  constructor(private readonly objects: readonly InvalidObject[] = []) {}

  get(kind: string, namespace: string, name: string): InvalidObject | undefined {
    if (!this.index) {
      this.index = new Map();
      for (const o of this.objects) {
        const k = `${o.objectKind}|${keyOf(o.meta.namespace, o.meta.name)}`;
        if (!this.index.has(k)) this.index.set(k, o);
      }
    }
    return this.index.get(`${kind}|${keyOf(namespace, name)}`);
  }
}

export function indexInvalid(mesh: Partial<Pick<Mesh, 'invalidObjects'>>): InvalidIndex {
  return new InvalidIndex(mesh.invalidObjects);
}

/**
 * When `kind` `namespace/name` is a refused object, reports that `referrer` (at `path`) refers to
 * it and returns true; false when there is no such object (the caller reports it as missing).
 */
export function reportedAsInvalid(
  index: InvalidIndex,
  kind: string,
  namespace: string,
  name: string,
  referrer: Resource,
  path: FieldPath,
  ctx: PassContext,
): boolean {
  const invalid = index.get(kind, namespace, name);
  if (!invalid) return false;
  const p = invalid.problem.source;
  ctx.report(
    diagnostic(
      'reference-to-invalid',
      {
        referrer: `${referrer.kind} ${keyOf(referrer.meta.namespace, referrer.meta.name)}`,
        kind,
        ref: keyOf(namespace, name),
        code: invalid.problem.code,
        where: p ? `${p.file}:${p.line}:${p.column}` : invalid.origin.file,
      },
      at(referrer, path),
      refOf(referrer),
    ),
  );
  return true;
}
