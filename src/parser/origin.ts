/**
 * The position finder: an origin (src/shared/position.ts) and a field path → file:line:column.
 *
 * Documents keep no AST: one per document would cost many times the size of the input
 * (benchmarks parse 5,000-service meshes), and almost every document is never asked for a
 * position. So an origin keeps its document's text, and the first position asked of a document
 * reads that text again. Which reader serves the document is chosen then, once: the line reader
 * (locate-lines.ts) when it can read every node of it, which is what manifests are made of;
 * otherwise yaml's composed Document (locate.ts).
 */
import { createHash } from 'node:crypto';
import { parseDocument, type Document } from 'yaml';
import type { FieldPath, ObjectOrigin, Origin, SourcePosition, TextOrigin } from '../shared/position.ts';
import { offsetsInLines, readLines } from './locate-lines.ts';
import { findOffsets, type NodeOffsets } from './locate.ts';

/** Positions of a path's value node, and of its key when the path names a map entry. */
export interface Located {
  readonly value: SourcePosition;
  readonly key?: SourcePosition;
}

/** The origin of a resource in a file's document (its text from the start of its first line, which is line `line`). */
export function textOrigin(file: string, document: string, line: number, prefix: FieldPath = []): TextOrigin {
  return { from: 'text', file, document, line, prefix };
}

/**
 * The origin of an object read from the Kubernetes API (`ref` is `Kind ns/name`): there is no
 * line to point at, so a position names the object and the field (`line` and `column` are 0,
 * which formatDiagnostic reads as "no text position").
 */
export function objectOrigin(ref: string, prefix: FieldPath = []): ObjectOrigin {
  return { from: 'api', file: ref, prefix };
}

/** Where `path` (from the resource's root; `[]` for the resource itself) is; the nearest existing ancestor when it is missing. */
export function positionOf(origin: Origin, path: FieldPath = []): SourcePosition {
  return locate(origin, path).value;
}

/** Where the map key that `path` ends in is (`backends:` rather than its first item); the value's position when there is no key. */
export function keyPositionOf(origin: Origin, path: FieldPath): SourcePosition {
  const found = locate(origin, path);
  return found.key ?? found.value;
}

/** Both positions of `path`, from the resource's root. */
export function locate(origin: Origin, path: FieldPath): Located {
  const full = origin.prefix.length === 0 ? path : [...origin.prefix, ...path];
  if (origin.from === 'api') return { value: { file: origin.file, line: 0, column: 0, field: fieldPathText(full) } };
  return locateInDocument(origin.file, origin.document, origin.line, full);
}

/** `spec.rules[0].matches`: a field path as kubectl and the API server's errors spell it. */
function fieldPathText(path: FieldPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

/** Positions of `path` in `document` (a document's text, starting at line `line` of `file`). */
export function locateInDocument(file: string, document: string, line: number, path: FieldPath): Located {
  const read = readerOf(document);
  const pathKey = JSON.stringify(path);
  let offsets = read.offsets.get(pathKey);
  if (!offsets) read.offsets.set(pathKey, (offsets = read.find(path)));
  const at = (offset: number): SourcePosition => positionAt(file, read.lineStarts, line, offset);
  return offsets.key === undefined ? { value: at(offsets.value) } : { value: at(offsets.value), key: at(offsets.key) };
}

/**
 * Where character `offset` (in UTF-16 units) of the scalar at `path` is written, `value` being
 * the scalar's value: for a problem found inside a value, such as a regex's bad character. The
 * scalar's own position when its line does not hold exactly `value` (block scalars, multi-line
 * flow scalars) or the origin has no text (an object from the Kubernetes API).
 */
export function positionInScalar(origin: Origin, path: FieldPath, value: string, offset: number): SourcePosition {
  const at = positionOf(origin, path);
  if (origin.from === 'api') return at;
  const { lineStarts } = readerOf(origin.document);
  const i = at.line - origin.line;
  const line = origin.document.slice(lineStarts[i], i + 1 < lineStarts.length ? lineStarts[i + 1] - 1 : undefined);
  const col = sourceOffsetInLine(line, at.column - 1, value, offset);
  return col === undefined ? at : { ...at, column: col + 1 };
}

/** Length, in decoded UTF-16 units, and source length of one YAML double-quoted escape. */
function doubleQuotedEscape(src: string, i: number): { decoded: number; source: number } {
  const c = src[i + 1];
  const hex = { x: 2, u: 4, U: 8 }[c as 'x' | 'u' | 'U'];
  if (hex) {
    const cp = parseInt(src.slice(i + 2, i + 2 + hex), 16);
    return { decoded: cp > 0xffff ? 2 : 1, source: 2 + hex };
  }
  return { decoded: 1, source: 2 };
}

/**
 * Maps `offset` in a scalar's value to the 0-based offset in `line` where that character
 * is written, given that the scalar starts at `start`. Plain scalars are written as they
 * read; quoted ones shift by the quote and by escapes (`\\` in "…", `''` in '…'). Returns
 * undefined when the line does not hold exactly `value` (block scalars, multi-line flow
 * scalars), so that the caller keeps the scalar's own position rather than guess.
 */
export function sourceOffsetInLine(line: string, start: number, value: string, offset: number): number | undefined {
  const quote = line[start];
  if (quote !== '"' && quote !== "'") return line.startsWith(value, start) ? start + offset : undefined;
  let decoded = '';
  let found: number | undefined;
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    let step = 1;
    let piece = c;
    if (c === quote) {
      if (quote === "'" && line[i + 1] === "'") step = 2; // '' is one quote
      else break;
    } else if (quote === '"' && c === '\\') {
      const esc = doubleQuotedEscape(line, i);
      step = esc.source;
      // Positions need only how many characters an escape stands for, so take them from
      // the value rather than decode every YAML escape; the text around is still compared.
      piece = value.slice(decoded.length, decoded.length + esc.decoded);
    }
    if (found === undefined && decoded.length + piece.length > offset) found = i;
    decoded += piece;
    i += step;
  }
  if (line[i] !== quote || decoded !== value) return undefined;
  return found ?? i;
}

