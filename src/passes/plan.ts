/**
 * Plans one proxy per workload: the ports it serves (inbound, with who may call which route)
 * and the service ports it may call (outbound, with split backends and their clusters).
 *
 * Proxies with the same service account get the same outbound plan, and in permissive mode
 * every proxy shares one; the shared arrays let emit build identical resources once.
 *
 * With a PlanMemo (serve --watch), a plan is also reused across compiles: each unit of work (a
 * service account's outbound plan, a workload's inbound ports) records every table entry it
 * read, and the next compile hands back the previous result while those entries are still the
 * same objects (the namespace shards, namespaces.ts, keep bindings and rules the same objects
 * while their namespace is unchanged). A unit that had to be planned again but came out equal
 * to the previous one is replaced by it: plans hold no source positions, so an edit elsewhere
 * in the same namespace leaves them the same objects. Emit and the server then skip every proxy
 * whose plan is the same object, and a one-policy edit re-emits only the proxies it changed.
 */
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { localClusterName, principalName, serviceKey, upstreamClusterName } from '../ir/names.ts';
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
import { compareIPs, type ResolvedPort, type ServiceBinding } from './bind.ts';
import { sameData } from './collections.ts';
import { at, refOf, type PassContext } from './context.ts';
import type { ResolvedSplit, SplitMesh } from './splits.ts';

export interface PlannedMesh extends SplitMesh {
  readonly proxies: readonly ProxyPlan[];
}

interface OutboundPlan {
  readonly outbound: readonly OutboundPort[];
  readonly upstreams: readonly UpstreamCluster[];
}

/**
 * The tables a unit of planning reads. A unit records which entries it read; the next compile
 * finds the entries whose value changed (dirty) by comparing each table with the previous
 * compile's, and reuses every unit that read none of them. Values compare as `sameValue` does.
 */
const TABLES = ['bySource', 'byDestination', 'servicesOfServiceAccount', 'servicesOfWorkload', 'apexesOfBackend', 'splits', 'services', 'allServices', 'workloads'] as const;
type Table = (typeof TABLES)[number];
const TABLE: Readonly<Record<Table, number>> = Object.fromEntries(TABLES.map((t, i) => [t, i])) as Record<Table, number>;

interface Unit<T> {
  /** Table index, key, table index, key, …: every entry the unit read. */
  readonly reads: readonly unknown[];
  readonly value: T;
}

interface OutboundUnit {
  readonly plan: OutboundPlan;
  /** Filter-chain overlaps in this plan, by pair (reported once per compile however many proxies share them). */
  readonly overlaps: readonly (readonly [string, Diagnostic])[];
}

/** What one compile planned, for the next to reuse (see the file comment). */
export class PlanMemo {
  /** `trustDomain|permissive`: every plan depends on both. */
  settings = '';
  /** The tables as this compile had them (TABLES order): the next compile's dirty entries are the differences. */
  tables: readonly ReadonlyMap<unknown, unknown>[] = [];
  /** By `ns/sa` (`*`: the permissive plan every proxy shares). */
  outbound = new Map<string, Unit<OutboundUnit>>();
  /** By workload key `ns/kind/name`. */
  inbound = new Map<string, Unit<readonly InboundPort[]>>();
  proxies = new Map<string, ProxyPlan>();
  splits = new Map<string, ResolvedSplit>();
  /** Units reused and computed in the last compile (tests and the bench read them). */
  reused = 0;
  planned = 0;
}

/** Lists compare by their items (they are rebuilt every compile), everything else by identity. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Keys whose value differs between two versions of a table (present in one only included). */
function dirtyKeys(before: ReadonlyMap<unknown, unknown>, now: ReadonlyMap<unknown, unknown>): Set<unknown> {
  const dirty = new Set<unknown>();
  for (const [k, v] of now) if (!sameValue(before.get(k), v)) dirty.add(k);
  for (const k of before.keys()) if (!now.has(k)) dirty.add(k);
  return dirty;
}

const isHttpFamily = (protocol: string) => protocol === 'http' || protocol === 'grpc';

/**
 * A workload's key `ns/kind/name` and its service account's `ns/sa`, made once per workload
 * object (workloads outlive compiles under serve --watch, and fresh strings are hashed anew on
 * every map lookup).
 */
