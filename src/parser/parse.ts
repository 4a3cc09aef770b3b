/**
 * YAML/JSON text → schema-checked Kubernetes objects, each with its origin.
 *
 * Every problem is a diagnostic and parsing keeps going: a syntax error ends its file (the
 * documents after it cannot be trusted) but not the others, and a document with schema
 * errors is reported and dropped while its neighbours go on.
 */
import { isScalar, LineCounter, parseAllDocuments, type Document, type YAMLError } from 'yaml';
import { diagnostic, type Reporter, type ResourceRef, type SourcePosition } from '../diagnostics/diagnostic.ts';
import type { FieldPath, Origin } from '../ir/types.ts';
import { lookupKind, type KnownKind } from './kinds.ts';
import { findOffsets } from './locate.ts';
import { fastLoad } from './fast-load.ts';
import { createOrigin, locateInSpan, type DocumentSpan } from './origin.ts';
import { typeName, validateAgainstSchema, type FieldLocator } from './schema.ts';
import type { SourceFile } from './source.ts';
import { contentStart, splitDocuments, type Chunk } from './split.ts';

export interface ManifestDocument {
  /** Path of the file, as in SourceFile.path. */
  file: string;
  /** Index of the YAML document in its file (items of a `kind: List` share their list's). */
  index: number;
  apiVersion: string;
  kind: string;
  value: Record<string, unknown>;
  origin: Origin;
}

/** Aliases a document may expand before we call it a "billion laughs" attack. */
export const MAX_ALIAS_COUNT = 100;
/** No Kubernetes object nests this deep; a deeper document is malformed or hostile. */
export const MAX_DEPTH = 100;

export function parseSources(files: SourceFile[], reporter: Reporter): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  for (const file of files) parseFile(file, reporter, out);
  return out;
}

/** One YAML document, loaded: its value and how to find positions in it. */
interface LoadedDocument {
  readonly value: unknown;
  readonly span: DocumentSpan;
  /** Position of the document's root node. */
  readonly root: SourcePosition;
  /** Positions of a path from the document root (value node; key when a map entry). */
  locate(path: FieldPath): { value: SourcePosition; key?: SourcePosition };
}

/** What interpreting one document needs. */
interface DocContext {
  readonly file: SourceFile;
  readonly index: number;
  readonly doc: LoadedDocument;
  readonly reporter: Reporter;
  readonly out: ManifestDocument[];
}

/**
 * Each document goes through the fast path (fast-load.ts) when it can, through `yaml` when
 * it cannot; either way the result, diagnostics included, is the same.
 */
function parseFile(file: SourceFile, reporter: Reporter, out: ManifestDocument[]): void {
  let index = 0;
  const sink: YamlSink = {
    reporter,
    nextIndex: () => index++,
    document: (doc, i) => parseObject({ file, index: i, doc, reporter, out }, doc.value, []),
  };
  const chunks = splitDocuments(file.text);
  if (!chunks) {
    loadWithYaml(file, file.text, { offset: 0, line: 1 }, sink);
    return;
  }
  for (const chunk of chunks) {
    const content = contentStart(file.text, chunk);
    if (content < 0) {
      // A lone `---` is an (empty) document; comments before the first `---` are not.
      if (chunk.marker) {
        sink.nextIndex();
        reporter.report(diagnostic('SMI1018', {}, { file: file.path, line: chunk.startLine, column: 1 }));
      }
      continue;
    }
    const text = file.text.slice(chunk.start, chunk.end);
    const fast = fastLoad(text, MAX_DEPTH);
    if (fast) {
      const span: DocumentSpan = { start: chunk.start, end: chunk.end, startLine: chunk.startLine };
      const root = positionAfter(file, chunk, content);
      const doc: LoadedDocument = {
        value: fast.value,
        span,
        root,
        locate: (path) => (path.length === 0 ? { value: root } : locateInSpan(file, span, path)),
      };
      parseObject({ file, index: sink.nextIndex(), doc, reporter, out }, doc.value, []);
    } else if (!loadWithYaml(file, text, { offset: chunk.start, line: chunk.startLine }, sink)) {
      return; // a syntax error: nothing after it in this file can be trusted
    }
  }
}

