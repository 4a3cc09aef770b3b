/**
 * Plans one proxy per workload: the ports it serves (inbound, with who may call which route)
 * and the service ports it may call (outbound, with split backends, their clusters and the
 * listener's filter chains).
 *
 * Proxies with the same service account get the same outbound plan, and in permissive mode
 * every proxy shares one; the shared arrays let emit build identical resources once. With a
 * PlanMemo (serve --watch), plans are also reused across compiles (plan-memo.ts).
 */
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { localClusterName, principalName, serviceKey, upstreamClusterName } from '../ir/names.ts';
import type {
  InboundHttpRoute,
  InboundPolicy,
  InboundPort,
  OutboundOverlap,
  OutboundPort,
  ProxyPlan,
  UpstreamCluster,
  WeightedBackend,
} from '../ir/proxy-plan.ts';
import { keyOf, resourceKey, type Workload } from '../ir/types.ts';
import { ruleAdmitsPort, type AccessRule } from './access.ts';
import { compareIPs, type ResolvedPort, type ServiceBinding } from './bind.ts';
import { sameData } from './collections.ts';
import { at, refOf, type PassContext } from './context.ts';
import { layoutOutbound } from './outbound-layout.ts';
import { PlanMemo, PlanRecorder, type OutboundPlan, type OutboundUnit, type Table } from './plan-memo.ts';
import type { ResolvedSplit, SplitMesh } from './splits.ts';
import { byKey, byName, compareStrings } from '../shared/compare.ts';

export interface PlannedMesh extends SplitMesh {
  readonly proxies: readonly ProxyPlan[];
}

const isHttpFamily = (protocol: string) => protocol === 'http' || protocol === 'grpc';

interface WorkloadKeys {
  /** `ns/kind/name` */
  readonly key: string;
  /** `ns/sa` of its service account */
  readonly saKey: string;
}

function saKeyToIdentity(saKey: string, trustDomain: string): string {
  const [ns, sa] = saKey.split('/');
  return principalName({ serviceAccount: sa, namespace: ns, trustDomain });
}

class Planner {
  /** `ns/sa` → principal: every admitted source is named again by every rule and proxy that admits it. */
  private readonly identities = new Map<string, string>();
  private readonly upstreamCache = new Map<string, UpstreamCluster>();
  private readonly outboundPortCache = new Map<string, OutboundPort>();
  /** Services that are the apex of a split, per backend `ns/svc`: callers of a backend may use the apex. */
  private readonly apexesOfBackend = new Map<string, ServiceBinding[]>();
  /**
   * A workload's keys, made once per workload object (workloads outlive compiles under serve
   * --watch, and fresh strings are hashed anew on every map lookup).
   */
  private readonly workloadKeys: WeakMap<Workload, WorkloadKeys>;
  private readonly recorder: PlanRecorder;
  private readonly previous: PlanMemo | undefined;
  private readonly next: PlanMemo | undefined;

  constructor(
    private readonly mesh: SplitMesh,
    private readonly ctx: PassContext,
    memo: PlanMemo | undefined,
    next: PlanMemo | undefined,
  ) {
    this.workloadKeys = memo?.workloadKeys ?? new WeakMap();
    if (next) next.workloadKeys = this.workloadKeys;
    const b = mesh.bindings;
    for (const split of mesh.splits.values()) {
      for (const backend of split.backends) {
        const list = this.apexesOfBackend.get(backend.binding.key) ?? [];
        list.push(split.apex);
        this.apexesOfBackend.set(backend.binding.key, list);
      }
    }
    const tables: Record<Table, ReadonlyMap<unknown, unknown>> = {
      bySource: mesh.access.bySource,
      byDestination: mesh.access.byDestination,
      servicesOfServiceAccount: b.servicesOfServiceAccount,
      servicesOfWorkload: b.servicesOfWorkload,
      apexesOfBackend: this.apexesOfBackend,
      splits: mesh.splits,
      services: b.services,
      allServices: new Map([['*', [...b.services.values()]]]),
      // A workload's own object, by key: a unit planned for one workload depends on it, not only on what it looked up with it.
      workloads: new Map(b.workloads.map((w) => [this.keysOf(w).key, w])),
    };
    this.recorder = new PlanRecorder(tables, `${mesh.settings.trustDomain}|${mesh.settings.permissive}`, memo, next);
    this.previous = this.recorder.previous;
    this.next = next;
  }

