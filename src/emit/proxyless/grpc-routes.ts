/**
 * SMI HTTP route matches as a gRPC client or server can evaluate them. gRPC has no
 * pseudo-headers in its metadata, so what a sidecar matches on `:method` and `:authority` is
 * decided here, from what is known statically: gRPC always POSTs, and the authority is the name
 * the client dialled (a server: its virtual host's first name). A match that can never fit a
 * gRPC call is dropped, as is one on another pseudo-header. Path matchers stay: gRPC matches
 * them against `/<package>.<Service>/<Method>`.
 */
import { RE2JS } from 're2js';
import type { InboundHttpRoute } from '../../ir/proxy-plan.ts';
import { inboundRouteName } from '../names.ts';
import { headerMatcher, MATCH_ALL, methodsOf } from '../routes.ts';

import type { Json } from '../../shared/json.ts';

/** gRPC sends every call as an HTTP/2 POST. */
const GRPC_METHOD = 'POST';
const AUTHORITY = ':authority';

export interface GrpcRoute {
  /** As the sidecar's inbound route is named (`inboundRouteName`). */
  readonly name: string;
  /** The Envoy RouteMatch without the headers gRPC decided statically. */
  readonly match: Json;
  /** The plan's route: who it admits. */
  readonly route: InboundHttpRoute;
}

function fullMatch(regex: string, value: string): boolean {
  try {
    return RE2JS.compile(regex).matches(value);
  } catch {
    return false; // the passes reject invalid regexes; undecidable here means not admitted
  }
}

/** The gRPC form of one inbound route for one of its methods, or undefined when no gRPC call can match it. */
function grpcRoute(route: InboundHttpRoute, method: string | undefined, authority: string): GrpcRoute | undefined {
  if (method !== undefined && method !== GRPC_METHOD) return undefined;
  const headers: Json[] = [];
  for (const h of route.match?.headers ?? []) {
    const matcher = headerMatcher(h);
    if (matcher.name === AUTHORITY) {
      if (!fullMatch(h.value, authority)) return undefined;
      continue;
    }
    if (String(matcher.name).startsWith(':')) return undefined;
    headers.push(matcher);
  }
  const match: Json = { safe_regex: { regex: route.match?.pathRegex ?? MATCH_ALL } };
  if (headers.length > 0) match.headers = headers;
  return { name: inboundRouteName(route.name, method), match, route };
}

/** The routes in sidecar order (one per method, as `rds-inbound` expands them), as gRPC sees them. */
export function grpcRoutes(routes: readonly InboundHttpRoute[], authority: string): GrpcRoute[] {
  const out: GrpcRoute[] = [];
  for (const route of routes) {
    for (const method of methodsOf(route)) {
      const r = grpcRoute(route, method, authority);
      if (r) out.push(r);
    }
  }
  return out;
}

/** Does the route admit `identity`? Routes without principals (permissive mode) admit everyone. */
export function admits(route: InboundHttpRoute, identity: string): boolean {
  return route.principals === undefined || route.principals.includes(identity);
}
