/**
 * Does an HTTP request match an SMI match, the way the destination sidecar's Envoy decides it
 * (src/emit/routes.ts writes the matchers): the path regex with RE2 semantics against the whole
 * path without its query string, the method exactly, each header's value against its RE2 regex
 * in full (`host` is the `:authority` pseudo-header). A header the request lacks never matches.
 */
import { RE2JS } from 're2js';
import type { HttpMatch } from '../ir/types.ts';

export interface HttpRequest {
  readonly method: string;
  /** As sent, query string included. */
  readonly path: string;
  /** Lower-case names; `:authority` holds the Host. */
  readonly headers: ReadonlyMap<string, string>;
}

/** Envoy's any-path matcher when a match names no path (routes.ts MATCH_ALL). */
const MATCH_ALL = '.*';

function fullMatch(regex: string, value: string): boolean {
  try {
    return RE2JS.matches(regex, value);
  } catch {
    // An invalid regex was reported by validate-regex (SMI3009) and never reaches Envoy as a route.
    return false;
  }
}

export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/** Why `request` misses `match` with `method` (one of OSM's per-method routes), or undefined when it matches. */
export function missReason(match: HttpMatch | undefined, method: string | undefined, request: HttpRequest): string | undefined {
  const regex = match?.pathRegex ?? MATCH_ALL;
  if (!fullMatch(regex, pathOnly(request.path))) return `path ${pathOnly(request.path)} does not match ${JSON.stringify(regex)}`;
  if (method !== undefined && method !== request.method) return `method ${request.method} is not ${method}`;
  for (const h of match?.headers ?? []) {
    const name = h.name.toLowerCase() === 'host' ? ':authority' : h.name.toLowerCase();
    const value = request.headers.get(name);
    if (value === undefined) return `header ${h.name} is missing (wants ${JSON.stringify(h.value)})`;
    if (!fullMatch(h.value, value)) return `header ${h.name}: ${JSON.stringify(value)} does not match ${JSON.stringify(h.value)}`;
  }
  return undefined;
}

/** Envoy's virtual host choice: exact domains (ours are all exact), case-insensitive. */
export function hostMatches(domains: readonly string[], authority: string): boolean {
  const a = authority.toLowerCase();
  return domains.some((d) => d.toLowerCase() === a);
}
