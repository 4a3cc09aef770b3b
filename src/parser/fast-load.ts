/**
 * The parser's fast path: one clean YAML document → its value, with js-yaml.
 *
 * `yaml` (v2) builds a full AST with positions and reports problems precisely, but it is an
 * order of magnitude slower than js-yaml on large manifests, and almost every document is
 * clean and never asked for a position. So each document is first loaded with js-yaml; only
 * when that is not certain to give exactly what `yaml` would (an error, an alias, a tag it
 * does not know, absurd nesting, a YAML 1.1 binary integer) does the caller fall back to
 * `yaml`, which then reports the problem with its position. Positions of clean documents
 * are found later, on demand, by reading just that document's text again (origin.ts).
 */
import { CORE_SCHEMA, load } from 'js-yaml';

/**
 * js-yaml's core schema reads `0b101` as a number (a YAML 1.1 leftover); YAML 1.2, and so
 * `yaml`, read it as a string. Rare enough to just take the slow path.
 */
const BINARY_INT = /(?:^|[\s:,[{-])[-+]?0b[01_]+[ \t]*(?:$|[,\]}#])/m;

/**
 * Where an alias (`*name`) could start: after a space, a flow indicator or a colon. js-yaml
 * resolves an alias to the very object of its anchor and sets no limit; `yaml` limits their
 * expansion ("billion laughs"), so documents that may hold one take the slow path. A `*`
 * inside quotes or a regex (`.*`, `'*'`) rarely matches, and a false match only costs speed.
 */
const ALIAS = /(?:^|[\s,[{:])\*[^\s,[\]{}]/m;

/**
 * The value of the one document in `text`, or `undefined` when the caller must parse it
 * with `yaml` instead.
 */
export function fastLoad(text: string, maxDepth: number): { value: unknown } | undefined {
  // The native substring search first: the regexes cannot match without it, and most documents have neither.
  if ((text.includes('0b') && BINARY_INT.test(text)) || (text.includes('*') && ALIAS.test(text))) return undefined;
  let value: unknown;
  try {
    // Core schema: YAML 1.2 types only (no timestamps, no merge keys), as `yaml` does.
    // Duplicate keys, unknown tags and syntax errors throw.
    value = load(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined; // includes a RangeError from very deep nesting
  }
  // Past the depth limit, the slow path reports it with the limit and position.
  return depthWithin(value, maxDepth) ? { value } : undefined;
}

function depthWithin(node: unknown, budget: number): boolean {
  if (node === null || typeof node !== 'object') return true;
  if (budget === 0) return false;
  if (Array.isArray(node)) {
    for (const child of node) if (!depthWithin(child, budget - 1)) return false;
  } else {
    for (const key in node) if (!depthWithin((node as Record<string, unknown>)[key], budget - 1)) return false;
  }
  return true;
}
