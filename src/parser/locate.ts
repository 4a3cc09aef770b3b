/**
 * Field path → offsets, over a `yaml` Document: while a document that took the `yaml` path is
 * interpreted (documents.ts, on its live Document), and later for any document the line reader
 * does not read (origin.ts, on a Document composed again from its text).
 */
import { isAlias, isMap, isPair, isSeq, type Document, type Node } from 'yaml';
import type { FieldPath } from '../shared/position.ts';

/** Offsets (0-based, into the parsed text) of the node a path names. */
export interface NodeOffsets {
  /** The value node, or the nearest existing ancestor when the path does not exist. */
  readonly value: number;
  /** The key of the last path segment, when it names an existing map entry. */
  readonly key?: number;
}

type AnyDoc = Document.Parsed | Document;

/**
 * Walks `path` from `root`. A missing segment stops the walk at the nearest existing
 * ancestor, so a diagnostic about a missing field still lands on its parent.
 */
export function findOffsets(doc: AnyDoc, root: unknown, path: FieldPath, fallback: number): NodeOffsets {
  let node = resolve(doc, root);
  let value = startOf(node) ?? fallback;
  let key: number | undefined;
  for (const segment of path) {
    key = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
      if (!pair) return { value };
      const keyStart = startOf(pair.key);
      node = resolve(doc, pair.value);
      // `key:` with no value has no value node; the key is then the best place to point.
      value = startOf(node) ?? keyStart ?? value;
      key = keyStart;
    } else if (isSeq(node) && typeof segment === 'number' && segment >= 0 && segment < node.items.length) {
      node = resolve(doc, node.items[segment]);
      value = startOf(node) ?? value;
    } else {
      return { value };
    }
  }
  return key === undefined ? { value } : { value, key };
}

function resolve(doc: AnyDoc, node: unknown): unknown {
  // An alias points wherever its anchor's node is; follow it so paths walk through.
  return isAlias(node) ? node.resolve(doc as Document) : node;
}

function startOf(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

function keyText(key: unknown): string | undefined {
  if (key === null || key === undefined) return undefined;
  if (typeof key === 'object' && 'value' in (key as object)) return String((key as { value: unknown }).value);
  return String(key);
}
