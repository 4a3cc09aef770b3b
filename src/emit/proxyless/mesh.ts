/**
 * What the proxyless flavour is emitted from: the planned proxies, as data. The compile makes it
 * (the compile worker packs it and hands it over with the snapshot), and `ProxylessEmitter`
 * turns it into resources when a gRPC client or server asks for a name.
 *
 * It holds the plans' own lists, not copies: the planner hands every proxy of a service account
 * (in permissive mode, every proxy) the same `outbound` and `upstreams` lists, and V8's
 * serialiser keeps that sharing, so the hand-over carries each list once.
 */
import { deserialize, serialize } from 'node:v8';
import type { InboundHttpRoute, InboundPort, OutboundPort, ProxyPlan, UpstreamCluster } from '../../ir/proxy-plan.ts';
import { isHttpLike } from '../common.ts';
import { nodeId } from '../names.ts';
import { serviceKey } from '../../ir/names.ts';

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
  const byId = plans.map((plan) => [nodeId(plan), plan] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
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

/** The plans of a compile's result `mesh` (a PlannedMesh); undefined when the compile stopped before planning. */
export function plansOf(mesh: object | undefined): readonly ProxyPlan[] | undefined {
  const proxies = mesh && 'proxies' in mesh ? (mesh as { readonly proxies: unknown }).proxies : undefined;
  return Array.isArray(proxies) ? (proxies as readonly ProxyPlan[]) : undefined;
}

/** The proxyless mesh of a compile's result `mesh`, or undefined when the compile stopped before planning. */
export function proxylessMeshOf(mesh: object | undefined): ProxylessMesh | undefined {
  const plans = plansOf(mesh);
  return plans && proxylessMesh(plans);
}

/**
 * What a snapshot keeps of the proxyless flavour: the mesh, made when the first gRPC stream
 * asks. Most meshes have no gRPC stream, and the server then spends nothing on it.
 */
export type LazyProxylessMesh = () => ProxylessMesh;

function once(make: () => ProxylessMesh): LazyProxylessMesh {
  let mesh: ProxylessMesh | undefined;
  return () => (mesh ??= make());
}

/** The lazy mesh of a compile in this thread: the plans are held, the index made on demand. */
export function lazyProxylessMesh(mesh: object | undefined): LazyProxylessMesh | undefined {
  const plans = plansOf(mesh);
  return plans && once(() => proxylessMesh(plans));
}

/**
 * The mesh as bytes, for the compile worker's hand-over (V8's serialiser, as postMessage uses,
 * which keeps shared lists shared). Sent as bytes, not as objects, so the server's thread does
 * not rebuild ≈ 7 MiB of plans at 1,000 services on every recompile, only when a gRPC stream asks.
 */
export function packProxylessMesh(mesh: ProxylessMesh): Uint8Array {
  return serialize(mesh);
}

export function unpackProxylessMesh(bytes: Uint8Array): LazyProxylessMesh {
  return once(() => deserialize(bytes) as ProxylessMesh);
}
