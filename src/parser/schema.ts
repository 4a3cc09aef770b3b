/**
 * JSON Schema validation of one document, and the translation of ajv's errors into
 * diagnostics that name the field the way a user wrote it and point at it.
 *
 * The schemas are compiled ahead of time into schemas/validators.generated.js (ajv standalone
 * code, written by schemas/generate.ts and checked for staleness by a test), so a compile
 * pays ≈7 ms to load every validator instead of ≈100 ms of ajv compiling the ones it meets.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validators } from '../../schemas/validators.generated.js';
import { diagnostic, type Diagnostic, type ResourceRef } from '../diagnostics/diagnostic.ts';
import type { SourcePosition } from '../shared/position.ts';
import type { FieldPath } from '../shared/position.ts';
import { schemaFileOf, type KnownKind } from './kinds.ts';

function validatorFor(kind: KnownKind): ValidateFunction {
  const validate = validators[schemaFileOf(kind)];
  if (!validate) throw new Error(`no validator for ${schemaFileOf(kind)}: run schemas/generate.ts`);
  return validate;
}

/** Positions of fields in the document being validated (paths relative to the object). */
export interface FieldLocator {
  /** The value node of `path` (nearest existing ancestor if missing). */
  value(path: FieldPath): SourcePosition;
  /** The key of the map entry `path` names; the value node when it is not a map entry. */
  key(path: FieldPath): SourcePosition;
}

/** Validates `value` against the schema of `kind`; returns the diagnostics, empty when valid. */
export function validateAgainstSchema(
  kind: KnownKind,
  value: unknown,
  at: FieldLocator,
  resource: ResourceRef,
): Diagnostic[] {
  const validate = validatorFor(kind);
  if (validate(value)) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const d = toDiagnostic(kind.kind, error, value, at, resource);
    const key = `${d.code} ${d.source?.line}:${d.source?.column} ${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  // ajv reports in schema order; users read top to bottom.
  return out.sort((a, b) => a.source!.line - b.source!.line || a.source!.column - b.source!.column);
}

function toDiagnostic(kind: string, error: ErrorObject, root: unknown, at: FieldLocator, resource: ResourceRef): Diagnostic {
  const path = instancePath(error.instancePath, root);
  switch (error.keyword) {
    case 'type': {
      const expected = String(error.params.type).split(',').join(' or ');
      const actual = typeName(valueAt(root, path));
      return diagnostic('schema-type', { kind, path: displayPath(path), expected, actual }, at.value(path), resource);
    }
    case 'additionalProperties': {
      const field = String(error.params.additionalProperty);
      const fieldPath = [...path, field];
      const hint = unknownFieldHint(field, path, error.parentSchema);
      return diagnostic('schema-unknown-field', { kind, path: displayPath(fieldPath), hint }, at.key(fieldPath), resource);
    }
    case 'required': {
      // Point at the object that lacks the field: its key when it is a map entry
      // (`destination:`), the object itself otherwise (a list item, the document).
      const where = path.length > 0 && typeof path[path.length - 1] === 'string' ? at.key(path) : at.value(path);
      return diagnostic(
        'schema-required',
        { kind, path: path.length ? displayPath(path) : 'document', field: String(error.params.missingProperty) },
        where,
        resource,
      );
    }
    default:
      return diagnostic('schema-value', { kind, path: displayPath(path), detail: valueDetail(error, valueAt(root, path)) }, at.value(path), resource);
  }
}

/** `enum`, `pattern`, `minimum`... in words, with the offending value. */
function valueDetail(error: ErrorObject, value: unknown): string {
  const got = `got ${JSON.stringify(value)}`;
  switch (error.keyword) {
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}; ${got}`;
    case 'pattern':
      return `must match ${String(error.params.pattern)}; ${got}`;
    case 'minimum':
    case 'maximum':
      return `must be ${String(error.params.comparison)} ${String(error.params.limit)}; ${got}`;
    default:
      return `${error.message ?? 'is not valid'}; ${got}`;
  }
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
}

/**
 * Why an unknown field might be there: a field placed one level too high (`matches` beside
 * `spec` instead of inside it), or a typo of a sibling (`pathregex`).
 */
function unknownFieldHint(field: string, parentPath: FieldPath, parentSchema: unknown): string {
  const properties = (parentSchema as SchemaNode | undefined)?.properties ?? {};
  for (const [name, sub] of Object.entries(properties)) {
    if (sub.properties && Object.prototype.hasOwnProperty.call(sub.properties, field)) {
      return ` (did you mean ${displayPath([...parentPath, name, field])}?)`;
    }
  }
  const near = Object.keys(properties).find((name) => isNearMiss(field, name));
  return near ? ` (did you mean ${displayPath([...parentPath, near])}?)` : '';
}

function isNearMiss(typed: string, known: string): boolean {
  if (typed.toLowerCase() === known.toLowerCase()) return true;
  return Math.min(typed.length, known.length) > 3 && editDistance(typed.toLowerCase(), known.toLowerCase()) <= 2;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** ajv's JSON Pointer (`/spec/matches/0`) as a field path, with list indexes as numbers. */
function instancePath(pointer: string, root: unknown): FieldPath {
  if (!pointer) return [];
  const path: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const step: string | number = Array.isArray(node) ? Number(segment) : segment;
    path.push(step);
    node = node === null || typeof node !== 'object' ? undefined : (node as Record<string | number, unknown>)[step];
  }
  return path;
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const step of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

/** JSON Schema type names, with `integer` told apart from `number`. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `spec.matches[0].methods`, `metadata.labels["app.kubernetes.io/name"]`. */
export function displayPath(path: FieldPath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(step)) out += out ? `.${step}` : step;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out;
}
