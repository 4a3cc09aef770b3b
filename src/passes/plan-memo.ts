/**
 * Reuse of plans across compiles (serve --watch). Each unit of planning (a service account's
 * outbound plan, a workload's inbound ports) records every table entry it read, and the next
 * compile hands back the previous result while those entries are still the same objects (the
 * namespace shards, namespaces.ts, keep bindings and rules the same objects while their
 * namespace is unchanged). A unit that had to be planned again but came out equal to the
 * previous one is replaced by it: plans hold no source positions, so an edit elsewhere in the
 * same namespace leaves them the same objects. Emit and the server then skip every proxy whose
 * plan is the same object, and a one-policy edit re-emits only the proxies it changed.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { InboundPort, OutboundLayout, OutboundPort, ProxyPlan, UpstreamCluster } from '../ir/proxy-plan.ts';
import type { Workload } from '../ir/types.ts';
import type { ResolvedSplit } from './splits.ts';

/**
 * The tables a unit of planning reads. A unit records which entries it read; the next compile
 * finds the entries whose value changed (dirty) by comparing each table with the previous
 * compile's, and reuses every unit that read none of them. Values compare as `sameValue` does.
 */
const TABLES = ['bySource', 'byDestination', 'servicesOfServiceAccount', 'servicesOfWorkload', 'apexesOfBackend', 'splits', 'services', 'allServices', 'workloads'] as const;
export type Table = (typeof TABLES)[number];
const TABLE: Readonly<Record<Table, number>> = Object.fromEntries(TABLES.map((t, i) => [t, i])) as Record<Table, number>;

interface Unit<T> {
  /** Table index, key, table index, key, …: every entry the unit read. */
  readonly reads: readonly unknown[];
  readonly value: T;
}

/** What a source's proxies may call: shared by every proxy of the source service account. */
export interface OutboundPlan {
  readonly outbound: readonly OutboundPort[];
  readonly layout: OutboundLayout;
  readonly upstreams: readonly UpstreamCluster[];
}

export interface OutboundUnit {
  readonly plan: OutboundPlan;
  /** The layout's overlaps as diagnostics, by pair (reported once per compile however many proxies share them). */
  readonly overlaps: readonly (readonly [string, Diagnostic])[];
}

/** What one compile planned, for the next to reuse. */
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
  /** Each workload's `ns/kind/name` and `ns/sa` (plan.ts), kept while the workload object lives. */
  workloadKeys = new WeakMap<Workload, { readonly key: string; readonly saKey: string }>();
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

/** One compile's reads of the tables: recorded per unit, and checked against the previous compile's. */
export class PlanRecorder {
  /** The reads of the unit being planned (undefined: nobody is recording). */
  private reads: unknown[] | undefined;
  private readonly tables: readonly ReadonlyMap<unknown, unknown>[];
  /** The previous compile's memo, when planned with the same settings. */
  readonly previous: PlanMemo | undefined;
  /** Per table, the entries that changed since the previous compile (with `previous` only). */
  private readonly dirty: readonly Set<unknown>[] = [];

  constructor(
    tables: Readonly<Record<Table, ReadonlyMap<unknown, unknown>>>,
    settings: string,
    memo: PlanMemo | undefined,
    readonly next: PlanMemo | undefined,
  ) {
    this.previous = memo?.settings === settings ? memo : undefined;
    this.tables = TABLES.map((t) => tables[t]);
    if (next) {
      next.settings = settings;
      next.tables = this.tables;
    }
    if (this.previous) this.dirty = this.tables.map((now, i) => dirtyKeys(this.previous!.tables[i], now));
  }

  /**
   * `compute()` for this compile, or the previous compile's value when no table entry it read
   * has changed since. Units may nest: an inner unit's reads are also the outer one's.
   */
  unit<T>(units: 'outbound' | 'inbound', key: string, compute: () => T, same: (earlier: T, fresh: T) => T): T {
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

  /** An entry of a table, recorded as read by the unit being planned. */
  read<K, V>(table: Table, key: K): V | undefined {
    const t = TABLE[table];
    this.reads?.push(t, key);
    return this.tables[t].get(key) as V | undefined;
  }
}
