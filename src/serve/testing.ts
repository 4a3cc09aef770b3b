/**
 * Hand-made proxy configs and a server with a swappable "compiler", for the serve unit tests:
 * they exercise the protocol without depending on what the compiler emits.
 */
import { EventEmitter } from 'node:events';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { TYPE } from '../emit/names.ts';
import type { EnvoyResource, ProxyConfig } from '../emit/types.ts';
import { memoryLogger, type MemoryLogger } from './ops/logger.ts';
import { RawAdsClient } from './xds/raw-client.ts';
import { startServer, type ServeOptions, type ServerHandle } from './server.ts';
import { compareStrings } from '../shared/compare.ts';

/** What a grpc-js server call is to a stream: events in, `write` out, a peer address. */
export class FakeCall<Res extends { typeUrl: string; nonce: string } = { typeUrl: string; nonce: string }> extends EventEmitter {
  readonly responses: Res[] = [];
  ended: { code: number; details: string } | undefined;
  writableLength = 0;
  constructor(private readonly peer = '127.0.0.1:40000') {
    super();
    this.on('error', (e: { code: number; details: string }) => (this.ended ??= e));
  }
  getPeer(): string {
    return this.peer;
  }
  write(res: Res): boolean {
    this.responses.push(res);
    return true;
  }
  /** The nonce of the last response of `typeUrl`. */
  lastNonce(typeUrl: string): string {
    for (let i = this.responses.length - 1; i >= 0; i--) if (this.responses[i].typeUrl === typeUrl) return this.responses[i].nonce;
    return '';
  }
}

const ADS = { ads: {}, resource_api_version: 'V3' };

export function cluster(name: string, extra: Record<string, unknown> = {}): EnvoyResource {
  return { '@type': TYPE.cluster, name, type: 'EDS', eds_cluster_config: { eds_config: ADS }, ...extra };
}

export function cla(name: string, endpoints: readonly string[] = []): EnvoyResource {
  return {
    '@type': TYPE.clusterLoadAssignment,
    cluster_name: name,
    endpoints: [
      {
        locality: { zone: 'local' },
        lb_endpoints: endpoints.map((ep) => {
          const [address, port] = ep.split(':');
          return { endpoint: { address: { socket_address: { address, port_value: Number(port) } } } };
        }),
      },
    ],
  };
}

/** An outbound-style listener whose one filter chain routes over RDS `routeConfig`. */
export function listener(name: string, routeConfig: string, port = 15001): EnvoyResource {
  return {
    '@type': TYPE.listener,
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': TYPE.httpConnectionManager,
              stat_prefix: name,
              rds: { config_source: ADS, route_config_name: routeConfig },
              http_filters: [{ name: 'http_router', typed_config: { '@type': TYPE.router } }],
            },
          },
        ],
      },
    ],
  };
}

export interface VirtualHostSpec {
  name: string;
  domains: string[];
  routes: Record<string, unknown>[];
}

export function routeConfig(name: string, virtualHosts: VirtualHostSpec[]): EnvoyResource {
  return { '@type': TYPE.routeConfiguration, name, virtual_hosts: virtualHosts };
}

/** A catch-all route to `clusters` (`name=weight`, or one name). */
export function splitRoute(...clusters: string[]): Record<string, unknown> {
  if (clusters.length === 1 && !clusters[0].includes('=')) return { match: { prefix: '/' }, route: { cluster: clusters[0] } };
  return {
    match: { prefix: '/' },
    route: {
      weighted_clusters: {
        clusters: clusters.map((c) => {
          const [n, w] = c.split('=');
          return { name: n, weight: Number(w) };
        }),
      },
    },
  };
}