  get trustDomain(): string {
    return this.mesh.settings.trustDomain;
  }

  private keysOf(w: Workload): WorkloadKeys {
    let keys = this.workloadKeys.get(w);
    if (!keys) this.workloadKeys.set(w, (keys = { key: `${w.meta.namespace}/${w.kind}/${w.meta.name}`, saKey: keyOf(w.meta.namespace, w.serviceAccount) }));
    return keys;
  }

  private read<K, V>(table: Table, key: K): V | undefined {
    return this.recorder.read<K, V>(table, key);
  }

  plan(): ProxyPlan[] {
    const plans = this.mesh.bindings.workloads.map((w) => this.planProxy(w));
    const reported = new Set<string>();
    for (const unit of this.outboundUnits) {
      for (const [pair, d] of unit.overlaps) {
        if (reported.has(pair)) continue;
        reported.add(pair);
        this.ctx.report(d);
      }
    }
    return plans;
  }

  /** Outbound units this compile used, in first-use order (their overlaps are reported in that order). */
  private readonly outboundUnits = new Set<OutboundUnit>();

  private planProxy(w: Workload): ProxyPlan {
    const { key, saKey } = this.keysOf(w);
    const outbound = this.mesh.settings.permissive
      ? this.outboundUnit('*', () => this.permissivePlan())
      : this.outboundUnit(saKey, () => this.restrictivePlan(saKey));
    this.outboundUnits.add(outbound);
    const inbound = this.recorder.unit(
      'inbound',
      key,
      () => (this.read('workloads', key), this.inboundPorts(w, saKey)),
      (earlier, fresh) => (sameData(earlier, fresh) ? earlier : fresh),
    );
    const earlier = this.previous?.proxies.get(key);
    const plan: ProxyPlan =
      earlier &&
      earlier.inbound === inbound &&
      earlier.outbound === outbound.plan.outbound &&
      earlier.upstreams === outbound.plan.upstreams &&
      earlier.serviceAccount === w.serviceAccount
        ? earlier
        : {
            namespace: w.meta.namespace,
            workload: w.meta.name,
            kind: w.kind,
            serviceAccount: w.serviceAccount,
            identity: principalName({ serviceAccount: w.serviceAccount, namespace: w.meta.namespace, trustDomain: this.trustDomain }),
            trustDomain: this.trustDomain,
            permissive: this.mesh.settings.permissive,
            inbound,
            outbound: outbound.plan.outbound,
            outboundLayout: outbound.plan.layout,
            upstreams: outbound.plan.upstreams,
          };
    this.next?.proxies.set(key, plan);
    return plan;
  }

  /** A source's outbound plan with the filter-chain overlaps in it, planned once per compile (and reused across them). */
  private readonly outboundThisCompile = new Map<string, OutboundUnit>();
  private outboundUnit(key: string, planOf: () => OutboundPlan): OutboundUnit {
    let unit = this.outboundThisCompile.get(key);
    if (!unit) {
      unit = this.recorder.unit(
        'outbound',
        key,
        () => {
          const plan = planOf();
          return { plan, overlaps: plan.layout.overlaps.map((o) => this.overlapDiagnostic(o)) };
        },
        // Each list kept apart: an endpoint change alters `upstreams` only, and emit's outbound
        // listener and routes, keyed on the `outbound` list, then stay as they were. The layout
        // holds the `outbound` items, so it goes with them. The overlaps carry source positions,
        // which may have moved; the plan does not.
        (earlier, fresh) => {
          const sameOutbound = sameData(earlier.plan.outbound, fresh.plan.outbound);
          const upstreams = sameData(earlier.plan.upstreams, fresh.plan.upstreams) ? earlier.plan.upstreams : fresh.plan.upstreams;
          const plan =
            sameOutbound && upstreams === earlier.plan.upstreams
              ? earlier.plan
              : sameOutbound
                ? { ...earlier.plan, upstreams }
                : { ...fresh.plan, upstreams };
          return { plan, overlaps: fresh.overlaps };
        },
      );
      this.outboundThisCompile.set(key, unit);
    }
    return unit;
  }

  // ── outbound ────────────────────────────────────────────────────────────

  private permissivePlan(): OutboundPlan {
    return this.outboundPlan(this.read<string, ServiceBinding[]>('allServices', '*') ?? [], () => true);
  }