/** Position of `offset`, counting lines from the start of its chunk. */
function positionAfter(file: SourceFile, chunk: Chunk, offset: number): SourcePosition {
  let line = chunk.startLine;
  let lineStart = chunk.start;
  for (let i = file.text.indexOf('\n', chunk.start); i >= 0 && i < offset; i = file.text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { file: file.path, line, column: offset - lineStart + 1 };
}

interface YamlSink {
  readonly reporter: Reporter;
  nextIndex(): number;
  document(doc: LoadedDocument, index: number): void;
}

/**
 * Parses `text` (a whole file, or one document of it starting at `base`) with `yaml`,
 * reporting every YAML-level problem with its position. Returns false after a syntax error.
 */
function loadWithYaml(file: SourceFile, text: string, base: { offset: number; line: number }, sink: YamlSink): boolean {
  const { reporter } = sink;
  const lines = new LineCounter();
  // `text` starts at the start of a line, so columns need no shifting.
  const at = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { file: file.path, line: base.line + line - 1, column: col };
  };
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true }) as Document.Parsed[];
  } catch (e) {
    // The composer recurses per nesting level: absurdly deep input overflows the stack.
    if (e instanceof RangeError) reporter.report(diagnostic('SMI1016', { limit: MAX_DEPTH }, at(0)));
    else reporter.report(diagnostic('SMI1001', { detail: String((e as Error).message ?? e) }, at(0)));
    return false;
  }
  for (const doc of docs) {
    const index = sink.nextIndex();
    const syntax = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
    if (syntax.length > 0) {
      // Later errors in a broken document are mostly echoes of the first; report that one.
      reporter.report(diagnostic('SMI1001', { detail: errorDetail(syntax[0]) }, at(syntax[0].pos[0])));
      return false;
    }
    const duplicates = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
    for (const e of duplicates) reporter.report(diagnostic('SMI1011', { key: keyAt(text, e.pos[0]) }, at(e.pos[0])));
    for (const w of doc.warnings) reporter.report(diagnostic('SMI1017', { detail: errorDetail(w) }, at(w.pos[0])));
    if (duplicates.length > 0) continue; // which value wins is ambiguous: do not guess
    if (isEmpty(doc)) {
      reporter.report(diagnostic('SMI1018', {}, at(doc.range[0])));
      continue;
    }
    const find = (path: FieldPath) => findOffsets(doc, doc.contents, path, doc.range[0]);
    const root = at(find([]).value);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      if (e instanceof RangeError) reporter.report(diagnostic('SMI1016', { limit: MAX_DEPTH }, root));
      else if (e instanceof ReferenceError) reporter.report(diagnostic('SMI1015', { limit: MAX_ALIAS_COUNT }, root));
      else reporter.report(diagnostic('SMI1001', { detail: String((e as Error).message ?? e) }, root));
      continue;
    }
    if (exceedsDepth(value, MAX_DEPTH)) {
      reporter.report(diagnostic('SMI1016', { limit: MAX_DEPTH }, root));
      continue;
    }
    const localStart = lineStart(text, doc.range[0]);
    const span: DocumentSpan = {
      start: base.offset + localStart,
      end: base.offset + doc.range[2],
      startLine: base.line + lines.linePos(localStart).line - 1,
    };
    sink.document(
      {
        value,
        span,
        root,
        locate: (path) => {
          const o = find(path);
          return o.key === undefined ? { value: at(o.value) } : { value: at(o.value), key: at(o.key) };
        },
      },
      index,
    );
  }
  return true;
}

/**
 * One Kubernetes object at `prefix` in the document (`[]`, or `['items', i]` in a List):
 * check its type meta, unwrap lists, skip kinds we do not read, validate the rest.
 */
