/**
 * Field path → offsets over yaml's concrete syntax tree, without composing a Document.
 *
 * Positions are asked for after parsing (diagnostics from the passes), one re-parse of one
 * document each; lexing and parsing to tokens is about a quarter of building the Document.
 * This walker answers for the plain shapes manifests are made of: block and flow maps and
 * sequences of scalars. Anything whose reading it would have to second-guess (aliases,
 * anchors, tags, explicit `?` keys, plain keys that YAML might read as something other than
 * their text, parse errors) makes it return undefined, and the caller composes the Document
 * and walks that instead (locate.ts), so both always agree. A test holds them to it on every
 * path of every manifest in the fixtures and the corpus.
 */
import { CST, Parser } from 'yaml';
import type { FieldPath } from '../ir/types.ts';
import type { NodeOffsets } from './locate.ts';

type Token = CST.Token;
type Item = CST.CollectionItem;
export type CstDocument = CST.Document;

class Unsure extends Error {}

/** Plain keys whose value is their text under YAML 1.2's core schema (not a number, bool or null). */
const PLAIN_TEXT_KEY = /^[A-Za-z_/][\w./-]*$/;
const CORE_SPECIAL = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)$/;

function hasProps(tokens: readonly CST.SourceToken[] | undefined): boolean {
  return tokens !== undefined && tokens.some((t) => t.type === 'anchor' || t.type === 'tag' || t.type === 'explicit-key-ind');
}

function keyText(key: Token): string {
  switch (key.type) {
    case 'scalar':
      if (!PLAIN_TEXT_KEY.test(key.source) || CORE_SPECIAL.test(key.source)) throw new Unsure();
      return key.source;
    case 'single-quoted-scalar':
    case 'double-quoted-scalar': {
      let failed = false;
      const resolved = CST.resolveAsScalar(key, true, () => (failed = true));
      if (!resolved || failed) throw new Unsure();
      return resolved.value;
    }
    default:
      throw new Unsure();
  }
}

/** Start of a value node, as the composed Document's `range[0]`; undefined for an absent value. */
function startOf(token: Token | undefined): number | undefined {
  if (token === undefined) return undefined;
  switch (token.type) {
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
    case 'block-scalar':
    case 'block-map':
    case 'block-seq':
    case 'flow-collection':
      return token.offset;
    default:
      throw new Unsure(); // alias, error, or something this walker does not know
  }
}

function isFlowMap(token: CST.FlowCollection): boolean {
  return token.start.type === 'flow-map-start';
}

function mapItems(token: Token): readonly Item[] | undefined {
  if (token.type === 'block-map') return token.items;
  if (token.type === 'flow-collection' && isFlowMap(token)) return token.items;
  return undefined;
}

function seqItems(token: Token): readonly Item[] | undefined {
  if (token.type === 'block-seq') return token.items;
  if (token.type === 'flow-collection' && !isFlowMap(token)) {
    if (token.items.some((item) => item.key !== undefined || (item.sep ?? []).some((t) => t.type === 'map-value-ind'))) throw new Unsure();
    return token.items;
  }
  return undefined;
}

function checkItem(item: Item): void {
  if (hasProps(item.start) || hasProps(item.sep)) throw new Unsure();
}

function walk(root: Token, path: FieldPath): NodeOffsets {
  let node: Token = root;
  let value = startOf(root)!;
  let key: number | undefined;
  for (const segment of path) {
    key = undefined;
    const asMap = mapItems(node);
    const asSeq = asMap ? undefined : seqItems(node);
    if (asMap) {
      // Every key is read, not just up to the match: YAML's first-wins for duplicates is
      // what the Document does too, and an unsure key anywhere makes the answer unsure.
      let found: Item | undefined;
      for (const item of asMap) {
        checkItem(item);
        if (item.key === undefined || item.key === null) throw new Unsure();
        if (found === undefined && keyText(item.key as Token) === String(segment)) found = item;
      }
      if (!found) return { value };
      // An absent value is an empty node whose place the composer works out from the
      // surrounding tokens; leave that to it.
      if (!found.value) throw new Unsure();
      key = startOf(found.key as Token);
      node = found.value;
      value = startOf(node)!;
    } else if (asSeq && typeof segment === 'number' && segment >= 0 && segment < asSeq.length) {
      const item = asSeq[segment];
      checkItem(item);
      if (!item.value) throw new Unsure();
      node = item.value;
      value = startOf(node)!;
    } else {
      if (node.type !== 'scalar' && node.type !== 'single-quoted-scalar' && node.type !== 'double-quoted-scalar' && node.type !== 'block-scalar' && !asSeq) {
        throw new Unsure();
      }
      return { value };
    }
  }
  return key === undefined ? { value } : { value, key };
}

/** The one YAML document in `text` as a CST, or undefined when the walker should not be used on it. */
export function cstDocument(text: string, onNewLine?: (offset: number) => void): CST.Document | undefined {
  let document: CST.Document | undefined;
  for (const token of new Parser(onNewLine).parse(text)) {
    if (token.type === 'document') {
      if (document !== undefined) return undefined;
      document = token;
    } else if (token.type !== 'comment' && token.type !== 'space' && token.type !== 'newline' && token.type !== 'byte-order-mark') {
      return undefined; // directives, errors, a second document...
    }
  }
  if (!document || document.value === undefined || hasProps(document.start)) return undefined;
  return document;
}

/**
 * Offsets of `path` in a document from `cstDocument`, or undefined when the walker is not
 * sure it reads the text as the Document does (then compose it and use findOffsets).
 */
export function locateInCst(document: CST.Document, path: FieldPath): NodeOffsets | undefined {
  try {
    return walk(document.value!, path);
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
}