  private restrictivePlan(saKey: string): OutboundPlan {
    const rules = this.read<string, readonly AccessRule[]>('bySource', saKey) ?? [];
    const rulesByService = new Map<ServiceBinding, AccessRule[]>();
    const admit = (binding: ServiceBinding, rule: AccessRule) => {
      const list = rulesByService.get(binding) ?? [];
      if (!list.includes(rule)) list.push(rule);
      rulesByService.set(binding, list);
    };
    for (const rule of rules) {
      for (const binding of this.read<string, readonly ServiceBinding[]>('servicesOfServiceAccount', rule.destination) ?? []) {
        admit(binding, rule);
        // Reaching a backend of a split means reaching its apex: the split sends apex traffic there.
        for (const apex of this.read<string, ServiceBinding[]>('apexesOfBackend', binding.key) ?? []) admit(apex, rule);
      }
    }
    const services = [...rulesByService.keys()].sort(byKey((s) => s.key));
    return this.outboundPlan(services, (binding, port) =>
      (rulesByService.get(binding) ?? []).some((rule) => ruleAdmitsPort(rule, port.port.protocol, port.port.port, port.targetPort)),
    );
  }

  private outboundPlan(services: readonly ServiceBinding[], admits: (b: ServiceBinding, p: ResolvedPort) => boolean): OutboundPlan {
    const outbound: OutboundPort[] = [];
    const upstreams = new Map<string, UpstreamCluster>();
    for (const binding of services) {
      for (const port of binding.ports) {
        if (!admits(binding, port)) continue;
        const out = this.outboundPort(binding, port);
        if (!out) continue;
        outbound.push(out);
        for (const backend of out.backends) upstreams.set(backend.cluster, this.upstreamCache.get(backend.cluster)!);
      }
    }
    return {
      outbound,
      layout: layoutOutbound(outbound),
      upstreams: [...upstreams.values()].sort(byName),
    };
  }

  private outboundPort(binding: ServiceBinding, port: ResolvedPort): OutboundPort | undefined {
    // Read before the cache: a unit that finds the port cached depends on the split all the same.
    const split = this.read<string, ResolvedSplit>('splits', binding.key);
    const cacheKey = `${binding.key}:${port.port.port}`;
    const cached = this.outboundPortCache.get(cacheKey);
    if (cached) return cached;
    let backends: WeightedBackend[];
    if (split) {
      backends = [];
      for (const b of split.backends) {
        const backendPort = b.binding.ports.find((p) => p.port.port === port.port.port);
        if (!backendPort) continue; // reported by the splits pass
        backends.push({ cluster: this.upstream(b.binding, backendPort).name, weight: b.weight });
      }
      if (backends.length === 0 || backends.every((b) => b.weight === 0)) return undefined;
    } else {
      backends = [{ cluster: this.upstream(binding, port).name, weight: 100 }];
    }
    const service = binding.service;
    const addresses = service.headless ? binding.endpoints : [...service.clusterIPs].sort(compareIPs);
    const out: OutboundPort = {
      service: { namespace: service.meta.namespace, name: service.meta.name },
      port: port.port.port,
      protocol: port.port.protocol,
      addresses,
      backends,
      split: split !== undefined,
    };
    this.outboundPortCache.set(cacheKey, out);
    return out;
  }

  private upstream(binding: ServiceBinding, port: ResolvedPort): UpstreamCluster {
    const name = upstreamClusterName(binding.key, port.targetPort);
    let cluster = this.upstreamCache.get(name);
    if (!cluster) {
      cluster = {
        name,
        service: { namespace: binding.service.meta.namespace, name: binding.service.meta.name },
        targetPort: port.targetPort,
        port: port.port.port,
        protocol: port.port.protocol,
        identities: binding.serviceAccounts.map((sa) => this.identity(sa)),
        endpoints: binding.endpoints,
      };
      this.upstreamCache.set(name, cluster);
    }
    return cluster;
  }

  /** An overlap of the layout (outbound-layout.ts), at the port of the service it leaves out or makes Envoy reject. */
  private overlapDiagnostic(o: OutboundOverlap): readonly [string, Diagnostic] {
    const first = keyOf(o.first.namespace, o.first.name);
    const second = keyOf(o.second.namespace, o.second.name);
    const service = this.read<string, ServiceBinding>('services', second)!.service;
    const portIndex = service.ports.findIndex((p) => p.port === o.port);
    const d = diagnostic(
      'filter-chain-overlap',
      { first, second, address: o.address ?? '<any address>', port: o.port },
      at(service, portIndex >= 0 ? [...service.ports[portIndex].path, 'port'] : ['spec']),
      refOf(service),
    );
    return [`${first}|${second}|${o.address ?? '*'}|${o.port}`, d];
  }

