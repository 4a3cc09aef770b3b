/**
 * ClusterLoadAssignments (osm eds/builder.go): one per upstream cluster, the service's ready
 * endpoints as `ip:targetPort` in a single locality `local` at priority 0. A service with no
 * known endpoints still gets its (empty) assignment, as OSM does: an EDS cluster stays
 * "warming" until it receives one, and a split apex with no pods of its own is common.
 */
import type { ProxyPlan, UpstreamCluster } from '../ir/proxy-plan.ts';
import { compareByName, socketAddress } from './common.ts';
import { TYPE } from './names.ts';
import type { EmitSession } from './session.ts';
import type { EnvoyResource } from './types.ts';

export const LOCAL_ZONE = 'local';

/** Independent of the caller: every proxy calling the service shares one object. */
export function clusterLoadAssignment(session: EmitSession, upstream: UpstreamCluster): EnvoyResource {
  const key = session.keyOf(session.keys.cla, upstream, (u) => `${u.name}|${u.targetPort}|${u.endpoints.join(',')}`);
  return session.shared('cla', key, () => ({
    '@type': TYPE.clusterLoadAssignment,
    cluster_name: upstream.name,
    endpoints: [
      {
        locality: { zone: LOCAL_ZONE },
        lb_endpoints: upstream.endpoints.map((ip) => ({ endpoint: { address: socketAddress(ip, upstream.targetPort) } })),
      },
    ],
  }));
}

export function endpoints(session: EmitSession, plan: ProxyPlan): EnvoyResource[] {
  return plan.upstreams.map((upstream) => clusterLoadAssignment(session, upstream)).sort(compareByName);
}