/**
 * Position of `offset` in `text`, counting lines from `from` (the start of a line, which is line
 * `from.line`): for a problem found in the raw text, before any document is read.
 */
export function positionInText(file: string, text: string, offset: number, from = { start: 0, line: 1 }): SourcePosition {
  let line = from.line;
  let lineStart = from.start;
  for (let i = text.indexOf('\n', from.start); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { file, line, column: offset - lineStart + 1 };
}

/** Offsets (0-based, of line starts) → a 1-based position, the document starting at `firstLine`. */
function positionAt(file: string, lineStarts: readonly number[], firstLine: number, offset: number): SourcePosition {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file, line: firstLine + lo, column: offset - lineStarts[lo] + 1 };
}

/**
 * One document's reader, chosen once, and the offsets it found. Kept by the document's text,
 * wherever that text sits: an edit to one resource of a file moves the lines of every document
 * after it, and `serve --watch` reports the same warnings about them again; this finds them
 * without reading those documents again. Keyed by a hash (a slice of the file would keep the
 * whole old file text alive), at most READERS documents.
 */
interface DocumentReader {
  readonly lineStarts: readonly number[];
  readonly find: (path: FieldPath) => NodeOffsets;
  readonly offsets: Map<string, NodeOffsets>;
}

const READERS = 4096;
const readers = new Map<string, DocumentReader>();

function readerOf(text: string): DocumentReader {
  const hash = createHash('sha1').update(text).digest('base64');
  let reader = readers.get(hash);
  if (!reader) {
    readers.set(hash, (reader = newReader(hash, text)));
    if (readers.size > READERS) readers.delete(readers.keys().next().value as string);
  }
  return reader;
}

function newReader(hash: string, text: string): DocumentReader {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lines = readLines(text);
  if (lines) return { lineStarts, find: (path) => offsetsInLines(lines, path), offsets: new Map() };
  // Composed when first asked, and only the most recent few kept: an AST costs many times its text.
  const find = (path: FieldPath): NodeOffsets => {
    const doc = composed(hash, text);
    return findOffsets(doc, doc.contents, path, 0);
  };
  return { lineStarts, find, offsets: new Map() };
}

const COMPOSED = 32;
const documents = new Map<string, Document>();

/** The Document, as the first parse made it (same options, so every path reads the same). */
function composed(hash: string, text: string): Document {
  let doc = documents.get(hash);
  if (doc) {
    // Re-insert to mark it most recently used.
    documents.delete(hash);
  } else {
    doc = parseDocument(text, { prettyErrors: false });
    if (documents.size >= COMPOSED) documents.delete(documents.keys().next().value as string);
  }
  documents.set(hash, doc);
  return doc;
}
