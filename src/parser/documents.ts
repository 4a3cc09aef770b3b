/**
 * A file's text → its YAML documents, each as a plain value with a way to find the
 * position of any of its fields.
 *
 * Each document goes through the fast path (fast-load.ts) when it can and through `yaml`
 * when it cannot; either way the values, positions and diagnostics are the same (a test
 * holds the two to it). YAML-level problems (syntax, duplicate keys, aliases, depth, tags,
 * empty documents) are reported here; what the documents mean is parse.ts's business.
 */
import { isScalar, LineCounter, parseAllDocuments, type Document, type YAMLError } from 'yaml';
import { diagnostic, type Diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import type { FieldPath, SourcePosition, TextOrigin } from '../shared/position.ts';
import { fastLoad } from './fast-load.ts';
import { findOffsets } from './locate.ts';
import { nestingBeyond } from './nesting.ts';
import { locate, positionInText, textOrigin, type Located } from './origin.ts';
import { OwnedStrings } from './owned-strings.ts';
import type { SourceFile } from './source.ts';
import { contentStart, splitDocuments } from './split.ts';
import { firstAlias, yamlFeatures } from './yaml-features.ts';

/** Aliases a document may expand before we call it a "billion laughs" attack. */
export const MAX_ALIAS_COUNT = 100;
/** No Kubernetes object nests this deep; a deeper document is malformed or hostile. */
export const MAX_DEPTH = 100;
/**
 * Nesting the raw-text pre-scan (nesting.ts) lets through to the YAML libraries. Far above
 * MAX_DEPTH because the scan only estimates; what it stops would exhaust the stack or the heap
 * of either library (a megabyte of `[` aborts the process), what it passes is checked exactly
 * after loading.
 */
export const MAX_SCAN_DEPTH = 10 * MAX_DEPTH;
/** Errors one file may report before the rest of it is skipped (SMI1021). */
export const MAX_ERRORS_PER_FILE = 1000;

/**
 * A merge key (`<<`) anywhere: js-yaml's core schema reads it as a plain key, `yaml` (with
 * `merge: true`, as kubectl) merges it, so such documents take the `yaml` path.
 */
const MERGE_KEY = /(?:^|[\s{,?])<<[ \t]*:/m;

/** One YAML document, loaded: its value, its origin, and how to find positions in it while it is interpreted. */
export interface LoadedDocument {
  readonly value: unknown;
  readonly origin: TextOrigin;
  /** Positions of a path from the document root (value node; key when a map entry). */
  locate(path: FieldPath): Located;
}

/**
 * Calls `onDocument` for every document of `file` that loads, with its index in the file
 * (empty documents count). A syntax error ends the file: nothing after it can be trusted.
 */
export function loadDocuments(
  file: SourceFile,
  outer: Reporter,
  onDocument: (doc: LoadedDocument, index: number, reporter: Reporter) => void,
): void {
  let index = 0;
  const reporter = new FileReporter(outer);
  const strings = new OwnedStrings();
  const document = (doc: LoadedDocument, i: number, r: Reporter): void => onDocument({ ...doc, value: strings.values(doc.value) }, i, r);
  const sink: YamlSink = { reporter, nextIndex: () => index++, document };
  const chunks = splitDocuments(file.text);
  if (!chunks) {
    const deep = nestingBeyond(file.text, MAX_SCAN_DEPTH);
    if (deep >= 0) reporter.report(diagnostic('depth-limit', { limit: MAX_DEPTH }, positionInText(file.path, file.text, deep)));
    else loadWithYaml(file, file.text, { offset: 0, line: 1 }, sink);
    if (index === 0 && !reporter.stopped) reporter.report(diagnostic('empty-file', {}, { file: file.path, line: 1, column: 1 }));
    return;
  }
  // A run of empty documents (`---` after `---`) is one diagnostic, at its first: a file of a
  // million `---` lines must not become a million diagnostics.
  let emptyRun = false;
  for (const chunk of chunks) {
    if (reporter.stopped) return;
    const content = contentStart(file.text, chunk);
    if (content < 0) {
      // A lone `---` is an (empty) document; comments before the first `---` are not.
      if (chunk.marker) {
        sink.nextIndex();
        if (!emptyRun) reporter.report(diagnostic('empty-document', {}, { file: file.path, line: chunk.startLine, column: 1 }));
        emptyRun = true;
      }
      continue;
    }
    emptyRun = false;
    const deep = nestingBeyond(file.text, MAX_SCAN_DEPTH, chunk.start, chunk.end);
    if (deep >= 0) {
      // Its boundaries are `---` lines, which no content can hide (split.ts): the next document is still trustworthy.
      sink.nextIndex();
      reporter.report(diagnostic('depth-limit', { limit: MAX_DEPTH }, positionInText(file.path, file.text, deep, { start: chunk.start, line: chunk.startLine })));
      continue;
    }
    const text = file.text.slice(chunk.start, chunk.end);
    const fast = text.includes('<<') && MERGE_KEY.test(text) ? undefined : fastLoad(text, MAX_DEPTH);
    if (fast) {
      const origin = textOrigin(file.path, text, chunk.startLine);
      document({ value: fast.value, origin, locate: (path) => locate(origin, path) }, sink.nextIndex(), reporter);
    } else if (!loadWithYaml(file, text, { offset: chunk.start, line: chunk.startLine }, sink)) {
      return; // a syntax error: nothing after it in this file can be trusted
    }
  }
  if (index === 0 && !reporter.stopped) reporter.report(diagnostic('empty-file', {}, { file: file.path, line: 1, column: 1 }));
}

/**
 * The reporter one file's diagnostics go through: past MAX_ERRORS_PER_FILE errors it reports
 * SMI1021 once and drops the rest, and loading stops at the next document.
 */
class FileReporter implements Reporter {
  private errors = 0;
  stopped = false;
  constructor(private readonly outer: Reporter) {}
  report(d: Diagnostic): void {
    if (this.stopped) return;
    if (d.level === 'error' && ++this.errors > MAX_ERRORS_PER_FILE) {
      this.stopped = true;
      this.outer.report(diagnostic('too-many-errors', { limit: MAX_ERRORS_PER_FILE }, d.source));
      return;
    }
    this.outer.report(d);
  }
}

interface YamlSink {
  readonly reporter: FileReporter;
  nextIndex(): number;
  document(doc: LoadedDocument, index: number, reporter: Reporter): void;
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
    // merge: true reads `<<` as kubectl (YAML 1.1) does; SMI1017 says so at each one.
    docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true }) as Document.Parsed[];
  } catch (e) {
    // The composer recurses per nesting level: absurdly deep input overflows the stack.
    if (e instanceof RangeError) reporter.report(diagnostic('depth-limit', { limit: MAX_DEPTH }, at(0)));
    else reporter.report(diagnostic('yaml-syntax', { detail: String((e as Error).message ?? e) }, at(0)));
    return false;
  }
  for (const doc of docs) {
    if (reporter.stopped) return false;
    const index = sink.nextIndex();
    const syntax = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
    if (syntax.length > 0) {
      // Later errors in a broken document are mostly echoes of the first; report that one.
      // The composer recurses per level, and a stack overflow surfaces as a "syntax error".
      const overflow = syntax.some((e) => /call stack/i.test(e.message));
      if (overflow) reporter.report(diagnostic('depth-limit', { limit: MAX_DEPTH }, at(syntax[0].pos[0])));
      else reporter.report(diagnostic('yaml-syntax', { detail: errorDetail(syntax[0]) }, at(syntax[0].pos[0])));
      return false;
    }
    const duplicates = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
    for (const e of duplicates) reporter.report(diagnostic('duplicate-key', { key: keyAt(text, e.pos[0]) }, at(e.pos[0])));
    for (const w of doc.warnings) reporter.report(diagnostic('yaml-feature', { detail: errorDetail(w) }, at(w.pos[0])));
    for (const f of yamlFeatures(doc, text)) reporter.report(diagnostic('yaml-feature', { detail: f.detail }, at(f.offset)));
    if (duplicates.length > 0) continue; // which value wins is ambiguous: do not guess
    if (isEmpty(doc)) {
      reporter.report(diagnostic('empty-document', {}, at(doc.range[0])));
      continue;
    }
    const find = (path: FieldPath) => findOffsets(doc, doc.contents, path, doc.range[0]);
    const root = at(find([]).value);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      if (e instanceof RangeError) reporter.report(diagnostic('depth-limit', { limit: MAX_DEPTH }, root));
      // At the first alias: that is where the expansion starts, and what to edit.
      else if (e instanceof ReferenceError) reporter.report(diagnostic('alias-limit', { limit: MAX_ALIAS_COUNT }, at(firstAlias(doc) ?? find([]).value)));
      else reporter.report(diagnostic('yaml-syntax', { detail: String((e as Error).message ?? e) }, root));
      continue;
    }
    if (exceedsDepth(value, MAX_DEPTH)) {
      reporter.report(diagnostic('depth-limit', { limit: MAX_DEPTH }, root));
      continue;
    }
    // Positions asked while the document is interpreted come from this parse; those asked later, from the origin.
    const localStart = lineStart(text, doc.range[0]);
    const origin = textOrigin(file.path, file.text.slice(base.offset + localStart, base.offset + doc.range[2]), base.line + lines.linePos(localStart).line - 1);
    sink.document(
      {
        value,
        origin,
        locate: (path) => {
          const o = find(path);
          return o.key === undefined ? { value: at(o.value) } : { value: at(o.value), key: at(o.key) };
        },
      },
      index,
      reporter,
    );
  }
  return true;
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
  // A quoted key (JSON) ends at its closing quote, not at the next `: `.
  const quoted = /^"((?:\\.|[^"\\\n])*)"|^'((?:''|[^'\n])*)'/.exec(text.slice(offset, offset + 256));
  if (quoted) return quoted[1] ?? quoted[2];
  const end = text.slice(offset, offset + 256).search(/:(\s|$)|\n/);
  const raw = text.slice(offset, end < 0 ? offset + 256 : offset + end).trim();
  return raw.replace(/^(["'])(.*)\1$/, '$2') || '?';
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
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
