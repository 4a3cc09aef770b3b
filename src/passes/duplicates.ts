/**
 * Reports resources defined twice (same kind, namespace and name). Later passes use the first
 * definition, so the report says which one that is.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import type { Mesh, Resource } from '../ir/types.ts';
import { refOf, type PassContext } from './context.ts';
import { positionOf } from '../parser/origin.ts';

function allResources(mesh: Mesh): Resource[] {
  return [
    ...mesh.namespaces,
    ...mesh.serviceAccounts,
    ...mesh.services,
    ...mesh.workloads,
    ...mesh.endpointSets,
    ...mesh.trafficTargets,
    ...mesh.httpRouteGroups,
    ...mesh.tcpRoutes,
    ...mesh.udpRoutes,
    ...mesh.trafficSplits,
    ...mesh.meshConfigs,
  ];
}

export function reportDuplicates(mesh: Mesh, ctx: PassContext): Mesh {
  const first = new Map<string, Resource>();
  for (const r of allResources(mesh)) {
    const ref = r.meta.namespace ? `${r.meta.namespace}/${r.meta.name}` : r.meta.name;
    const key = `${r.kind}|${ref}`;
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, r);
      continue;
    }
    const p = positionOf(earlier.origin);
    ctx.report(
      diagnostic('duplicate-resource', { kind: r.kind, ref, first: `${p.file}:${p.line}` }, positionOf(r.origin, ['metadata', 'name']), refOf(r)),
    );
  }
  return mesh;
}