function parseObject(ctx: DocContext, value: unknown, prefix: FieldPath, inherited?: { apiVersion: string; kind: string }): void {
  const at = locatorFor(ctx, prefix);
  if (!isPlainObject(value)) {
    ctx.reporter.report(diagnostic('SMI1010', { actual: typeName(value) }, at.value([])));
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
      ctx.reporter.report(diagnostic('SMI1002', { kind: 'document', path: field, expected: 'string', actual: typeName(present) }, at.value([field])));
      return;
    }
  }
  if (missing.length > 0) {
    ctx.reporter.report(diagnostic('SMI1008', { field: missing.join(' or ') }, at.value([])));
    return;
  }
  const av = apiVersion as string;
  const k = kind as string;
  if (isList(k, value)) {
    const items = value.items ?? [];
    if (!Array.isArray(items)) {
      ctx.reporter.report(diagnostic('SMI1002', { kind: k, path: 'items', expected: 'array', actual: typeName(items) }, at.value(['items'])));
      return;
    }
    const itemKind = k === 'List' ? undefined : { apiVersion: av, kind: k.slice(0, -'List'.length) };
    for (let i = 0; i < items.length; i++) parseObject(ctx, items[i], [...prefix, 'items', i], itemKind);
    return;
  }
  const resource = resourceRef(k, value);
  const lookup = lookupKind(av, k);
  if (lookup.status === 'unknown') {
    ctx.reporter.report(diagnostic('SMI1006', { apiVersion: av, kind: k }, at.value(['kind']), resource));
    return;
  }
  if (lookup.status === 'unsupported-version') {
    ctx.reporter.report(
      diagnostic('SMI1007', { kind: k, apiVersion: av, supported: lookup.supported.join(', ') }, at.value(['apiVersion']), resource),
    );
    return;
  }
  const object = inherited && (value.apiVersion === undefined || value.kind === undefined) ? { ...value, apiVersion: av, kind: k } : value;
  if (!validate(ctx, lookup.known, object, at, resource)) return;
  ctx.out.push({
    file: ctx.file.path,
    index: ctx.index,
    apiVersion: av,
    kind: k,
    value: object,
    // The root of a document is known already; an item of a List is located when asked.
    origin: createOrigin(ctx.file, ctx.doc.span, prefix, prefix.length === 0 ? ctx.doc.root : undefined),
  });
}

function validate(ctx: DocContext, known: KnownKind, value: Record<string, unknown>, at: FieldLocator, resource: ResourceRef): boolean {
  const problems = validateAgainstSchema(known, value, at, resource);
  for (const d of problems) ctx.reporter.report(d);
  return problems.length === 0;
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
  const locate = (path: FieldPath) => ctx.doc.locate([...prefix, ...path]);
  return {
    value: (path) => locate(path).value,
    key: (path) => {
      const p = locate(path);
      return p.key ?? p.value;
    },
  };
}

function errorDetail(e: YAMLError): string {
  // yaml's messages sometimes end with "at line N, column M:" and a code frame; the
  // diagnostic carries the position already.
  return e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

/** Nothing but comments, or a bare `---` (which yaml reads as a null scalar). */
function isEmpty(doc: Document.Parsed): boolean {
  const contents = doc.contents as { value?: unknown; tag?: string } | null;
  return contents === null || (isScalar(contents) && contents.value === null && !contents.tag && contents.range?.[0] === contents.range?.[1]);
}

/** The key a duplicate-key error points at: up to its `:`, without quotes. */
function keyAt(text: string, offset: number): string {
  const end = text.slice(offset, offset + 256).search(/:(\s|$)|\n/);
  const raw = text.slice(offset, end < 0 ? offset + 256 : offset + end).trim();
  return raw.replace(/^(["'])(.*)\1$/, '$2') || '?';
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Iterative, so that the check itself cannot overflow the stack. */
function exceedsDepth(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
