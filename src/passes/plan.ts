/**
 * Plans one proxy per workload: the ports it serves (inbound, with who may call which route)
 * and the service ports it may call (outbound, with split backends and their clusters).
 *
 * Proxies with the same service account get the same outbound plan, and in permissive mode
 * every proxy shares one; the shared arrays let emit build identical resources once.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import type {
  InboundHttpRoute,
  InboundPolicy,
  InboundPort,
  OutboundPort,
  ProxyPlan,
  UpstreamCluster,
  WeightedBackend,
} from '../ir/proxy-plan.ts';
import { keyOf, resourceKey, type Workload } from '../ir/types.ts';
import { ruleAdmitsPort, type AccessRule } from './access.ts';
import { compareIPs, identityOf, type ResolvedPort, type ServiceBinding } from './bind.ts';
import { at, refOf, type PassContext } from './context.ts';
import type { SplitMesh } from './splits.ts';

export interface PlannedMesh extends SplitMesh {
  readonly proxies: readonly ProxyPlan[];
}

interface OutboundPlan {
  readonly outbound: readonly OutboundPort[];
  readonly upstreams: readonly UpstreamCluster[];
}

const isHttpFamily = (protocol: string) => protocol === 'http' || protocol === 'grpc';

function clusterName(binding: ServiceBinding, targetPort: number): string {
  return `${binding.key}|${targetPort}`;
}

function saKeyToIdentity(saKey: string, trustDomain: string): string {
  const [ns, sa] = saKey.split('/');
  return identityOf(sa, ns, trustDomain);
}

class Planner {
  /** `ns/sa` → principal: every admitted source is named again by every rule and proxy that admits it. */
  private readonly identities = new Map<string, string>();
  private readonly upstreamCache = new Map<string, UpstreamCluster>();
  private readonly outboundPortCache = new Map<string, OutboundPort>();
  private readonly outboundBySourceAccount = new Map<string, OutboundPlan>();
  private permissiveOutbound?: OutboundPlan;
  private readonly reportedOverlaps = new Set<string>();
  /** Services that are the apex of a split, per backend `ns/svc`: callers of a backend may use the apex. */
  private readonly apexesOfBackend = new Map<string, ServiceBinding[]>();

  constructor(
    private readonly mesh: SplitMesh,
    private readonly ctx: PassContext,
  ) {
    for (const s of mesh.splits.values()) {
      for (const b of s.backends) {
        const list = this.apexesOfBackend.get(b.binding.key) ?? [];
        list.push(s.apex);
        this.apexesOfBackend.set(b.binding.key, list);
      }
    }
  }

  get trustDomain(): string {
    return this.mesh.settings.trustDomain;
  }

  plan(): ProxyPlan[] {
    return this.mesh.bindings.workloads.map((w) => this.planProxy(w));
  }

  private planProxy(w: Workload): ProxyPlan {
    const saKey = keyOf(w.meta.namespace, w.serviceAccount);
    const outbound = this.mesh.settings.permissive ? this.permissivePlan() : this.restrictivePlan(saKey);
    this.checkOverlaps(outbound.outbound);
    return {
      namespace: w.meta.namespace,
      workload: w.meta.name,
      kind: w.kind,
      serviceAccount: w.serviceAccount,
      identity: identityOf(w.serviceAccount, w.meta.namespace, this.trustDomain),
      trustDomain: this.trustDomain,
      permissive: this.mesh.settings.permissive,
      inbound: this.inboundPorts(w, saKey),
      outbound: outbound.outbound,
      upstreams: outbound.upstreams,
    };
  }

  // ── outbound ────────────────────────────────────────────────────────────

  private permissivePlan(): OutboundPlan {
    this.permissiveOutbound ??= this.outboundPlan([...this.mesh.bindings.services.values()], () => true);
    return this.permissiveOutbound;
  }

  private restrictivePlan(saKey: string): OutboundPlan {
    const cached = this.outboundBySourceAccount.get(saKey);
    if (cached) return cached;
    const rules = this.mesh.access.bySource.get(saKey) ?? [];
    const rulesByService = new Map<ServiceBinding, AccessRule[]>();
    const admit = (binding: ServiceBinding, rule: AccessRule) => {
      const list = rulesByService.get(binding) ?? [];
      if (!list.includes(rule)) list.push(rule);
      rulesByService.set(binding, list);
    };
    for (const rule of rules) {
      for (const binding of this.mesh.bindings.servicesOfServiceAccount.get(rule.destination) ?? []) {
        admit(binding, rule);
        // Reaching a backend of a split means reaching its apex: the split sends apex traffic there.
        for (const apex of this.apexesOfBackend.get(binding.key) ?? []) admit(apex, rule);
      }
    }
    const services = [...rulesByService.keys()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const plan = this.outboundPlan(services, (binding, port) =>
      (rulesByService.get(binding) ?? []).some((rule) => ruleAdmitsPort(rule, port.port.protocol, port.port.port, port.targetPort)),
    );
    this.outboundBySourceAccount.set(saKey, plan);
    return plan;
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
      upstreams: [...upstreams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
  }

  private outboundPort(binding: ServiceBinding, port: ResolvedPort): OutboundPort | undefined {
    const cacheKey = `${binding.key}:${port.port.port}`;
    const cached = this.outboundPortCache.get(cacheKey);
    if (cached) return cached;
    const split = this.mesh.splits.get(binding.key);
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
    const name = clusterName(binding, port.targetPort);
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

  /**
   * Envoy rejects a listener whose filter chains have identical matches. Chains with known
   * addresses collide on the same address and port. Address-less chains match on the port
   * alone: HTTP and gRPC services share one such chain per port (routed by Host), but a TCP
   * service cannot share it with anything, so emit keeps only one of them.
   */
  private checkOverlaps(outbound: readonly OutboundPort[]): void {
    const claimed = new Map<string, OutboundPort>();
    for (const out of outbound) {
      const keys = out.addresses.length > 0 ? out.addresses.map((a) => `${a}|${out.port}`) : [`*|${out.port}`];
      for (const key of keys) {
        const first = claimed.get(key);
        if (!first) {
          claimed.set(key, out);
          continue;
        }
        if (first.service === out.service) continue;
        if (key.startsWith('*|') && isHttpFamily(first.protocol) && isHttpFamily(out.protocol)) continue;
        this.reportOverlap(first, out, key);
      }
    }
  }

  private reportOverlap(first: OutboundPort, second: OutboundPort, key: string): void {
    const firstName = `${first.service.namespace}/${first.service.name}`;
    const secondName = `${second.service.namespace}/${second.service.name}`;
    const pair = `${firstName}|${secondName}|${key}`;
    if (this.reportedOverlaps.has(pair)) return;
    this.reportedOverlaps.add(pair);
    const service = this.mesh.bindings.services.get(secondName)!.service;
    const portIndex = service.ports.findIndex((p) => p.port === second.port);
    const [address] = key.split('|');
    this.ctx.report(
      diagnostic(
        'filter-chain-overlap',
        { first: firstName, second: secondName, address: address === '*' ? '<any address>' : address, port: second.port },
        at(service, portIndex >= 0 ? [...service.ports[portIndex].path, 'port'] : ['spec']),
        refOf(service),
      ),
    );
  }

  // ── inbound ─────────────────────────────────────────────────────────────

  private inboundPorts(w: Workload, saKey: string): InboundPort[] {
    const rules = this.mesh.access.byDestination.get(saKey) ?? [];
    const ports: InboundPort[] = [];
    const seen = new Set<string>();
    for (const binding of this.mesh.bindings.servicesOfWorkload.get(w) ?? []) {
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
      localCluster: `${clusterName(binding, port.targetPort)}|local`,
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
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { ...withApexes, policies, routes: http ? this.inboundRoutes(admitting) : [] };
  }

  /**
   * Split apexes this backend port receives traffic for: callers address the apex (its Host
   * header), so the backend's inbound route configuration needs the apex's virtual host too.
   */
  private apexesServedBy(binding: ServiceBinding, port: number): { service: { namespace: string; name: string }; port: number }[] {
    return (this.apexesOfBackend.get(binding.key) ?? [])
      .filter((apex) => apex.ports.some((p) => p.port.port === port))
      .map((apex) => ({ service: { namespace: apex.service.meta.namespace, name: apex.service.meta.name }, port }))
      .sort((a, b) => (a.service.name < b.service.name ? -1 : a.service.name > b.service.name ? 1 : 0));
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
      .sort((a, b) => (a.groupKey !== b.groupKey ? (a.groupKey < b.groupKey ? -1 : 1) : a.index - b.index))
      .map((e) => ({ ...e.route, principals: [...e.principals].sort() }));
  }

  private identity(saKey: string): string {
    let principal = this.identities.get(saKey);
    if (principal === undefined) this.identities.set(saKey, (principal = saKeyToIdentity(saKey, this.trustDomain)));
    return principal;
  }
}

export function planProxies(mesh: SplitMesh, ctx: PassContext): PlannedMesh {
  return { ...mesh, proxies: new Planner(mesh, ctx).plan() };
}
