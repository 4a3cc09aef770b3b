/**
 * YAML/JSON text → schema-checked Kubernetes objects, each with its origin.
 *
 * Every problem is a diagnostic and parsing keeps going: a syntax error ends its file (the
 * documents after it cannot be trusted) but not the others, and a document with schema
 * errors is reported and dropped while its neighbours go on. Loading the YAML is
 * documents.ts's job; this file decides what each document is.
 */
import { diagnostic, type Diagnostic, type Reporter, type ResourceRef } from '../diagnostics/diagnostic.ts';
import type { FieldPath, Origin } from '../shared/position.ts';
import { loadDocuments, type LoadedDocument } from './documents.ts';
import { lookupKind, type KnownKind } from './kinds.ts';
import { locate, objectOrigin, type Located } from './origin.ts';
import { typeName, validateAgainstSchema, type FieldLocator } from './schema.ts';
import type { SourceFile, SourceObject } from './source.ts';

export { MAX_ALIAS_COUNT, MAX_DEPTH, MAX_ERRORS_PER_FILE, MAX_SCAN_DEPTH } from './documents.ts';

export interface ManifestDocument {
  /** Path of the file, as in SourceFile.path. */
  file: string;
  /** Index of the YAML document in its file (items of a `kind: List` share their list's). */
  index: number;
  apiVersion: string;
  kind: string;
  value: Record<string, unknown>;
  origin: Origin;
  /**
   * Set on a document its schema refused (only with `keepRefused`): the first error. Nothing may
   * be built from it; the IR keeps it as an InvalidObject so that references to it can say so.
   */
  refused?: Diagnostic;
}

export interface ParseOptions {
  /** Hand on schema-refused documents too, marked `refused` (the compiler does; most tests want only good ones). */
  keepRefused?: boolean;
}

export function parseSources(files: SourceFile[], reporter: Reporter, options: ParseOptions = {}): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  const keepRefused = options.keepRefused === true;
  for (const file of files) {
    // The per-file reporter loadDocuments hands over counts errors toward SMI1021.
    loadDocuments(file, reporter, (doc, index, fileReporter) => parseObject(documentContext(file, index, doc, fileReporter, out, keepRefused), doc.value, []));
  }
  return out;
}

/**
 * Objects read from the Kubernetes API (src/sources/kubernetes) rather than from text: they take
 * the same path as a document (type meta, known kinds and versions, schema, then the IR), and
 * their diagnostics are located by `Kind ns/name` and field path (objectOrigin) instead of
 * file:line. Each object is its own unit, named by its `ref`.
 */
export function parseObjects(objects: readonly SourceObject[], reporter: Reporter, options: ParseOptions = {}): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  const keepRefused = options.keepRefused === true;
  for (const object of objects) {
    const root = objectOrigin(object.ref);
    const origin = (prefix: FieldPath): Origin => objectOrigin(object.ref, prefix);
    parseObject({ file: object.ref, index: 0, locate: (path) => locate(root, path), origin, reporter, out, keepRefused }, object.value, []);
  }
  return out;
}

/** What interpreting one document (or one API object) needs. */
interface DocContext {
  /** The file's path, or the object's `Kind ns/name`. */
  readonly file: string;
  readonly index: number;
  /** Positions of a path from the document root (value node; key when a map entry). */
  readonly locate: (path: FieldPath) => Located;
  /** The origin of the object at `prefix` in the document. */
  readonly origin: (prefix: FieldPath) => Origin;
  readonly reporter: Reporter;
  readonly out: ManifestDocument[];
  readonly keepRefused: boolean;
}

function documentContext(file: SourceFile, index: number, doc: LoadedDocument, reporter: Reporter, out: ManifestDocument[], keepRefused: boolean): DocContext {
  return {
    file: file.path,
    index,
    locate: doc.locate,
    origin: (prefix) => (prefix.length === 0 ? doc.origin : { ...doc.origin, prefix }),
    reporter,
    out,
    keepRefused,
  };
}

/**
 * One Kubernetes object at `prefix` in the document (`[]`, or `['items', i]` in a List):
 * check its type meta, unwrap lists, skip kinds we do not read, validate the rest.
 */
