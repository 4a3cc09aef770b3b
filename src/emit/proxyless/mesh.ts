/**
 * What the proxyless flavour is emitted from: the planned proxies, as data. The compile makes it
 * (in the compile worker under `serve --compile-in-worker`, which posts it with the snapshot),
 * and `ProxylessEmitter` turns it into resources when a gRPC client or server asks for a name.
 *
 * It holds the plans' own lists, not copies: the planner hands every proxy of a service account
 * (in permissive mode, every proxy) the same `outbound` and `upstreams` lists, and a structured
 * clone keeps that sharing, so a 1,000-service mesh ships each list once.
 */
import type { InboundHttpRoute, InboundPort, OutboundPort, ProxyPlan, UpstreamCluster } from '../../ir/proxy-plan.ts';
import { isHttpLike } from '../common.ts';
import { proxyNodeId, serviceKey } from '../names.ts';

/** The part of a ProxyPlan the proxyless flavour reads. */
export type ProxylessProxy = Pick<ProxyPlan, 'namespace' | 'identity' | 'trustDomain' | 'inbound' | 'outbound' | 'upstreams'>;

export interface ProxylessMesh {
  /** By node id. */
  readonly proxies: ReadonlyMap<string, ProxylessProxy>;
  /**
   * The HTTP routes a destination serves, by `serviceKey` then target port: what a sidecar at
   * the destination would enforce (`rds-inbound.<targetPort>`). The first proxy by node id that
   * serves it gives them, a TrafficSplit apex the routes of the backend port that serves it.
   */
  readonly destinations: ReadonlyMap<string, ReadonlyMap<number, readonly InboundHttpRoute[]>>;
}

export function proxylessMesh(plans: readonly ProxyPlan[]): ProxylessMesh {
  const byId = plans.map((plan) => [proxyNodeId(plan.namespace, plan.workload), plan] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const proxies = new Map<string, ProxylessProxy>();
  const destinations = new Map<string, Map<number, readonly InboundHttpRoute[]>>();
  const serve = (service: InboundPort['service'], port: InboundPort): void => {
    const key = serviceKey(service);
    let ports = destinations.get(key);
    if (!ports) destinations.set(key, (ports = new Map()));
    if (!ports.has(port.targetPort)) ports.set(port.targetPort, port.routes);
  };
  for (const [id, plan] of byId) {
    const { namespace, identity, trustDomain, inbound, outbound, upstreams } = plan;
    proxies.set(id, { namespace, identity, trustDomain, inbound, outbound, upstreams });
    for (const port of plan.inbound.filter(isHttpLike)) {
      serve(port.service, port);
      for (const apex of port.apexes ?? []) serve(apex.service, port);
    }
  }
  return { proxies, destinations };
}

/** The routes the destination of `upstream` serves; undefined when no proxy of the mesh serves it over HTTP. */
export function destinationRoutes(mesh: ProxylessMesh, upstream: UpstreamCluster): readonly InboundHttpRoute[] | undefined {
  return mesh.destinations.get(serviceKey(upstream.service))?.get(upstream.targetPort);
}

export type { InboundHttpRoute, InboundPort, OutboundPort, UpstreamCluster };

/** The proxyless mesh of a compile's result `mesh` (a PlannedMesh), or undefined when the compile stopped before planning. */
export function proxylessMeshOf(mesh: object | undefined): ProxylessMesh | undefined {
  const proxies = mesh && 'proxies' in mesh ? (mesh as { readonly proxies: unknown }).proxies : undefined;
  return Array.isArray(proxies) ? proxylessMesh(proxies as readonly ProxyPlan[]) : undefined;
}
