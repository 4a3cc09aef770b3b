/**
 * Emit: one ProxyPlan in, the Envoy v3 resources of that sidecar out, in OSM v1.2's shapes
 * and names. Emit makes no policy decisions (the passes did); it decides only how Envoy
 * expresses them. See each family's file for the OSM code it mirrors.
 */
import type { CompileOptions } from '../compiler/options.ts';
import type { ProxyPlan } from '../ir/proxy-plan.ts';
import { bootstrap } from './bootstrap.ts';
import { clearClusterCache, clusters } from './clusters.ts';
import { compareByName } from './common.ts';
import { endpoints } from './endpoints.ts';
import { inboundListener } from './listeners-inbound.ts';
import { outboundListener } from './listeners-outbound.ts';
import { inboundRouteConfigurations, outboundRouteConfigurations } from './routes.ts';
import { secrets } from './secrets.ts';
import { clearShared as clearSharedTables } from './shared.ts';
import type { EnvoyResource, ProxyConfig } from './types.ts';

export { checkProtos } from './proto-check.ts';
export { layoutOutboundChains, type OutboundChainLayout, type OutboundChainPlan } from './listeners-outbound.ts';

/** Forget every shared object, and the per-caller clusters (tests, or a long-running server between unrelated compiles). */
export function clearShared(): void {
  clearSharedTables();
  clearClusterCache();
}

export function emitProxy(plan: ProxyPlan, options: CompileOptions): ProxyConfig {
  const inbound = inboundListener(plan);
  const outbound = outboundListener(plan);
  const listeners = [inbound, outbound].filter((l): l is EnvoyResource => l !== undefined).sort(compareByName);
  const routes = [...inboundRouteConfigurations(plan), ...outboundRouteConfigurations(plan)].sort(compareByName);
  return {
    namespace: plan.namespace,
    workload: plan.workload,
    nodeId: `${plan.namespace}/${plan.workload}`,
    identity: { serviceAccount: plan.serviceAccount, trustDomain: plan.trustDomain },
    resources: {
      listeners,
      routes,
      clusters: clusters(plan),
      endpoints: endpoints(plan),
      secrets: secrets(plan, inbound !== undefined),
    },
    bootstrap: bootstrap(plan, options),
  };
}
