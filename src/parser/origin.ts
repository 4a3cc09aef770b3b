/**
 * Origins: where each resource came from, and a `locate` that maps any field path to its
 * file:line:column.
 *
 * Keeping a `yaml` AST for every document would cost many times the size of the input
 * (benchmarks parse 5,000-service meshes), and almost every document is never asked for a
 * position. So an origin keeps only the file (whose text is in memory anyway) and the span
 * of its document; the first `locate` re-parses that one document and a small LRU cache
 * keeps the most recent ASTs for the diagnostics that tend to cluster on one resource.
 */
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { SourcePosition } from '../diagnostics/diagnostic.ts';
import type { FieldPath, Origin } from '../ir/types.ts';
import { cstDocument, locateInCst, type CstDocument } from './locate-cst.ts';
import { locateInLines } from './locate-lines.ts';
import { findOffsets } from './locate.ts';
import type { SourceFile } from './source.ts';

/** Where one YAML document sits in its file. */
export interface DocumentSpan {
  /** Offset of the start of the line the document starts on (so columns are unchanged). */
  readonly start: number;
  /** Offset just past the document's last node. */
  readonly end: number;
  /** 1-based line of `start`. */
  readonly startLine: number;
}

interface ParsedSpan {
  readonly file: SourceFile;
  readonly text: string;
  readonly lines: LineCounter;
  readonly cst: CstDocument | undefined;
  doc?: Document;
}

const CACHE_SIZE = 32;
const cache = new Map<string, ParsedSpan>();

function parsedSpan(file: SourceFile, span: DocumentSpan): ParsedSpan {
  const key = `${file.path}\0${span.start}`;
  const hit = cache.get(key);
  if (hit && hit.file === file) {
    // Re-insert to mark it most recently used.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const lines = new LineCounter();
  const text = file.text.slice(span.start, span.end);
  const entry: ParsedSpan = { file, text, lines, cst: cstDocument(text, lines.addNewLine) };
  cache.set(key, entry);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return entry;
}

/** The Document, as the first parse made it (same options, so every path reads the same). */
function composed(parsed: ParsedSpan): Document {
  return parseDocument(parsed.text, { prettyErrors: false });
}

function positionIn(file: SourceFile, lines: LineCounter, span: DocumentSpan, offset: number): SourcePosition {
  const { line, col } = lines.linePos(offset);
  return { file: file.path, line: span.startLine + line - 1, column: col };
}

/**
 * Positions of `path` inside the document at `span` (value node, and the key when the path
 * names a map entry), re-parsing the document on first use.
 */
export function locateInSpan(file: SourceFile, span: DocumentSpan, path: FieldPath): { value: SourcePosition; key?: SourcePosition } {
  const text = file.text.slice(span.start, span.end);
  const known = locatedBefore(text);
  const pathKey = JSON.stringify(path);
  let offsets = known.offsets.get(pathKey);
  if (!offsets) {
    // The lines first (no parse at all), then the CST, then the composed Document: each answers only when sure.
    offsets = locateInLines(text, path);
    if (offsets) {
      known.lines ??= lineCounterOf(text);
    } else {
      const parsed = parsedSpan(file, span);
      offsets = (parsed.cst && locateInCst(parsed.cst, path)) ?? findOffsets((parsed.doc ??= composed(parsed)), parsed.doc.contents, path, 0);
      known.lines ??= parsed.lines;
    }
    known.offsets.set(pathKey, offsets);
  }
  const lines = known.lines!;
  const value = positionIn(file, lines, span, offsets.value);
  return offsets.key === undefined ? { value } : { value, key: positionIn(file, lines, span, offsets.key) };
}

/**
 * Offsets already found in a document, by the document's text: they hold wherever the same
 * text sits. An edit to one resource of a file moves the lines of every document after it, and
 * `serve --watch` reports the same warnings about them again; this finds their positions again
 * without re-parsing them. Keyed by a hash (a slice of the file would keep the whole old file
 * text alive), at most LOCATED_SIZE documents.
 */
interface Located {
  lines?: LineCounter;
  readonly offsets: Map<string, { value: number; key?: number }>;
}
const LOCATED_SIZE = 4096;
const located = new Map<string, Located>();

/** Line starts as yaml's parser reports them to a LineCounter: 0, then after every newline. */
function lineCounterOf(text: string): LineCounter {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  return lines;
}

function locatedBefore(text: string): Located {
  const hash = createHash('sha1').update(text).digest('base64');
  let known = located.get(hash);
  if (!known) {
    located.set(hash, (known = { offsets: new Map() }));
    if (located.size > LOCATED_SIZE) located.delete(located.keys().next().value as string);
  }
  return known;
}

/**
 * The origin of a resource in `file`: the document at `span`, at `prefix` inside it
 * (`['items', 3]` for the fourth item of a `kind: List`). Without a known `position` it is
 * found on first use: the items of a large `kind: List` then cost nothing until asked.
 */
export function createOrigin(file: SourceFile, span: DocumentSpan, prefix: FieldPath, position?: SourcePosition): Origin {
  return new SpanOrigin(file, span, prefix, position);
}

/**
 * A class, not an object literal of closures: `serve --watch` keeps one per resource for as long
 * as its file is unchanged, and a literal with a getter and two closures was ≈ 750 bytes in
 * dictionary mode against ≈ 60 (6,651 of them at 1,000 services).
 */
class SpanOrigin implements Origin {
  constructor(
    private readonly source: SourceFile,
    private readonly span: DocumentSpan,
    private readonly prefix: FieldPath,
    private root: SourcePosition | undefined,
  ) {}

  get file(): string {
    return this.source.path;
  }

  get position(): SourcePosition {
    this.root ??= locateInSpan(this.source, this.span, this.prefix).value;
    return this.root;
  }

  locate(path: FieldPath): SourcePosition {
    return locateInSpan(this.source, this.span, [...this.prefix, ...path]).value;
  }

  locateKey(path: FieldPath): SourcePosition {
    const found = locateInSpan(this.source, this.span, [...this.prefix, ...path]);
    return found.key ?? found.value;
  }
}

/** An origin for resources built in code (tests, synthetic input): every path maps to `position`. */
export function fixedOrigin(position: SourcePosition): Origin {
  return { file: position.file, position, locate: () => position, locateKey: () => position };
}

/** `spec.rules[0].matches`: a field path as kubectl and the API server's errors spell it. */
export function fieldPathText(path: FieldPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

/**
 * The origin of an object read from the Kubernetes API (`ref` is `Kind ns/name`): there is no
 * line to point at, so a position names the object and the field (`line` and `column` are 0,
 * which formatDiagnostic reads as "no text position").
 */
export function objectOrigin(ref: string, prefix: FieldPath): Origin {
  const at = (path: FieldPath): SourcePosition => ({ file: ref, line: 0, column: 0, field: fieldPathText([...prefix, ...path]) });
  return { file: ref, position: at([]), locate: at, locateKey: at };
}