  // ── inbound ─────────────────────────────────────────────────────────────

  private inboundPorts(w: Workload, saKey: string): InboundPort[] {
    const rules = this.read<string, readonly AccessRule[]>('byDestination', saKey) ?? [];
    const ports: InboundPort[] = [];
    const seen = new Set<string>();
    for (const binding of this.read<Workload, readonly ServiceBinding[]>('servicesOfWorkload', w) ?? []) {
      for (const port of binding.ports) {
        const key = `${binding.key}|${port.targetPort}`;
        if (seen.has(key)) continue;
        seen.add(key);
        ports.push(this.inboundPort(binding, port, rules));
      }
    }
    return ports;
  }

  private inboundPort(binding: ServiceBinding, port: ResolvedPort, rules: readonly AccessRule[]): InboundPort {
    const base = {
      service: { namespace: binding.service.meta.namespace, name: binding.service.meta.name },
      port: port.port.port,
      targetPort: port.targetPort,
      protocol: port.port.protocol,
      localCluster: localClusterName(binding.key, port.targetPort),
    };
    const http = isHttpFamily(port.port.protocol);
    const apexes = http ? this.apexesServedBy(binding, port.port.port) : undefined;
    const withApexes = apexes && apexes.length > 0 ? { ...base, apexes } : base;
    if (this.mesh.settings.permissive) {
      return { ...withApexes, routes: http ? [{ name: '*' }] : [] };
    }
    const admitting = rules.filter((r) => ruleAdmitsPort(r, port.port.protocol, port.port.port, port.targetPort));
    const policies: InboundPolicy[] = admitting
      .map((r) => ({ name: r.target.meta.name, principals: r.sources.map((s) => this.identity(s)) }))
      .sort(byName);
    return { ...withApexes, policies, routes: http ? this.inboundRoutes(admitting) : [] };
  }

  /**
   * Split apexes this backend port receives traffic for: callers address the apex (its Host
   * header), so the backend's inbound route configuration needs the apex's virtual host too.
   */
  private apexesServedBy(binding: ServiceBinding, port: number): { service: { namespace: string; name: string }; port: number }[] {
    return (this.read<string, ServiceBinding[]>('apexesOfBackend', binding.key) ?? [])
      .filter((apex) => apex.ports.some((p) => p.port.port === port))
      .map((apex) => ({ service: { namespace: apex.service.meta.namespace, name: apex.service.meta.name }, port }))
      .sort(byKey((p) => p.service.name));
  }

  /** One route per admitted match, principals merged across TrafficTargets, in group then author order. */
  private inboundRoutes(rules: readonly AccessRule[]): InboundHttpRoute[] {
    const byMatch = new Map<string, { groupKey: string; index: number; route: InboundHttpRoute; principals: Set<string> }>();
    for (const rule of rules) {
      for (const admitted of rule.http) {
        const groupKey = resourceKey(admitted.group);
        const key = `${groupKey}#${admitted.index}`;
        let entry = byMatch.get(key);
        if (!entry) {
          entry = {
            groupKey,
            index: admitted.index,
            route: { name: `${groupKey}/${admitted.match.name}`, match: admitted.match },
            principals: new Set(),
          };
          byMatch.set(key, entry);
        }
        for (const s of rule.sources) entry.principals.add(this.identity(s));
      }
    }
    return [...byMatch.values()]
      .sort((a, b) => compareStrings(a.groupKey, b.groupKey) || a.index - b.index)
      .map((e) => ({ ...e.route, principals: [...e.principals].sort() }));
  }

  private identity(saKey: string): string {
    let principal = this.identities.get(saKey);
    if (principal === undefined) this.identities.set(saKey, (principal = saKeyToIdentity(saKey, this.trustDomain)));
    return principal;
  }
}

/** `memo`: the previous compile's plans, to reuse; `next` receives this compile's. */
export function planProxies(mesh: SplitMesh, ctx: PassContext, memo?: PlanMemo, next?: PlanMemo): PlannedMesh {
  return { ...mesh, proxies: new Planner(mesh, ctx, memo, next).plan() };
}
