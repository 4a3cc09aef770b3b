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

/** The label an EndpointSlice names its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** How Kubernetes names each kind (apimachinery's NameIsDNSLabel, NameIsDNS1035Label, NameIsDNSSubdomain). */
function formatOf(kind: string): NameFormat {
  if (kind === 'Namespace') return 'label';
  if (kind === 'Service') return 'service';
  return 'subdomain';
}

interface NameField {
  readonly path: FieldPath;
  readonly value: string;
  /** `subdomain`, ... or `service-reference` (`svc`, `svc.ns`, an FQDN). */
  readonly format: NameFormat | 'service-reference';
  /** What the name names: `ServiceAccount`, `namespace`; absent for the object's own name. */
  readonly names?: string;
}

function ownNames(r: { kind: string; meta: { name: string; namespace: string } }): NameField[] {
  const fields: NameField[] = [{ path: ['metadata', 'name'], value: r.meta.name, format: formatOf(r.kind) }];
  if (r.kind !== 'Namespace') fields.push({ path: ['metadata', 'namespace'], value: r.meta.namespace, format: 'label', names: 'namespace' });
  return fields;
}

function references(r: Exclude<Resource, InvalidObject>): NameField[] {
  const out: NameField[] = [];
  const identity = (ref: { name: string; namespace: string; path: FieldPath }) => {
    out.push({ path: [...ref.path, 'name'], value: ref.name, format: 'subdomain', names: 'ServiceAccount' });
    // The object's own namespace (written again, or defaulted to it) is checked as metadata.namespace.
    if (ref.namespace !== r.meta.namespace) out.push({ path: [...ref.path, 'namespace'], value: ref.namespace, format: 'label', names: 'namespace' });
  };
  switch (r.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Pod':
      if (r.serviceAccountPath) out.push({ path: r.serviceAccountPath, value: r.serviceAccount, format: 'subdomain', names: 'ServiceAccount' });
      break;
    case 'EndpointSlice': {
      const service = r.meta.labels[SERVICE_NAME_LABEL];
      if (service !== undefined) out.push({ path: ['metadata', 'labels', SERVICE_NAME_LABEL], value: service, format: 'service', names: 'Service' });
      break;
    }
    case 'TrafficTarget':
      identity(r.destination);
      r.sources.forEach(identity);
      for (const rule of r.rules) out.push({ path: [...rule.path, 'name'], value: rule.name, format: 'subdomain', names: rule.kind });
      break;
    case 'TrafficSplit':
      out.push({ path: ['spec', 'service'], value: r.service, format: 'service-reference', names: 'Service' });
      for (const b of r.backends) out.push({ path: [...b.path, 'service'], value: b.service, format: 'service-reference', names: 'Service' });
      for (const m of r.matches) out.push({ path: [...m.path, 'name'], value: m.name, format: 'subdomain', names: m.kind });
      break;
  }
  return out;
}

function problemOf(field: NameField): string | undefined {
  return field.format === 'service-reference' ? serviceReferenceProblem(field.value) : nameProblem(field.value, field.format);
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
  return report(r, [['SMI1022', ownNames(r)], ['SMI1023', references(r)]]);
}

/**
 * Only the object's own name and namespace: for a document its schema refused (its other
 * fields cannot be trusted to have their shapes), so that lint still names every name that
 * would have become a path.
 */
export function ownNameDiagnostics(r: Named): Diagnostic[] {
  return report(r, [['SMI1022', ownNames(r)]]);
}

function report(r: Named, groups: readonly (readonly ['SMI1022' | 'SMI1023', NameField[]])[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ref = r.meta.namespace ? { kind: r.kind, namespace: r.meta.namespace, name: r.meta.name } : { kind: r.kind, name: r.meta.name };
  for (const [code, fields] of groups) {
    for (const field of fields) {
      const reason = problemOf(field);
      if (reason === undefined) continue;
      const args = { kind: r.kind, field: displayPath(field.path), value: displayName(field.value), format: formatText(field, r.kind), reason };
      out.push(diagnostic(code, args, r.origin.locate(field.path), ref));
    }
  }
  return out;
}

/** `r`, refused for `problem`: kept only for references to say it is invalid. */
export function invalidObject(r: Pick<Resource, 'kind' | 'apiVersion' | 'meta' | 'origin'>, problem: Diagnostic): InvalidObject {
  const p: InvalidObject['problem'] = problem.source ? { code: problem.code, source: problem.source } : { code: problem.code };
  return { kind: 'Invalid', apiVersion: r.apiVersion, objectKind: r.kind, meta: r.meta, origin: r.origin, problem: p };
}
