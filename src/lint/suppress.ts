/**
 * Suppressions, so a team can accept a known finding without turning a whole check off:
 *
 * - `--suppress CODE` drops every diagnostic with that code;
 * - `--suppress CODE=Kind/ns/name` only those about one resource (`Kind/name` for a
 *   cluster-scoped one; `*` matches any namespace or name);
 * - the annotation `smi-compile.io/suppress: CODE[,CODE]` on a resource drops those codes
 *   for that resource, so the exception lives, and is reviewed, beside the policy itself.
 *
 * A code may be given by its name too (`invalid-regex` for `SMI3009`). A code that is not
 * in the catalogue is a usage error on the command line: a typo would otherwise suppress
 * nothing, silently. In an annotation it cannot be reported (no diagnostic is attached to
 * the annotation), so an unknown entry there is ignored and the finding stays visible.
 */
import { catalogueEntry, type Diagnostic, type ResourceRef } from '../diagnostics/diagnostic.ts';

export const SUPPRESS_ANNOTATION = 'smi-compile.io/suppress';

export interface SuppressRule {
  code: string;
  /** Only diagnostics about this resource; `*` in namespace or name matches anything. */
  resource?: { kind: string; namespace?: string; name: string };
}

export type AnnotationLookup = (ref: ResourceRef) => Readonly<Record<string, string>> | undefined;

/** A malformed `--suppress` value; the CLI turns it into a usage error (exit 2). */
export class SuppressSpecError extends Error {
  override name = 'SuppressSpecError';
}

/** `SMI3009`, `smi3009` or `invalid-regex` → `SMI3009`; undefined when unknown. */
function codeOf(token: string): string | undefined {
  const t = token.trim();
  for (const candidate of [t.toUpperCase(), t]) {
    try {
      return catalogueEntry(candidate).code;
    } catch {
      // not a code or a name; try the next spelling
    }
  }
  return undefined;
}

export function parseSuppressRule(spec: string): SuppressRule {
  const eq = spec.indexOf('=');
  const codePart = eq < 0 ? spec : spec.slice(0, eq);
  const code = codeOf(codePart);
  if (!code) throw new SuppressSpecError(`--suppress ${spec}: ${JSON.stringify(codePart)} is not a diagnostic code or name`);
  if (eq < 0) return { code };
  const parts = spec.slice(eq + 1).split('/');
  if (parts.some((p) => p === '') || parts.length < 2 || parts.length > 3) {
    throw new SuppressSpecError(`--suppress ${spec}: expected CODE=Kind/namespace/name (or CODE=Kind/name for a cluster-scoped resource)`);
  }
  const [kind, a, b] = parts as [string, string, string | undefined];
  return { code, resource: b === undefined ? { kind, name: a } : { kind, namespace: a, name: b } };
}

function segmentMatches(pattern: string | undefined, value: string | undefined): boolean {
  if (pattern === '*') return true;
  // A cluster-scoped resource may carry namespace '' or none at all.
  return (pattern ?? '') === (value ?? '');
}

function ruleMatches(rule: SuppressRule, d: Diagnostic): boolean {
  if (rule.code !== d.code) return false;
  if (!rule.resource) return true;
  const r = d.resource;
  if (!r) return false;
  return (
    rule.resource.kind.toLowerCase() === r.kind.toLowerCase() &&
    segmentMatches(rule.resource.namespace, r.namespace) &&
    segmentMatches(rule.resource.name, r.name)
  );
}

/** The codes a resource's annotation suppresses (`SMI3010, route-shadowed` → both forms ok). */
export function annotationCodes(annotations: Readonly<Record<string, string>> | undefined): Set<string> {
  const codes = new Set<string>();
  const value = annotations?.[SUPPRESS_ANNOTATION];
  if (!value) return codes;
  for (const token of value.split(/[\s,]+/)) {
    const code = token ? codeOf(token) : undefined;
    if (code) codes.add(code);
  }
  return codes;
}

export interface SuppressOptions {
  rules?: readonly SuppressRule[];
  annotationsOf?: AnnotationLookup;
}

export function applySuppressions(
  diagnostics: readonly Diagnostic[],
  { rules = [], annotationsOf }: SuppressOptions,
): { kept: Diagnostic[]; suppressed: Diagnostic[] } {
  const kept: Diagnostic[] = [];
  const suppressed: Diagnostic[] = [];
  // Many diagnostics name the same resource; parse its annotation once.
  const byResource = new Map<string, Set<string>>();
  const annotated = (r: ResourceRef): Set<string> => {
    const key = `${r.kind}/${r.namespace ?? ''}/${r.name}`;
    let codes = byResource.get(key);
    if (!codes) byResource.set(key, (codes = annotationCodes(annotationsOf?.(r))));
    return codes;
  };
  for (const d of diagnostics) {
    const hit = rules.some((rule) => ruleMatches(rule, d)) || (annotationsOf !== undefined && d.resource !== undefined && annotated(d.resource).has(d.code));
    (hit ? suppressed : kept).push(d);
  }
  return { kept, suppressed };
}