export function proxy(nodeId: string, r: Partial<Record<'listeners' | 'routes' | 'clusters' | 'endpoints' | 'secrets', readonly EnvoyResource[]>>): ProxyConfig {
  const [namespace, workload] = nodeId.split('/');
  const byName = (a: EnvoyResource, b: EnvoyResource): number => compareStrings(String(a.name ?? a.cluster_name), String(b.name ?? b.cluster_name));
  return {
    namespace,
    workload,
    nodeId,
    resources: {
      listeners: [...(r.listeners ?? [])].sort(byName),
      routes: [...(r.routes ?? [])].sort(byName),
      clusters: [...(r.clusters ?? [])].sort(byName),
      endpoints: [...(r.endpoints ?? [])].sort(byName),
      secrets: [...(r.secrets ?? [])].sort(byName),
    },
    bootstrap: {},
  };
}

/** A simple sidecar: one listener → `rds-outbound.80` → split over `clusters` (`name=weight`). */
export function simpleProxy(nodeId: string, clusters: Record<string, number>, endpoints: Record<string, string[]> = {}): ProxyConfig {
  const names = Object.keys(clusters);
  return proxy(nodeId, {
    listeners: [listener('outbound-listener', 'rds-outbound.80')],
    routes: [
      routeConfig('rds-outbound.80', [
        { name: 'outbound_virtual-host|svc.ns.svc.cluster.local', domains: ['svc.ns.svc.cluster.local:80'], routes: [splitRoute(...names.map((n) => `${n}=${clusters[n]}`))] },
      ]),
    ],
    clusters: names.map((n) => cluster(n)),
    endpoints: names.map((n) => cla(n, endpoints[n] ?? [])),
  });
}

export interface TestServer {
  readonly handle: ServerHandle;
  readonly target: string;
  readonly logger: MemoryLogger;
  /** Replaces what the fake compiler returns and recompiles (the first batch of pushes is written when it returns). */
  publish(configs: ProxyConfig[], diagnostics?: Diagnostic[]): void;
  /** Responses the server has written, on every stream: a count that changes exactly when one is sent. */
  responses(): Promise<number>;
  /**
   * Resolves once the server has handled every request sent on `s` before it: a request with a
   * nonce the server never sent, for `typeUrl`, which it answers with nothing but a 'stale nonce'
   * log line (requests of a stream are handled in order).
   */
  handled(s: { send(req: { typeUrl: string; responseNonce: string }): void }, typeUrl: string): Promise<void>;
  /**
   * Once the server has handled every request sent on `s` (see `handled`), whether it has sent
   * exactly the responses this server's clients have taken: the positive form of "nothing more
   * arrived".
   */
  quiet(s: { send(req: { typeUrl: string; responseNonce: string }): void }, typeUrl: string): Promise<boolean>;
  client(): RawAdsClient;
  close(): Promise<void>;
}

export async function testServer(configs: ProxyConfig[], options: Partial<ServeOptions> = {}): Promise<TestServer> {
  let current: { proxies: ProxyConfig[]; diagnostics: Diagnostic[] } = { proxies: configs, diagnostics: [] };
  const logger = memoryLogger('debug');
  const handle = await startServer({
    paths: [],
    port: 0,
    adminPort: 0,
    logger,
    processMetrics: false,
    compiler: () => current,
    ...options,
  });
  const clients: RawAdsClient[] = [];
  let probes = 0;
  const responses = async (): Promise<number> => (await handle.metrics.responses.get()).values.reduce((n, v) => n + v.value, 0);
  const handled = async (s: { send(req: { typeUrl: string; responseNonce: string }): void }, typeUrl: string): Promise<void> => {
    const nonce = `probe-${++probes}`;
    const from = logger.records.length;
    s.send({ typeUrl, responseNonce: nonce });
    await logger.waitFor((r) => r.msg === 'stale nonce' && r.nonce === nonce, from);
  };
  return {
    handle,
    target: `127.0.0.1:${handle.port}`,
    logger,
    publish(proxies, diagnostics = []) {
      current = { proxies, diagnostics };
      handle.recompile();
    },
    responses,
    handled,
    async quiet(s, typeUrl) {
      await handled(s, typeUrl);
      return (await responses()) === clients.reduce((n, c) => n + c.received, 0);
    },
    client() {
      const c = new RawAdsClient(`127.0.0.1:${handle.port}`);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await handle.close();
    },
  };
}
