/**
 * Emit: one ProxyPlan in, the Envoy v3 resources of that sidecar out, in OSM v1.2's shapes
 * and names. Emit makes no policy decisions (the passes did); it decides only how Envoy
 * expresses them. See each family's file for the OSM code it mirrors.
 */
import type { CompileOptions } from '../shared/options.ts';
import type { InboundPort, OutboundPort, ProxyPlan, UpstreamCluster } from '../ir/proxy-plan.ts';
import { bootstrap } from './bootstrap.ts';
import { clearClusterCache, clusters } from './clusters.ts';
import { compareByName } from './common.ts';
import { endpoints } from './endpoints.ts';
import { inboundListener } from './listeners-inbound.ts';
import { outboundListener } from './listeners-outbound.ts';
import { inboundRouteConfigurations, outboundRouteConfigurations } from './routes.ts';
import { proxyNodeId } from './names.ts';
import { secrets } from './secrets.ts';
import { clearShared as clearSharedTables, digestKey, shared } from './shared.ts';
export { sweepShared } from './shared.ts';
import type { EnvoyResource, ProxyConfig } from './types.ts';

export { checkProtos } from './proto-check.ts';
export { outboundChainName } from './listeners-outbound.ts';

/** Forget every shared object, and the per-caller clusters (tests, or a long-running server between unrelated compiles). */
export function clearShared(): void {
  clearSharedTables();
  clearClusterCache();
}

/**
 * Families that read one or two fields of the plan, memoised on those fields' identity. The
 * planner hands every proxy of a source service account the same `outbound` and `upstreams`
 * lists (in permissive mode, every proxy the same ones), and plans are immutable, so the
 * result for a list is the result for every plan holding it: the outbound listener, the
 * outbound route configurations (which also depend on the caller's namespace, for bare host
 * names) and the ClusterLoadAssignments are built once per list instead of once per proxy
 * (at 1,000 permissive services: 1,365 CLAs and ~1,366 filter chains and virtual hosts a
 * proxy, each looked up by a content key). The families get a plan holding only the fields
 * memoised on (`only`), so one that starts reading another field gets undefined, and the
 * goldens say so, instead of a stale memo.
 */
const outboundListeners = new WeakMap<readonly OutboundPort[], { readonly listener: EnvoyResource | undefined }>();
const outboundRoutes = new WeakMap<readonly OutboundPort[], Map<string, readonly EnvoyResource[]>>();
const endpointLists = new WeakMap<readonly UpstreamCluster[], readonly EnvoyResource[]>();

function only<K extends keyof ProxyPlan>(plan: ProxyPlan, ...keys: K[]): ProxyPlan {
  const part: Partial<ProxyPlan> = {};
  for (const key of keys) (part as Record<string, unknown>)[key] = plan[key];
  return part as ProxyPlan;
}

function memoOutboundListener(plan: ProxyPlan): EnvoyResource | undefined {
  let hit = outboundListeners.get(plan.outbound);
  if (!hit) outboundListeners.set(plan.outbound, (hit = { listener: outboundListener(only(plan, 'outbound', 'outboundLayout')) }));
  return hit.listener;
}

function memoOutboundRoutes(plan: ProxyPlan): readonly EnvoyResource[] {
  let byNamespace = outboundRoutes.get(plan.outbound);
  if (!byNamespace) outboundRoutes.set(plan.outbound, (byNamespace = new Map()));
  let routes = byNamespace.get(plan.namespace);
  if (!routes) byNamespace.set(plan.namespace, (routes = Object.freeze(outboundRouteConfigurations(only(plan, 'outbound', 'namespace')))));
  return routes;
}

function memoEndpoints(plan: ProxyPlan): readonly EnvoyResource[] {
  let list = endpointLists.get(plan.upstreams);
  if (!list) endpointLists.set(plan.upstreams, (list = Object.freeze(endpoints(only(plan, 'upstreams')))));
  return list;
}

/**
 * With `stableObjects` (serve), the inbound side (listener and route configurations) by
 * content: the key is the digest of the plan's inbound ports as JSON, with the namespace and service account
 * the listener's TLS names. A recompile then hands back the very same objects for every
 * workload whose inbound policy did not change, so the server recognises them by identity
 * instead of re-reading them (a one-policy edit at 1,000 services: snapshot ≈125 → ≈80 ms).
 */
const inboundByList = new WeakMap<readonly InboundPort[], Map<string, InboundResources>>();

type InboundResources = { readonly listener: EnvoyResource | undefined; readonly routes: readonly EnvoyResource[] };

function memoInbound(plan: ProxyPlan): InboundResources {
  // The planner under serve --watch hands back the same inbound list while it is unchanged
  // (plan.ts): then not even the JSON key below needs making.
  const owner = `${plan.namespace}/${plan.serviceAccount}`;
  let byOwner = inboundByList.get(plan.inbound);
  if (!byOwner) inboundByList.set(plan.inbound, (byOwner = new Map()));
  let hit = byOwner.get(owner);
  if (!hit) byOwner.set(owner, (hit = inboundByContent(plan)));
  return hit;
}

function inboundByContent(plan: ProxyPlan): InboundResources {
  // ≈ 1.8 kB of JSON a workload at 1,000 services, kept per key by two tables until the next sweep.
  const ports = digestKey(JSON.stringify(plan.inbound));
  const listener = shared('inbound-listener', `${plan.namespace}/${plan.serviceAccount}|${ports}`, () => ({
    listener: inboundListener(only(plan, 'namespace', 'serviceAccount', 'inbound')),
  })).listener;
  const routes = shared('inbound-route-configs', ports, () => inboundRouteConfigurations(only(plan, 'inbound')));
  return { listener, routes };
}

function freshInbound(plan: ProxyPlan): { readonly listener: EnvoyResource | undefined; readonly routes: readonly EnvoyResource[] } {
  return { listener: inboundListener(plan), routes: inboundRouteConfigurations(plan) };
}

export function emitProxy(plan: ProxyPlan, options: CompileOptions): ProxyConfig {
  const { listener: inbound, routes: inboundRoutes } = options.stableObjects ? memoInbound(plan) : freshInbound(plan);
  const outbound = memoOutboundListener(plan);
  const listeners = [inbound, outbound].filter((l): l is EnvoyResource => l !== undefined).sort(compareByName);
  const routes = [...inboundRoutes, ...memoOutboundRoutes(plan)].sort(compareByName);
  return {
    namespace: plan.namespace,
    workload: plan.workload,
    nodeId: proxyNodeId(plan.namespace, plan.workload),
    identity: { serviceAccount: plan.serviceAccount, trustDomain: plan.trustDomain },
    resources: {
      listeners,
      routes,
      clusters: clusters(plan),
      endpoints: memoEndpoints(plan),
      secrets: secrets(plan, inbound !== undefined),
    },
    bootstrap: bootstrap(plan, options),
  };
}
