/**
 * HTTPRouteGroup matches that can never apply:
 *
 * - SMI3005: a group with no matches admits nothing;
 * - SMI3011: `methods: []` admits no method;
 * - SMI3010: a match whose every request is taken by an earlier match of the same group.
 *
 * Why order matters: the planner turns each admitted match into one inbound route (one per
 * method), in the group's order, and Envoy stops at the first route that matches. The
 * earlier route's RBAC then decides, so a source admitted only through the later match is
 * denied. These are warnings, and only what is provable is reported: "covers" below is a
 * sound under-approximation (identical regexes, or a literal catch-all), never a guess
 * about what two different regexes have in common.
 */
import { diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import type { FieldPath, HeaderMatch, HttpMatch, HttpRouteGroup, Mesh } from '../ir/types.ts';
import { refOf } from './context.ts';
import { positionOf } from '../parser/origin.ts';

/**
 * Regexes that match every path and every header value. Envoy matches the whole string, so
 * anchors change nothing; `.` misses only `\n`, which neither paths nor header values hold.
 */
const CATCH_ALL = new Set(['.*', '^.*', '.*$', '^.*$', '(.*)', '(?:.*)', '(?s).*', '(?s:.*)']);

/** What the emitter uses for a match without `pathRegex` (emit/routes.ts). */
const MATCH_ALL_PATH = '.*';

function anyMethod(m: HttpMatch): boolean {
  return m.methods === undefined || m.methods.includes('*');
}

/** Envoy compares header names case-insensitively; OSM matches `host` as `:authority`. */
function headerKey(h: HeaderMatch): string {
  const name = h.name.toLowerCase();
  return name === 'host' ? ':authority' : name;
}

/** Every request `later` matches, `earlier` matches too (as far as can be proven). */
export function covers(earlier: HttpMatch, later: HttpMatch): boolean {
  // Methods: one route per listed method; "any" is a route without a method matcher.
  if (!anyMethod(earlier)) {
    if (anyMethod(later)) return false;
    if (!later.methods!.every((m) => earlier.methods!.includes(m))) return false;
  }
  const earlierPath = earlier.pathRegex ?? MATCH_ALL_PATH;
  if (!CATCH_ALL.has(earlierPath) && earlierPath !== (later.pathRegex ?? MATCH_ALL_PATH)) return false;
  // Each header condition of the earlier match must be implied by one of the later match:
  // the same header required with the same regex, or any value when the earlier is `.*`.
  return earlier.headers.every((h) =>
    later.headers.some((l) => headerKey(l) === headerKey(h) && (l.value === h.value || CATCH_ALL.has(h.value))),
  );
}

function matchesNothing(m: HttpMatch): boolean {
  return m.methods !== undefined && m.methods.length === 0;
}

/** The rules of every TrafficTarget that name an HTTPRouteGroup, by `<namespace>/<group>`. */
type RulesByGroup = ReadonlyMap<string, readonly { readonly matches?: readonly { name: string }[] }[]>;

function rulesByGroup(mesh: Mesh): RulesByGroup {
  const out = new Map<string, { matches?: readonly { name: string }[] }[]>();
  for (const target of mesh.trafficTargets) {
    for (const rule of target.rules) {
      if (rule.kind !== 'HTTPRouteGroup') continue;
      const key = `${target.meta.namespace}/${rule.name}`;
      let list = out.get(key);
      if (!list) out.set(key, (list = []));
      list.push(rule);
    }
  }
  return out;
}

/**
 * Whether some TrafficTarget admits `later` from this group without `earlier`: the proxies
 * it configures get a route for `later` alone, which is then reachable. Route groups are
 * looked up in the TrafficTarget's namespace; a rule without `matches` admits them all.
 */
function canEscape(rules: RulesByGroup, groupName: string, earlier: HttpMatch, later: HttpMatch): boolean {
  const admits = (names: readonly { name: string }[] | undefined, m: HttpMatch): boolean =>
    names === undefined || names.some((n) => n.name === m.name);
  return (rules.get(groupName) ?? []).some((r) => admits(r.matches, later) && !admits(r.matches, earlier));
}

/** Where the group's match list is (or would be): top level before v1alpha3, then under spec. */
function matchesPath(group: HttpRouteGroup): FieldPath {
  return /\/v1alpha[12]$/.test(group.apiVersion) ? ['matches'] : ['spec', 'matches'];
}

export function validateHttpMatches(mesh: Mesh, reporter: Reporter): void {
  const rules = rulesByGroup(mesh);
  for (const group of mesh.httpRouteGroups) {
    const ref = refOf(group);
    const groupName = `${group.meta.namespace}/${group.meta.name}`;
    if (group.matches.length === 0) {
      const args = { kind: group.kind, namespace: group.meta.namespace, name: group.meta.name };
      reporter.report(diagnostic('route-group-without-matches', args, positionOf(group.origin, matchesPath(group)), ref));
      continue;
    }
    group.matches.forEach((later, j) => {
      if (matchesNothing(later)) {
        const at = positionOf(group.origin, [...later.path, 'methods']);
        reporter.report(diagnostic('empty-method-list', { match: later.name, group: groupName }, at, ref));
        return; // it matches nothing, so "shadowed" would add nothing
      }
      const earlier = group.matches
        .slice(0, j)
        .find((e) => !matchesNothing(e) && covers(e, later) && !canEscape(rules, groupName, e, later));
      if (earlier) {
        const args = { match: later.name, group: groupName, earlier: earlier.name };
        reporter.report(diagnostic('route-shadowed', args, positionOf(group.origin, later.path), ref));
      }
    });
  }
}
