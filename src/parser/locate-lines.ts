/**
 * Field path → offsets by reading lines and their indentation: block YAML as manifests are
 * written (`key: value`, nested maps, `- ` sequences, compact `- key: value` items), with no
 * parser at all, about twenty times faster than yaml's parser reads the same text.
 *
 * It reads a document only when it can read every node of it (`readLines`): tabs, non-empty
 * flow collections, quoted or unusual keys, anchors, aliases, tags, block scalars, empty
 * values, directives, anything it would have to interpret, and the whole document is left to
 * yaml's composed Document (locate.ts). The choice is made once per document (origin.ts); a
 * test holds the two to the same answer on every path of every manifest in the fixtures, the
 * corpus samples and a generated mesh.
 */
import type { FieldPath } from '../shared/position.ts';
import type { NodeOffsets } from './locate.ts';

/** A line with content: where it starts, its indentation, and its text after the indentation. */
interface Line {
  readonly start: number;
  readonly indent: number;
  readonly text: string;
}

/** A node: the line it starts on, the column of its first character, what it is. */
type Node = BlockNode | FlowNode;

interface BlockNode {
  readonly line: number;
  readonly column: number;
  readonly kind: 'map' | 'seq' | 'scalar';
}

/** A flow collection on one line (`[a, "b"]`, `{k: v}`, `[{k: v}]`), read whole. */
interface FlowNode {
  readonly line: number;
  readonly column: number;
  readonly kind: 'flow';
  readonly value: FlowValue;
}

/** A value in a flow collection: its offset, and for a collection its items (a map's with their keys). */
interface FlowValue {
  readonly offset: number;
  readonly items?: readonly FlowItem[];
  readonly map?: boolean;
}

interface FlowItem {
  readonly key?: string;
  readonly keyOffset?: number;
  readonly value: FlowValue;
}

class Unsure extends Error {}

