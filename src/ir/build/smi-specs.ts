/**
 * HTTPRouteGroup, TCPRoute and UDPRoute (specs.smi-spec.io) → IR.
 *
 * - HTTPRouteGroup v1alpha1/v1alpha2 list `matches` at the top level; v1alpha3+ under `spec`.
 * - `headers` is, in every version's CRD, a list of maps (`- user-agent: ".*Android.*"`);
 *   each entry of each map becomes one HeaderMatch, in order.
 * - TCPRoute v1alpha1..v1alpha3 have no ports (the route admits every port); v1alpha4 and
 *   UDPRoute list them under `spec.matches.ports`.
 */
import type { ManifestDocument } from '../../parser/parse.ts';
import type { FieldPath, HeaderMatch, HttpMatch, HttpRouteGroup, TcpRoute, UdpRoute } from '../types.ts';
import { base, versionOf } from './common.ts';

interface RawHttpMatch {
  name: string;
  pathRegex?: string;
  methods?: string[];
  headers?: Record<string, string>[];
}

const TOP_LEVEL_MATCHES = new Set(['v1alpha1', 'v1alpha2']);

export function buildHttpRouteGroup(doc: ManifestDocument): HttpRouteGroup {
  const topLevel = TOP_LEVEL_MATCHES.has(versionOf(doc));
  const root: FieldPath = topLevel ? ['matches'] : ['spec', 'matches'];
  const holder = (topLevel ? doc.value : (doc.value.spec ?? {})) as { matches?: RawHttpMatch[] };
  return {
    ...base(doc, 'HTTPRouteGroup'),
    matches: (holder.matches ?? []).map((m, i) => httpMatch(m, [...root, i])),
  };
}

function httpMatch(raw: RawHttpMatch, path: FieldPath): HttpMatch {
  const headers: HeaderMatch[] = [];
  (raw.headers ?? []).forEach((entry, i) => {
    for (const [name, value] of Object.entries(entry)) headers.push({ name, value, path: [...path, 'headers', i, name] });
  });
  const out: { -readonly [K in keyof HttpMatch]: HttpMatch[K] } = { name: raw.name, headers, path };
  if (raw.pathRegex !== undefined) out.pathRegex = raw.pathRegex;
  // Methods stay as written: absent or containing '*' means any method, [] means none.
  if (raw.methods !== undefined) out.methods = raw.methods;
  return out;
}

function routePorts(doc: ManifestDocument): number[] {
  const spec = (doc.value.spec ?? {}) as { matches?: { ports?: number[] } };
  return spec.matches?.ports ?? [];
}

export function buildTcpRoute(doc: ManifestDocument): TcpRoute {
  return { ...base(doc, 'TCPRoute'), ports: routePorts(doc) };
}

export function buildUdpRoute(doc: ManifestDocument): UdpRoute {
  return { ...base(doc, 'UDPRoute'), ports: routePorts(doc) };
}
