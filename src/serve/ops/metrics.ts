/**
 * Prometheus metrics of the xDS server (prom-client). Each server has its own registry, so
 * tests that start several servers in one process do not collide on metric names.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Snapshot } from '../snapshot/snapshot-types.ts';

export type Protocol = 'sotw' | 'delta';

/**
 * A counter labelled (protocol, type) that is bumped once per response or ACK to every stream:
 * 100,000 times per change at 10,000 streams. prom-client hashes the label object on every
 * `inc`, so the counts are kept as plain numbers per label pair and handed to prom-client
 * when the registry is scraped.
 */
class StreamCounter {
  private readonly cells = new Map<Protocol, Map<string, { value: number }>>();
  private readonly counter: Counter<'protocol' | 'type'>;

  constructor(registry: Registry, name: string, help: string) {
    const cells = this.cells;
    this.counter = new Counter({
      name,
      help,
      labelNames: ['protocol', 'type'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [protocol, byType] of cells) for (const [type, cell] of byType) this.inc({ protocol, type }, cell.value);
      },
    });
  }

  /** As prom-client's `get()`: the values a scrape would read now. */
  get(): ReturnType<Counter<'protocol' | 'type'>['get']> {
    return this.counter.get();
  }

  add(protocol: Protocol, type: string, n = 1): void {
    let byType = this.cells.get(protocol);
    if (!byType) this.cells.set(protocol, (byType = new Map()));
    const cell = byType.get(type);
    if (cell) cell.value += n;
    else byType.set(type, { value: n });
  }
}

export class XdsMetrics {
  readonly registry = new Registry();

  readonly streams = new Gauge({
    name: 'smi_xds_streams',
    help: 'Open ADS streams',
    labelNames: ['protocol', 'flavour'] as const,
    registers: [this.registry],
  });
  readonly proxies = new Gauge({
    name: 'smi_xds_connected_proxies',
    help: 'Distinct node ids with at least one open ADS stream',
    registers: [this.registry],
  });
  /** Set at scrape time from the server's connection ledger (see `heldBy`). */
  readonly heldBytes = new Gauge({
    name: 'smi_xds_client_held_bytes',
    help: 'Bytes the server holds on ADS clients\' behalf (subscriptions, declared versions, NACK messages), as docs/limits.md counts them',
    registers: [this.registry],
  });
  readonly responses = new StreamCounter(this.registry, 'smi_xds_pushes_total', 'Discovery responses sent, by type');
  readonly resourcesSent = new StreamCounter(this.registry, 'smi_xds_resources_sent_total', 'Resources carried by discovery responses, by type');
  readonly acks = new StreamCounter(this.registry, 'smi_xds_acks_total', 'Responses the proxy accepted');
  readonly nacks = new Counter({
    name: 'smi_xds_nacks_total',
    help: 'Responses the proxy rejected (error_detail set); never resent as they were',
    labelNames: ['protocol', 'type'] as const,
    registers: [this.registry],
  });
  readonly staleRequests = new Counter({
    name: 'smi_xds_stale_requests_total',
    help: 'Requests ignored because they answered an older response nonce',
    labelNames: ['protocol', 'type'] as const,
    registers: [this.registry],
  });
  readonly rejectedStreams = new Counter({
    name: 'smi_xds_rejected_streams_total',
    help: 'Streams ended with an error, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly compileSeconds = new Histogram({
    name: 'smi_compile_duration_seconds',
    help: 'Time to compile the manifests and build the snapshot',
    labelNames: ['result'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly snapshotProxies = new Gauge({
    name: 'smi_snapshot_proxies',
    help: 'Proxies (workloads) in the served snapshot',
    registers: [this.registry],
  });
  readonly snapshotResources = new Gauge({
    name: 'smi_snapshot_resources',
    help: 'Resources in the served snapshot: references summed over proxies, and distinct encoded resources',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly snapshotBytes = new Gauge({
    name: 'smi_snapshot_encoded_bytes',
    help: 'Bytes of the distinct encoded resources of the served snapshot',
    registers: [this.registry],
  });
  readonly snapshotInfo = new Gauge({
    name: 'smi_snapshot_info',
    help: 'The served snapshot version (value 1)',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    // Process metrics (memory, event loop lag): what the server's memory bound per stream is watched with.
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** `smi_xds_client_held_bytes` reads `total` when scraped: nothing to update on the request path. */
  heldBy(total: () => number): void {
    const gauge = this.heldBytes as unknown as { collect?: () => void };
    gauge.collect = () => this.heldBytes.set(total());
  }

  snapshotServed(s: Snapshot): void {
    this.snapshotProxies.set(s.stats.proxies);
    this.snapshotResources.set({ kind: 'references' }, s.stats.resources);
    this.snapshotResources.set({ kind: 'distinct' }, s.stats.uniqueResources);
    this.snapshotBytes.set(s.stats.encodedBytes);
    this.snapshotInfo.reset();
    this.snapshotInfo.set({ version: s.version }, 1);
  }
}
