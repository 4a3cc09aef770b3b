/**
 * YAML features that Kubernetes tooling reads differently, found on a parsed `yaml` document:
 * merge keys and tags beyond the JSON-compatible core. Each is worth a warning (SMI1017) at
 * its position, because the same file means something else to `kubectl` (YAML 1.1, go-yaml)
 * than to a YAML 1.2 reader.
 */
import { isAlias, isScalar, visit, type Document } from 'yaml';

/** Tags that only restate what the plain value already is (or force a string, as charts do). */
const HARMLESS_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);

export interface YamlFeature {
  /** Offset of the tag or `<<` key in the parsed text. */
  readonly offset: number;
  readonly detail: string;
}

/**
 * Merge keys (`<<`, resolved as kubectl does: the document is parsed with `merge: true`) and
 * resolved non-core tags (`!!binary`, `!!set`, `!!timestamp`, ...). Unknown tags are not
 * listed: `yaml` already warns about them.
 */
export function yamlFeatures(doc: Document.Parsed, text: string): YamlFeature[] {
  const found: YamlFeature[] = [];
  visit(doc, {
    Pair(_, pair) {
      // With `merge: true` a plain `<<` key is parsed as the merge symbol.
      if (isScalar(pair.key) && typeof pair.key.value === 'symbol' && pair.key.range) {
        found.push({
          offset: pair.key.range[0],
          detail: 'merge key << is YAML 1.1; kubectl merges it, many YAML 1.2 tools do not. Write the merged fields out',
        });
      }
    },
    Node(_, node) {
      const tag = node.tag;
      if (!tag || !node.range || HARMLESS_TAGS.has(tag) || isAlias(node)) return;
      if (!tag.startsWith('tag:yaml.org,2002:')) return; // unresolved (custom) tags: yaml warns already
      found.push({
        offset: tagStart(text, node.range[0]),
        detail: `tag !!${tag.slice('tag:yaml.org,2002:'.length)} is not a JSON type; Kubernetes would read the value differently or reject it. Write the plain value instead`,
      });
    },
  });
  return found.sort((a, b) => a.offset - b.offset);
}

/** Offset of the first alias (`*name`) in the document, or undefined. */
export function firstAlias(doc: Document.Parsed): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.range && (at === undefined || node.range[0] < at)) at = node.range[0];
    },
  });
  return at;
}

/** The tag precedes its node (`!!set {a, b}`, possibly with an anchor between): find where it starts. */
function tagStart(text: string, nodeStart: number): number {
  const bang = text.lastIndexOf('!', nodeStart - 1);
  if (bang < 0) return nodeStart;
  let i = bang;
  while (i > 0 && !/[\s[\]{},]/.test(text[i - 1])) i--;
  return i;
}
