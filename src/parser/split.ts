/**
 * Splitting a YAML stream into its documents without parsing it.
 *
 * YAML forbids a line that starts with `---` or `...` (followed by a space, a tab or the end
 * of the line) anywhere inside a document's content, even inside block or quoted scalars
 * (the spec's `c-forbidden`): such a line always ends the document. So the document
 * boundaries of a stream are exactly its `---` lines, which lets each document be parsed,
 * and read again for positions, on its own.
 */

export interface Chunk {
  /** Offset of the chunk in the file; always the start of a line. */
  readonly start: number;
  readonly end: number;
  /** 1-based line of `start`. */
  readonly startLine: number;
  /** Whether the chunk opens with a `---` marker (a marker alone still makes a document). */
  readonly marker: boolean;
}

const MARKER = /^---(?=[ \t\r\n]|$)/gm;

/**
 * The documents of `text`, or undefined when the stream uses something that makes
 * document-by-document parsing differ from parsing the whole stream: directives (`%YAML`,
 * `%TAG`, which apply to the next document) or `...` end markers. Such files are parsed
 * whole.
 */
export function splitDocuments(text: string): Chunk[] | undefined {
  if (/^(%|\.\.\.(?=[ \t\r\n]|$))/m.test(text)) return undefined;
  const chunks: Chunk[] = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  let counted = 0; // offset up to which newlines are counted into `line`
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(text); m; m = MARKER.exec(text)) {
    if (m.index === 0) continue;
    line += countNewlines(text, counted, m.index);
    counted = m.index;
    chunks.push({ start, end: m.index, startLine, marker: isMarkerAt(text, start) });
    start = m.index;
    startLine = line;
  }
  chunks.push({ start, end: text.length, startLine, marker: isMarkerAt(text, start) });
  return chunks;
}

function isMarkerAt(text: string, offset: number): boolean {
  if (!text.startsWith('---', offset)) return false;
  const next = text.charCodeAt(offset + 3);
  return Number.isNaN(next) || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Offset of the first character of the chunk's content (its root node), or -1 when the
 * chunk holds only its marker, blank lines and comments.
 */
export function contentStart(text: string, chunk: Chunk): number {
  let i = chunk.marker ? chunk.start + 3 : chunk.start;
  while (i < chunk.end) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else if (c === 0x23 /* # */) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 || eol > chunk.end ? chunk.end : eol + 1;
    } else return i;
  }
  return -1;
}
