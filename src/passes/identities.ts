/**
 * Identities that must not be issued: a principal name `<sa>.<ns>.<trustDomain>` that reads as a
 * Kubernetes host name (src/ir/names.ts, `identityHostClash`) is an error (SMI6010) at
 * every place that names it: the ServiceAccount, each workload's serviceAccountName, each
 * TrafficTarget identity. The CA refuses them too (`ca issue --identity`, SDS); reporting them
 * here says where to fix them, before anything is emitted.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { identityHostClash } from '../ir/names.ts';
import type { FieldPath, Mesh, Resource } from '../ir/types.ts';
import { at, refOf, type PassContext } from './context.ts';
import { displayPath } from '../parser/schema.ts';

export function checkIdentities(mesh: Mesh, ctx: PassContext): void {
  const trustDomain = mesh.settings.trustDomain;
  const check = (r: Resource, serviceAccount: string, namespace: string, path: FieldPath): void => {
    const clash = identityHostClash({ serviceAccount, namespace, trustDomain });
    if (!clash) return;
    const args = { kind: r.kind, field: displayPath(path), principal: clash.principal, label: `"${clash.label}"`, position: clash.position, what: clash.what };
    ctx.report(diagnostic('identity-shadows-host', args, at(r, path), refOf(r)));
  };
  for (const sa of mesh.serviceAccounts) check(sa, sa.meta.name, sa.meta.namespace, ['metadata', 'name']);
  for (const w of mesh.workloads) check(w, w.serviceAccount, w.meta.namespace, w.serviceAccountPath ?? ['metadata', 'name']);
  for (const t of mesh.trafficTargets) {
    for (const ref of [t.destination, ...t.sources]) {
      if (ref.kind === 'ServiceAccount') check(t, ref.name, ref.namespace, [...ref.path, 'name']);
    }
  }
}