const workloadKeys = new WeakMap<Workload, { readonly key: string; readonly saKey: string }>();
function keysOf(w: Workload): { readonly key: string; readonly saKey: string } {
  let keys = workloadKeys.get(w);
  if (!keys) workloadKeys.set(w, (keys = { key: `${w.meta.namespace}/${w.kind}/${w.meta.name}`, saKey: keyOf(w.meta.namespace, w.serviceAccount) }));
  return keys;
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
  /** The reads of the unit being planned (undefined: nobody is recording). */
  private reads: unknown[] | undefined;
  private readonly tables: readonly ReadonlyMap<unknown, unknown>[];
  private readonly previous: PlanMemo | undefined;
  /** Per table, the entries that changed since the previous compile (with `previous` only). */
  private readonly dirty: readonly Set<unknown>[] = [];

  constructor(
    private readonly mesh: SplitMesh,
    private readonly ctx: PassContext,
    memo: PlanMemo | undefined,
    private readonly next: PlanMemo | undefined,
  ) {
    const settings = `${mesh.settings.trustDomain}|${mesh.settings.permissive}`;
    this.previous = memo?.settings === settings ? memo : undefined;
    if (next) next.settings = settings;
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
      workloads: new Map(b.workloads.map((w) => [keysOf(w).key, w])),
    };
    this.tables = TABLES.map((t) => tables[t]);
    if (next) next.tables = this.tables;
    if (this.previous) this.dirty = this.tables.map((now, i) => dirtyKeys(this.previous!.tables[i], now));
  }

  get trustDomain(): string {
    return this.mesh.settings.trustDomain;
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

  /**
   * `compute()` for this compile, or the previous compile's value when no table entry it read
   * has changed since. Units may nest: an inner unit's reads are also the outer one's.
   */
  private unit<T>(units: 'outbound' | 'inbound', key: string, compute: () => T, same: (earlier: T, fresh: T) => T): T {
    const next = this.next;
    if (!next) return compute(); // nothing to remember: no reads to record
    const earlier = (this.previous?.[units] as Map<string, Unit<T>> | undefined)?.get(key);
    let unit: Unit<T>;
    if (earlier && this.unchanged(earlier.reads)) {
      unit = earlier;
      next.reused++;
    } else {
      const outer = this.reads;
      const reads: unknown[] = [];
      this.reads = reads;
      try {
        const value = compute();
        unit = { reads, value: earlier ? same(earlier.value, value) : value };
      } finally {
        this.reads = outer;
      }
      next.planned++;
    }
    if (this.reads) for (const r of unit.reads) this.reads.push(r);
    (next[units] as Map<string, Unit<T>>).set(key, unit);
    return unit.value;
  }

  /** True when none of these entries changed since the previous compile (which held them unchanged since they were read). */
  private unchanged(reads: readonly unknown[]): boolean {
    for (let i = 0; i < reads.length; i += 2) if (this.dirty[reads[i] as number].has(reads[i + 1])) return false;
    return true;
  }

  private read<K, V>(table: Table, key: K): V | undefined {
    const t = TABLE[table];
    this.reads?.push(t, key);
    return this.tables[t].get(key) as V | undefined;
  }

  private planProxy(w: Workload): ProxyPlan {
    const { key, saKey } = keysOf(w);
    const outbound = this.mesh.settings.permissive
      ? this.outboundUnit('*', () => this.permissivePlan())
      : this.outboundUnit(saKey, () => this.restrictivePlan(saKey));
    this.outboundUnits.add(outbound);
    const inbound = this.unit(
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
      unit = this.unit(
        'outbound',
        key,
        () => {
          const plan = planOf();
          return { plan, overlaps: this.overlaps(plan.outbound) };
        },
        // Each list kept apart: an endpoint change alters `upstreams` only, and emit's outbound
        // listener and routes, keyed on the `outbound` list, then stay as they were. The overlaps
        // carry source positions, which may have moved; the plan does not.
        (earlier, fresh) => {
          const outbound = sameData(earlier.plan.outbound, fresh.plan.outbound) ? earlier.plan.outbound : fresh.plan.outbound;
          const upstreams = sameData(earlier.plan.upstreams, fresh.plan.upstreams) ? earlier.plan.upstreams : fresh.plan.upstreams;
          const plan = outbound === earlier.plan.outbound && upstreams === earlier.plan.upstreams ? earlier.plan : { outbound, upstreams };
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
    const services = [...rulesByService.keys()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
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
      upstreams: [...upstreams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
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

  /**
   * Envoy rejects a listener whose filter chains have identical matches. Chains with known
   * addresses collide on the same address and port. Address-less chains match on the port
   * alone: HTTP and gRPC services share one such chain per port (routed by Host), but a TCP
   * service cannot share it with anything, so emit keeps only one of them.
   */
  private overlaps(outbound: readonly OutboundPort[]): (readonly [string, Diagnostic])[] {
    const found: (readonly [string, Diagnostic])[] = [];
    const pairs = new Set<string>();
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
        const firstName = serviceKey(first.service);
        const secondName = serviceKey(out.service);
        const pair = `${firstName}|${secondName}|${key}`;
        if (pairs.has(pair)) continue;
        pairs.add(pair);
        found.push([pair, this.overlapDiagnostic(firstName, secondName, out, key)]);
      }
    }
    return found;
  }

  private overlapDiagnostic(firstName: string, secondName: string, second: OutboundPort, key: string): Diagnostic {
    const service = this.read<string, ServiceBinding>('services', secondName)!.service;
    const portIndex = service.ports.findIndex((p) => p.port === second.port);
    const [address] = key.split('|');
    return diagnostic(
      'filter-chain-overlap',
      { first: firstName, second: secondName, address: address === '*' ? '<any address>' : address, port: second.port },
      at(service, portIndex >= 0 ? [...service.ports[portIndex].path, 'port'] : ['spec']),
      refOf(service),
    );
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
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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

/** `memo`: the previous compile's plans, to reuse; `next` receives this compile's. */
export function planProxies(mesh: SplitMesh, ctx: PassContext, memo?: PlanMemo, next?: PlanMemo): PlannedMesh {
  return { ...mesh, proxies: new Planner(mesh, ctx, memo, next).plan() };
}
