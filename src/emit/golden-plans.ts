/**
 * The plans emit's tests emit, all made by the passes: the fixtures' planned IR (golden-ir/,
 * test/golden-ir.test.ts keeps it equal to what the passes plan), and for shapes no clean
 * fixture has (a mesh of many services, address-less service ports that clash, IPv6) plans
 * of short manifests (passes/test-mesh.ts). No plan is written by hand, so none can take a
 * shape the planner never makes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ProxyPlan } from '../ir/proxy-plan.ts';
import { nodeId } from '../ir/names.ts';
import { plansFromYaml } from '../ir/plan-yaml.ts';
import { deploy, permissive, plan, svc } from '../passes/test-mesh.ts';

const GOLDEN_IR = new URL('../../golden-ir/', import.meta.url);

/** The fixtures whose planned IR there is. */
export function goldenFixtures(): string[] {
  return readdirSync(GOLDEN_IR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** Every plan of a fixture's planned IR, by namespace then workload. */
export function goldenPlans(fixture: string): ProxyPlan[] {
  return plansFromYaml(readFileSync(new URL(`${fixture}.yaml`, GOLDEN_IR), 'utf8'));
}

/** The plan of `<ns>/<workload>` in a fixture's planned IR. */
export function goldenPlan(fixture: string, proxy: string): ProxyPlan {
  const plans = goldenPlans(fixture);
  const found = plans.find((p) => nodeId(p) === proxy);
  if (!found) throw new Error(`golden-ir/${fixture}.yaml has no plan for ${proxy}`);
  return found;
}

/** The proxies planned for these manifests (passes/test-mesh.ts writes them briefly). */
export function plannedProxies(docs: readonly string[]): readonly ProxyPlan[] {
  return plan(docs).mesh.proxies;
}

/**
 * A permissive mesh of `n` HTTP services `svc<i>` on port 8080 in namespace `ns<i % 10>`, each
 * with a ClusterIP and a workload of its own: the proxies, in `svc<i>` order. Every one may
 * call every service, so all share one outbound plan.
 */
export function wideMesh(n: number): readonly ProxyPlan[] {
  const docs = [permissive];
  for (let i = 0; i < n; i++) {
    const ns = `ns${i % 10}`;
    docs.push(svc(ns, `svc${i}`, ['8080'], `, clusterIP: 10.96.${i >> 8}.${i & 255}`), deploy(ns, `svc${i}`));
  }
  return [...plannedProxies(docs)].sort((a, b) => Number(a.workload.slice(3)) - Number(b.workload.slice(3)));
}
