/**
 * TrafficTarget (access.smi-spec.io v1alpha1..v1alpha3) → IR. v1alpha1 has no `spec`: its
 * destination, `specs` (the later `rules`) and sources sit at the top level.
 */
import type { ManifestDocument } from '../../parser/parse.ts';
import type { FieldPath, IdentityRef, RouteKind, TrafficTarget, TrafficTargetRule } from '../types.ts';
import { base, versionOf } from './common.ts';

interface RawIdentity {
  kind: string;
  name: string;
  namespace?: string;
  port?: number;
}

interface RawRule {
  /** Checked by the schemas: v1alpha1 and v1alpha2 admit HTTPRouteGroup and TCPRoute, v1alpha3 UDPRoute too. */
  kind: RouteKind;
  name: string;
  matches?: string[];
}

interface RawAccess {
  destination: RawIdentity;
  sources?: RawIdentity[];
  rules?: RawRule[];
  specs?: RawRule[];
}

export function buildTrafficTarget(doc: ManifestDocument): TrafficTarget {
  const resource = base(doc, 'TrafficTarget');
  const v1alpha1 = versionOf(doc) === 'v1alpha1';
  const root: FieldPath = v1alpha1 ? [] : ['spec'];
  const raw = (v1alpha1 ? doc.value : (doc.value.spec ?? {})) as RawAccess;
  const rulesKey = v1alpha1 ? 'specs' : 'rules';
  const namespace = resource.meta.namespace;

  const destination = identity(raw.destination, namespace, [...root, 'destination']);
  return {
    ...resource,
    // v1alpha1 and v1alpha2 carry a destination port; v1alpha3 dropped it.
    destination: raw.destination.port === undefined ? destination : { ...destination, port: raw.destination.port },
    sources: (raw.sources ?? []).map((s, i) => identity(s, namespace, [...root, 'sources', i])),
    rules: ((v1alpha1 ? raw.specs : raw.rules) ?? []).map((r, i) => rule(r, [...root, rulesKey, i])),
  };
}

/** An identity without a namespace is in the TrafficTarget's own namespace (`""` is not absent: names.ts refuses it). */
function identity(raw: RawIdentity, defaultNamespace: string, path: FieldPath): IdentityRef {
  return { kind: raw.kind, name: raw.name, namespace: raw.namespace ?? defaultNamespace, path };
}

function rule(raw: RawRule, path: FieldPath): TrafficTargetRule {
  if (raw.kind !== 'HTTPRouteGroup' || raw.matches === undefined) return { kind: raw.kind, name: raw.name, path };
  return { kind: raw.kind, name: raw.name, path, matches: raw.matches.map((name, i) => ({ name, path: [...path, 'matches', i] })) };
}