function parseObject(ctx: DocContext, value: unknown, prefix: FieldPath, inherited?: { apiVersion: string; kind: string }): void {
  const at = locatorFor(ctx, prefix);
  if (!isPlainObject(value)) {
    ctx.reporter.report(diagnostic('document-not-object', { actual: typeName(value) }, at.value([])));
    return;
  }
  // Items of a typed list (`kind: ServiceList`, as the API returns them) may omit their type meta.
  const apiVersion = value.apiVersion ?? inherited?.apiVersion;
  const kind = value.kind ?? inherited?.kind;
  const missing = [isNonEmptyString(apiVersion) ? '' : 'apiVersion', isNonEmptyString(kind) ? '' : 'kind'].filter(Boolean);
  for (const field of missing) {
    const present = value[field];
    if (present !== undefined && present !== null && typeof present !== 'string') {
      // `kind: 5`: there is a kind, of the wrong type.
      ctx.reporter.report(diagnostic('schema-type', { kind: 'document', path: field, expected: 'string', actual: typeName(present) }, at.value([field])));
      return;
    }
  }
  if (missing.length > 0) {
    ctx.reporter.report(diagnostic('missing-type-meta', { field: missing.join(' or ') }, at.value([])));
    return;
  }
  const av = apiVersion as string;
  const k = kind as string;
  if (isList(k, value)) {
    const items = value.items ?? [];
    if (!Array.isArray(items)) {
      ctx.reporter.report(diagnostic('schema-type', { kind: k, path: 'items', expected: 'array', actual: typeName(items) }, at.value(['items'])));
      return;
    }
    const itemKind = k === 'List' ? undefined : { apiVersion: av, kind: k.slice(0, -'List'.length) };
    for (let i = 0; i < items.length; i++) parseObject(ctx, items[i], [...prefix, 'items', i], itemKind);
    return;
  }
  const resource = resourceRef(k, value);
  const lookup = lookupKind(av, k);
  if (lookup.status === 'unknown') {
    ctx.reporter.report(diagnostic('unknown-kind', { apiVersion: av, kind: k }, at.value(['kind']), resource));
    return;
  }
  if (lookup.status === 'unsupported-version') {
    ctx.reporter.report(
      diagnostic('unsupported-api-version', { kind: k, apiVersion: av, supported: lookup.supported.join(', ') }, at.value(['apiVersion']), resource),
    );
    return;
  }
  const object = inherited && (value.apiVersion === undefined || value.kind === undefined) ? { ...value, apiVersion: av, kind: k } : value;
  const refused = validate(ctx, lookup.known, object, at, resource);
  if (refused && !ctx.keepRefused) return;
  const doc: ManifestDocument = { file: ctx.file, index: ctx.index, apiVersion: av, kind: k, value: object, origin: ctx.origin(prefix) };
  if (refused) doc.refused = refused;
  ctx.out.push(doc);
}

/** Reports the document's schema errors; returns the first, or undefined when it is valid. */
function validate(ctx: DocContext, known: KnownKind, value: Record<string, unknown>, at: FieldLocator, resource: ResourceRef): Diagnostic | undefined {
  const problems = validateAgainstSchema(known, value, at, resource);
  for (const d of problems) ctx.reporter.report(d);
  return problems[0];
}

/** `kind: List` (what kubectl prints), or a typed list such as `ServiceList` (what the API returns). */
function isList(kind: string, value: Record<string, unknown>): boolean {
  return kind === 'List' || (kind.endsWith('List') && Array.isArray(value.items));
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

function resourceRef(kind: string, value: Record<string, unknown>): ResourceRef {
  const meta = isPlainObject(value.metadata) ? value.metadata : {};
  const ref: ResourceRef = { kind, name: typeof meta.name === 'string' ? meta.name : '' };
  if (typeof meta.namespace === 'string') ref.namespace = meta.namespace;
  return ref;
}

/** Positions in the document being interpreted, relative to the object at `prefix`. */
function locatorFor(ctx: DocContext, prefix: FieldPath): FieldLocator {
  const locate = (path: FieldPath) => ctx.locate([...prefix, ...path]);
  return {
    value: (path) => locate(path).value,
    key: (path) => {
      const p = locate(path);
      return p.key ?? p.value;
    },
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
