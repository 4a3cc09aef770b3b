/**
 * Emit: one ProxyPlan in, the Envoy v3 resources of that sidecar out, in OSM v1.2's shapes
 * and names. Emit makes no policy decisions (the passes did); it decides only how Envoy
 * expresses them. See each family's file for the OSM code it mirrors.
 */
import type { CompileOptions } from '../shared/options.ts';
import type { ProxyPlan } from '../ir/proxy-plan.ts';
import { bootstrap } from './bootstrap.ts';
import { clusters } from './clusters.ts';
import { compareByName } from './common.ts';
import { endpoints } from './endpoints.ts';
import { inboundListener } from './listeners-inbound.ts';
import { nodeId } from './names.ts';
import { outboundListener } from './listeners-outbound.ts';
import { inboundRouteConfigurations, outboundRouteConfigurations } from './routes.ts';
import { secrets } from './secrets.ts';
import { digestKey, type EmitSession, type InboundResources } from './session.ts';
import type { EnvoyResource, ProxyConfig } from './types.ts';

export { checkProtos } from './proto-check.ts';
export { outboundChainName } from './listeners-outbound.ts';
export { EmitSession } from './session.ts';

/*
 * Families that read one or two fields of the plan are memoised on those fields' identity
 * (EmitSession.byList). The planner hands every proxy of a source service account the same
 * `outbound` and `upstreams` lists (in permissive mode, every proxy the same ones), and plans
 * are immutable, so the result for a list is the result for every plan holding it: the
 * outbound listener, the outbound route configurations (which also depend on the caller's
 * namespace, for bare host names) and the ClusterLoadAssignments are built once per list
 * instead of once per proxy. The families get a plan holding only the fields memoised on
 * (`only`), so one that starts reading another field gets undefined, and the goldens say so,
 * instead of a stale memo.
 */

function only<K extends keyof ProxyPlan>(plan: ProxyPlan, ...keys: K[]): ProxyPlan {
  const part: Partial<ProxyPlan> = {};
  for (const key of keys) (part as Record<string, unknown>)[key] = plan[key];
  return part as ProxyPlan;
}

function memoOutboundListener(session: EmitSession, plan: ProxyPlan): EnvoyResource | undefined {
  const memo = session.byList.outboundListener;
  let hit = memo.get(plan.outbound);
  if (!hit) memo.set(plan.outbound, (hit = { listener: outboundListener(session, only(plan, 'outbound', 'outboundLayout')) }));
  return hit.listener;
}

function memoOutboundRoutes(session: EmitSession, plan: ProxyPlan): readonly EnvoyResource[] {
  const memo = session.byList.outboundRoutes;
  let byNamespace = memo.get(plan.outbound);
  if (!byNamespace) memo.set(plan.outbound, (byNamespace = new Map()));
  let routes = byNamespace.get(plan.namespace);
  if (!routes) byNamespace.set(plan.namespace, (routes = Object.freeze(outboundRouteConfigurations(session, only(plan, 'outbound', 'namespace')))));
  return routes;
}

function memoEndpoints(session: EmitSession, plan: ProxyPlan): readonly EnvoyResource[] {
  const memo = session.byList.endpoints;
  let list = memo.get(plan.upstreams);
  if (!list) memo.set(plan.upstreams, (list = Object.freeze(endpoints(session, only(plan, 'upstreams')))));
  return list;
}

/**
 * With `stableObjects` (serve), the inbound side (listener and route configurations) by
 * content: the key is the digest of the plan's inbound ports as JSON, with the namespace and
 * service account the listener's TLS names. A recompile then hands back the very same objects
 * for every workload whose inbound policy did not change, so the server recognises them by
 * identity instead of re-reading them.
 */
function memoInbound(session: EmitSession, plan: ProxyPlan): InboundResources {
  // The planner under serve --watch hands back the same inbound list while it is unchanged
  // (plan.ts): then not even the JSON key below needs making.
  const owner = `${plan.namespace}/${plan.serviceAccount}`;
  const memo = session.byList.inbound;
  let byOwner = memo.get(plan.inbound);
  if (!byOwner) memo.set(plan.inbound, (byOwner = new Map()));
  let hit = byOwner.get(owner);
  if (!hit) byOwner.set(owner, (hit = inboundByContent(session, plan)));
  return hit;
}

function inboundByContent(session: EmitSession, plan: ProxyPlan): InboundResources {
  const ports = digestKey(JSON.stringify(plan.inbound));
  const listener = session.shared('inbound-listener', `${plan.namespace}/${plan.serviceAccount}|${ports}`, () => ({
    listener: inboundListener(session, only(plan, 'namespace', 'serviceAccount', 'inbound')),
  })).listener;
  const routes = session.shared('inbound-route-configs', ports, () => inboundRouteConfigurations(session, only(plan, 'inbound')));
  return { listener, routes };
}

function freshInbound(session: EmitSession, plan: ProxyPlan): InboundResources {
  return { listener: inboundListener(session, plan), routes: inboundRouteConfigurations(session, plan) };
}

/** The proxy's config, built with (and sharing objects through) `session`. */
export function emitProxy(session: EmitSession, plan: ProxyPlan, options: CompileOptions): ProxyConfig {
  const { listener: inbound, routes: inboundRoutes } = options.stableObjects ? memoInbound(session, plan) : freshInbound(session, plan);
  const outbound = memoOutboundListener(session, plan);
  const listeners = [inbound, outbound].filter((l): l is EnvoyResource => l !== undefined).sort(compareByName);
  const routes = [...inboundRoutes, ...memoOutboundRoutes(session, plan)].sort(compareByName);
  return {
    namespace: plan.namespace,
    workload: plan.workload,
    nodeId: nodeId(plan),
    identity: { serviceAccount: plan.serviceAccount, trustDomain: plan.trustDomain },
    resources: {
      listeners,
      routes,
      clusters: clusters(session, plan),
      endpoints: memoEndpoints(session, plan),
      secrets: secrets(session, plan, inbound !== undefined),
    },
    bootstrap: bootstrap(session, plan, options),
  };
}
