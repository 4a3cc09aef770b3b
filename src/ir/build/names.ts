/**
 * Every name a built resource carries, checked against Kubernetes' rules (src/ir/kubernetes-names.ts)
 * at the field it came from: its own `metadata.name` and `metadata.namespace`, and every name it
 * refers to that flows into output paths, resource and secret names or principals
 * (serviceAccountName, TrafficTarget identities and route groups, TrafficSplit services,
 * EndpointSlice services). A resource with a bad name is replaced by an InvalidObject, so no
 * stage after the build ever sees the name.
 */
import { diagnostic, type Diagnostic } from '../../diagnostics/diagnostic.ts';
import { displayPath } from '../../parser/schema.ts';
import { displayName, FORMAT_NAMES, nameProblem, serviceReferenceProblem, type NameFormat } from '../kubernetes-names.ts';
import type { FieldPath, InvalidObject, Resource } from '../types.ts';
import { positionOf } from '../../parser/origin.ts';

/** The label an EndpointSlice names its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** How Kubernetes names each kind (apimachinery's NameIsDNSLabel, NameIsDNS1035Label, NameIsDNSSubdomain). */
function formatOf(kind: string): NameFormat {
  if (kind === 'Namespace') return 'label';
  if (kind === 'Service') return 'service';
  return 'subdomain';
}

interface NameField {
  /** The field, as `at` plus `leaf` (composed only when a name is bad: most are not). */
  readonly at: FieldPath;
  readonly leaf?: string;
  readonly value: string;
  /** `subdomain`, ... or `service-reference` (`svc`, `svc.ns`, an FQDN). */
  readonly format: NameFormat | 'service-reference';
  /** What the name names: `ServiceAccount`, `namespace`; absent for the object's own name. */
  readonly names?: string;
}

/**
 * Receives every name, positionally rather than as a NameField, and is an object rather than a
 * closure: tens of thousands of names are checked per compile and almost all pass, so the check
 * allocates nothing until one fails.
 */
interface NameSink {
  check(at: FieldPath, leaf: string | undefined, value: string, format: NameField['format'], names?: string): void;
}

const METADATA: FieldPath = ['metadata'];
const SPEC: FieldPath = ['spec'];

function ownNames(r: { kind: string; meta: { name: string; namespace: string } }, sink: NameSink): void {
  sink.check(METADATA, 'name', r.meta.name, formatOf(r.kind));
  if (r.kind !== 'Namespace') sink.check(METADATA, 'namespace', r.meta.namespace, 'label', 'namespace');
}

function identityNames(ref: { name: string; namespace: string; path: FieldPath }, ownNamespace: string, sink: NameSink): void {
  sink.check(ref.path, 'name', ref.name, 'subdomain', 'ServiceAccount');
  // The object's own namespace (written again, or defaulted to it) is checked as metadata.namespace.
  if (ref.namespace !== ownNamespace) sink.check(ref.path, 'namespace', ref.namespace, 'label', 'namespace');
}

function references(r: Exclude<Resource, InvalidObject>, sink: NameSink): void {
  switch (r.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Pod':
      if (r.serviceAccountPath) sink.check(r.serviceAccountPath, undefined, r.serviceAccount, 'subdomain', 'ServiceAccount');
      break;
    case 'EndpointSlice': {
      const service = r.meta.labels[SERVICE_NAME_LABEL];
      if (service !== undefined) sink.check(['metadata', 'labels'], SERVICE_NAME_LABEL, service, 'service', 'Service');
      break;
    }
    case 'TrafficTarget':
      identityNames(r.destination, r.meta.namespace, sink);
      for (const s of r.sources) identityNames(s, r.meta.namespace, sink);
      for (const rule of r.rules) sink.check(rule.path, 'name', rule.name, 'subdomain', rule.kind);
      break;
    case 'TrafficSplit':
      sink.check(SPEC, 'service', r.service, 'service-reference', 'Service');
      for (const b of r.backends) sink.check(b.path, 'service', b.service, 'service-reference', 'Service');
      for (const m of r.matches) sink.check(m.path, 'name', m.name, 'subdomain', m.kind);
      break;
  }
}

function formatText(field: NameField, kind: string): string {
  if (field.format === 'service-reference') return 'Service (`svc`, `svc.namespace` or its FQDN)';
  const format = FORMAT_NAMES[field.format];
  if (field.names) return `${field.names} (${format})`;
  return `${kind} name (${format})`;
}

type Named = Pick<Resource, 'kind' | 'meta' | 'origin'>;

/**
 * The diagnostics for every bad name of `r` (SMI1022 for its own name and namespace, SMI1023
 * for names it refers to), at the field; empty when every name is valid.
 */
export function nameDiagnostics(r: Exclude<Resource, InvalidObject>): Diagnostic[] {
  const sink = new Reporting(r);
  ownNames(r, sink);
  sink.code = 'invalid-name-reference';
  references(r, sink);
  return sink.out;
}

/**
 * Only the object's own name and namespace: for a document its schema refused (its other
 * fields cannot be trusted to have their shapes), so that lint still names every name that
 * would have become a path.
 */
export function ownNameDiagnostics(r: Named): Diagnostic[] {
  const sink = new Reporting(r);
  ownNames(r, sink);
  return sink.out;
}

/** Checks each name it is given and keeps a diagnostic (of `code`) for each bad one. */
class Reporting implements NameSink {
  readonly out: Diagnostic[] = [];
  code: 'invalid-name' | 'invalid-name-reference' = 'invalid-name';
  constructor(private readonly r: Named) {}

  check(at: FieldPath, leaf: string | undefined, value: string, format: NameField['format'], names?: string): void {
    const reason = format === 'service-reference' ? serviceReferenceProblem(value) : nameProblem(value, format);
    if (reason === undefined) return;
    const r = this.r;
    const path = leaf === undefined ? at : [...at, leaf];
    const ref = r.meta.namespace ? { kind: r.kind, namespace: r.meta.namespace, name: r.meta.name } : { kind: r.kind, name: r.meta.name };
    const args = { kind: r.kind, field: displayPath(path), value: displayName(value), format: formatText({ at, leaf, value, format, names }, r.kind), reason };
    this.out.push(diagnostic(this.code, args, positionOf(r.origin, path), ref));
  }
}

/** `r`, refused for `problem`: kept only for references to say it is invalid. */
export function invalidObject(r: Pick<Resource, 'kind' | 'apiVersion' | 'meta' | 'origin'>, problem: Diagnostic): InvalidObject {
  const p: InvalidObject['problem'] = problem.source ? { code: problem.code, source: problem.source } : { code: problem.code };
  return { kind: 'Invalid', apiVersion: r.apiVersion, objectKind: r.kind, meta: r.meta, origin: r.origin, problem: p };
}