/** Plain keys whose value is their text under YAML 1.2's core schema (not a number, bool or null). */
const PLAIN_TEXT_KEY = /^[A-Za-z_/][\w./-]*$/;
const CORE_SPECIAL = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)$/;
/** `key:` then a space, a comment or the end of the line; the key plain, or quoted without escapes. */
const KEY = /^(?:"([^"\\\n]*)"|'([^'\n]*)'|([^\s:#'"][^:#]*?)):(?=\s|$)/;
/** Characters that start something other than a plain scalar, a map or a sequence. */
const SPECIAL_START = /^[&*!|>{[%@`?]/;
/** A plain scalar in a flow collection, as this reader takes it: no indicator first, no `:`, `#` or flow character in it. */
const FLOW_PLAIN = /^(?:[^\s\-?:,[\]{}#&*!|>'"%@`]|-[^\s,[\]{}])[^:#,[\]{}]*$/;
/** A key in a flow map and its `:`. */
const FLOW_KEY = /^(?:(?:"([^"\\]*)"|'([^']*)') *: *|([A-Za-z_/][\w./-]*): +)/;

function linesOf(text: string): Line[] | undefined {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let raw = text.slice(start, end);
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    let indent = 0;
    while (raw.charCodeAt(indent) === 32) indent++;
    const content = raw.slice(indent);
    if (content.startsWith('\t') || raw.includes('\t')) return undefined;
    if (content !== '' && !content.startsWith('#')) {
      if (content.startsWith('---') || content.startsWith('...')) {
        // A leading `---` alone is the document's start marker; anything else is not ours to read.
        if (content !== '---' || lines.length > 0 || indent > 0) return undefined;
      } else {
        lines.push({ start, indent, text: content });
      }
    }
    start = end + 1;
  }
  return lines;
}

/** What starts at `column` of line `i`. */
function nodeAt(lines: readonly Line[], i: number, column: number): Node {
  const text = lines[i].text.slice(column - lines[i].indent);
  if (text === '-' || text.startsWith('- ')) return { line: i, column, kind: 'seq' };
  if (text[0] === '[' || text[0] === '{') return flowAt(text, lines[i].start + column, i, column);
  if (KEY.test(text)) return { line: i, column, kind: 'map' };
  // A quoted or otherwise unusual key (`"a": 1`) would make this a map all the same.
  if (SPECIAL_START.test(text) || /:(?:\s|$)/.test(text)) throw new Unsure();
  return { line: i, column, kind: 'scalar' };
}

/** The node after a `key:` or `- ` whose own line holds nothing more: the next lines. */
function nodeBelow(lines: readonly Line[], i: number, column: number, sequenceMayAlign: boolean): Node {
  const next = lines[i + 1];
  if (next && next.indent > column) return nodeAt(lines, i + 1, next.indent);
  // `key:` with its sequence items at the key's own indentation (the usual Kubernetes style).
  if (sequenceMayAlign && next && next.indent === column && (next.text === '-' || next.text.startsWith('- '))) return { line: i + 1, column, kind: 'seq' };
  throw new Unsure(); // an empty value: its place is the composer's to work out
}

/** Where the value after `rest` (the text following `key:` or `- `) starts, on line i at `column`. */
function valueAfter(lines: readonly Line[], i: number, column: number, rest: string, inMap: boolean): Node {
  const spaces = rest.length - rest.trimStart().length;
  const value = rest.slice(spaces);
  if (value === '' || value.startsWith('#')) return nodeBelow(lines, i, column, inMap);
  if (value.startsWith('- ') || value === '-') throw new Unsure(); // `key: - x`, `- - x`
  const node = nodeAt(lines, i, lines[i].indent + (lines[i].text.length - rest.length) + spaces);
  // `key: a: b` is no map; `- a: b` is (a compact one). A plain scalar holding ': ' before its comment is left to the parser.
  if (node.kind === 'map' && inMap) throw new Unsure();
  if (node.kind === 'scalar' && value[0] !== '"' && value[0] !== "'" && /:\s/.test(value.replace(/\s#.*$/, ''))) throw new Unsure();
  if ((value[0] === '"' || value[0] === "'") && !closesOnLine(value)) throw new Unsure();
  return node;
}

/**
 * The flow collection at the start of `text` (at offset `base`), when it closes on this line and
 * holds only plain or quoted scalars and flow collections of them: anything more (a comment or
 * an empty item inside, `:` or `#` in a plain scalar, escapes in a quoted key, a key without a
 * value) is the composer's to read.
 */
function flowAt(text: string, base: number, line: number, column: number): FlowNode {
  const reader = { text, at: 0 };
  const value = flowValue(reader, base);
  if (!/^\s*(?:#.*)?$/.test(text.slice(reader.at))) throw new Unsure();
  return { line, column, kind: 'flow', value };
}

interface FlowReader {
  readonly text: string;
  at: number;
}

function skipSpaces(r: FlowReader): void {
  while (r.text[r.at] === ' ') r.at++;
}

/** The value at the reader (after spaces), up to the `,` or closing bracket after it. */
function flowValue(r: FlowReader, base: number): FlowValue {
  skipSpaces(r);
  const offset = base + r.at;
  const c = r.text[r.at];
  if (c === '[' || c === '{') {
    const map = c === '{';
    const close = map ? '}' : ']';
    r.at++;
    const items: FlowItem[] = [];
    skipSpaces(r);
    if (r.text[r.at] === close) {
      r.at++;
      return { offset, items, map };
    }
    for (;;) {
      skipSpaces(r);
      if (map) {
        const keyOffset = base + r.at;
        const key = flowKey(r);
        items.push({ key, keyOffset, value: flowValue(r, base) });
      } else {
        items.push({ value: flowValue(r, base) });
      }
      skipSpaces(r);
      const next = r.text[r.at++];
      if (next === close) return { offset, items, map };
      if (next !== ',') throw new Unsure();
    }
  }
  if (c === '"' || c === "'") {
    r.at = quotedEnd(r.text, r.at);
    return { offset };
  }
  const end = r.text.slice(r.at).search(/[,\]}]/);
  if (end < 0) throw new Unsure();
  const plain = r.text.slice(r.at, r.at + end).trimEnd();
  if (!FLOW_PLAIN.test(plain)) throw new Unsure();
  r.at += plain.length;
  return { offset };
}

/** A flow map's key and its `:`: a plain key then `: `, or a quoted key without escapes then `:` (JSON's `"k":v` too). */
function flowKey(r: FlowReader): string {
  const m = FLOW_KEY.exec(r.text.slice(r.at));
  if (!m) throw new Unsure();
  const key = m[1] ?? m[2] ?? m[3];
  if (m[3] !== undefined && CORE_SPECIAL.test(key)) throw new Unsure();
  r.at += m[0].length;
  return key;
}

/** The offset just past the quoted scalar that starts at `i`; it must close on this line. */
function quotedEnd(text: string, i: number): number {
  const quote = text[i];
  for (let k = i + 1; k < text.length; k++) {
    if (quote === '"' && text[k] === '\\') k++;
    else if (text[k] === quote) {
      if (quote === "'" && text[k + 1] === "'") k++;
      else return k + 1;
    }
  }
  throw new Unsure();
}

/** A quoted scalar that ends on its own line (a multi-line one could hide lines that look like keys). */
function closesOnLine(value: string): boolean {
  const quote = value[0];
  for (let k = 1; k < value.length; k++) {
    if (quote === '"' && value[k] === '\\') {
      k++;
      continue;
    }
    if (value[k] === quote) {
      if (quote === "'" && value[k + 1] === "'") {
        k++;
        continue;
      }
      return true;
    }
  }
  return false;
}

/** The lines that belong to the block starting at `node`: up to the first line indented less, or a sibling's. */
function extent(lines: readonly Line[], node: Node): number {
  let end = node.line + 1;
  while (end < lines.length && lines[end].indent >= node.column) {
    if (lines[end].indent === node.column) {
      const isItem = lines[end].text === '-' || lines[end].text.startsWith('- ');
      if (node.kind === 'map' && isItem) {
        end++; // an aligned sequence, the value of an entry of this map
        continue;
      }
      if (node.kind === 'seq' && !isItem) break;
      if (node.kind === 'map' && !KEY.test(lines[end].text)) throw new Unsure();
    }
    end++;
  }
  return end;
}

/** The entries of a map: key text, key offset, and the line and column of the rest of the line. */
function entries(lines: readonly Line[], map: Node): { key: string; keyOffset: number; line: number; rest: string; column: number }[] {
  const out = [];
  const end = extent(lines, map);
  for (let i = map.line; i < end; i++) {
    const line = lines[i];
    const first = i === map.line;
    if (!first && line.indent !== map.column) continue;
    const text = first ? line.text.slice(map.column - line.indent) : line.text;
    if (!first && (text === '-' || text.startsWith('- '))) continue; // an aligned sequence item
    const m = KEY.exec(text);
    if (!m) throw new Unsure();
    const key = m[1] ?? m[2] ?? m[3];
    if (m[3] !== undefined && (!PLAIN_TEXT_KEY.test(key) || CORE_SPECIAL.test(key))) throw new Unsure();
    out.push({ key, keyOffset: line.start + map.column, line: i, rest: text.slice(m[0].length), column: map.column });
  }
  return out;
}

/** The items of a sequence: line and the text after its `-`. */
function items(lines: readonly Line[], seq: Node): { line: number; rest: string; column: number }[] {
  const out = [];
  const end = extent(lines, seq);
  for (let i = seq.line; i < end; i++) {
    const line = lines[i];
    const first = i === seq.line;
    if (!first && line.indent !== seq.column) continue;
    const text = first ? line.text.slice(seq.column - line.indent) : line.text;
    out.push({ line: i, rest: text.slice(1), column: seq.column });
  }
  return out;
}

function offsetOf(lines: readonly Line[], node: Node): number {
  return lines[node.line].start + node.column;
}

/** A document this reader can read: its lines, and its root node. */
export interface LineDocument {
  readonly lines: readonly Line[];
  readonly root: Node;
}

/** The document in `text`, when every node of it reads the same here as in yaml's Document; else undefined. */
export function readLines(text: string): LineDocument | undefined {
  const lines = linesOf(text);
  if (!lines || lines.length === 0) return undefined;
  try {
    const root = nodeAt(lines, 0, lines[0].indent);
    readAll(lines, root);
    return { lines, root };
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
}

/** Reads every node below `node` the way `offsetsInLines` would reach it: any doubt throws Unsure. */
function readAll(lines: readonly Line[], node: Node): void {
  if (node.kind === 'map') for (const e of entries(lines, node)) readAll(lines, valueAfter(lines, e.line, e.column, e.rest, true));
  else if (node.kind === 'seq') for (const item of items(lines, node)) readAll(lines, valueAfter(lines, item.line, item.column, item.rest, false));
}

/**
 * Offsets of `path` in a document from `readLines`, as the composed Document would give them.
 * Every node was read once already, so nothing here can be in doubt.
 */
export function offsetsInLines(doc: LineDocument, path: FieldPath): NodeOffsets {
  const { lines } = doc;
  let node = doc.root;
  let value = offsetOf(lines, node);
  let key: number | undefined;
  for (let index = 0; index < path.length; index++) {
    const segment = path[index];
    key = undefined;
    if (node.kind === 'map') {
      // Every key was read: first-wins for duplicates, as in the Document.
      const found = entries(lines, node).find((e) => e.key === String(segment));
      if (!found) return { value };
      key = found.keyOffset;
      // Where the value starts: after `key:` on the entry's line, or below it.
      node = valueAfter(lines, found.line, found.column, found.rest, true);
      value = offsetOf(lines, node);
    } else if (node.kind === 'seq' && typeof segment === 'number' && segment >= 0) {
      const all = items(lines, node);
      if (segment >= all.length) return { value };
      const item = all[segment];
      node = valueAfter(lines, item.line, item.column, item.rest, false);
      value = offsetOf(lines, node);
    } else if (node.kind === 'flow') {
      return offsetsInFlow(node.value, path.slice(index), value, key);
    } else {
      return { value };
    }
  }
  return key === undefined ? { value } : { value, key };
}

/** The rest of a walk inside a flow collection, as findOffsets walks the Document's nodes. */
function offsetsInFlow(start: FlowValue, path: FieldPath, value: number, key: number | undefined): NodeOffsets {
  let node = start;
  for (const segment of path) {
    key = undefined;
    const item = !node.items ? undefined
      : node.map ? node.items.find((e) => e.key === String(segment))
      : typeof segment === 'number' && segment >= 0 ? node.items[segment]
      : undefined;
    if (!item) return { value };
    key = item.keyOffset;
    node = item.value;
    value = node.offset;
  }
  return key === undefined ? { value } : { value, key };
}
