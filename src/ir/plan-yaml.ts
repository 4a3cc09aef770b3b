/**
 * ProxyPlans as YAML and back: the planned IR's golden layer (`golden-ir/<fixture>.yaml`, one
 * document per proxy, ordered by namespace then workload), and the plans emit's tests load.
 *
 * The YAML holds every field of the plan in the plan's own field order; absent optional fields
 * are left out. A filter chain of `outboundLayout` names the service ports it serves as
 * `<ns>/<svc>:<port>` instead of repeating them, and reading resolves each name to the very
 * item of `outbound`, as the planner hands it out.
 */
import jsyaml from 'js-yaml';
import type { OutboundChain, OutboundPort, ProxyPlan } from './proxy-plan.ts';
import { nodeId } from './names.ts';

const refOf = (out: OutboundPort): string => `${out.service.namespace}/${out.service.name}:${out.port}`;

type Data = Record<string, unknown>;

function chainData(chain: OutboundChain): Data {
  return chain.kind === 'service'
    ? { kind: chain.kind, port: chain.port, addresses: chain.addresses, service: refOf(chain.service) }
    : { kind: chain.kind, port: chain.port, services: chain.services.map(refOf) };
}

/** Plain data with `undefined` fields left out, as YAML has no undefined. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

const byPath = (a: ProxyPlan, b: ProxyPlan): number => {
  const ka = nodeId(a);
  const kb = nodeId(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** The plans as a YAML stream, one document per proxy, by namespace then workload. */
export function plansToYaml(plans: readonly ProxyPlan[]): string {
  return [...plans]
    .sort(byPath)
    .map((plan) => {
      const data = plain({ ...plan, outboundLayout: { ...plan.outboundLayout, chains: plan.outboundLayout.chains.map(chainData) } });
      return `---\n${jsyaml.dump(data, { lineWidth: -1, noRefs: true })}`;
    })
    .join('');
}

/** Plans back from `plansToYaml`'s text. Throws on a chain naming a service port not in `outbound`. */
export function plansFromYaml(text: string): ProxyPlan[] {
  return jsyaml.loadAll(text).map((doc) => {
    const data = doc as Data & { outbound: OutboundPort[]; outboundLayout: { chains: Data[]; overlaps: unknown[] } };
    const byRef = new Map(data.outbound.map((out) => [refOf(out), out]));
    const resolve = (ref: unknown): OutboundPort => {
      const out = byRef.get(String(ref));
      if (!out) throw new Error(`a chain of ${String(data.namespace)}/${String(data.workload)} names ${String(ref)}, which is not in its outbound list`);
      return out;
    };
    const chains = data.outboundLayout.chains.map((c): OutboundChain =>
      c.kind === 'service'
        ? { kind: 'service', port: c.port as number, addresses: c.addresses as string[], service: resolve(c.service) }
        : { kind: 'shared-http', port: c.port as number, services: (c.services as unknown[]).map(resolve) },
    );
    return { ...data, outboundLayout: { ...data.outboundLayout, chains } } as unknown as ProxyPlan;
  });
}
