/**
 * The admin HTTP port, apart from the xDS port so that probes and scrapes never compete with
 * proxies and can be firewalled differently:
 *
 * - `/healthz`: the process is alive (liveness probe);
 * - `/readyz`: a snapshot is being served and the server is not shutting down (readiness:
 *   a replica that has never compiled cleanly gets no proxies);
 * - `/metrics`: Prometheus text format;
 * - `/debug/snapshot`, `/debug/streams`, `/debug/config?node=<ns>/<workload>`: what is
 *   served, who is connected and what they acknowledged (OSM's debug server, in JSON). They
 *   hand every proxy's configuration (principals, SNI, clusters) to whoever asks, in plain
 *   HTTP: off unless `debugEndpoints` (`serve --debug-endpoints`), and then only for clients
 *   on loopback, whatever address the port binds (see `debugRefusal`).
 * - `/debug/config_dump?node=<ns>/<workload>`, behind the same switch: what a connected proxy
 *   holds, as Envoy's own admin `/config_dump` would show it (src/compiler/config-dump.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configDump, type DumpedType, type DumpKind, type DumpResources } from '../../compiler/config-dump.ts';
import type { Logger } from '../../shared/logger.ts';
import type { XdsMetrics } from './metrics.ts';
import type { Snapshot } from '../snapshot/snapshot-types.ts';
import { sentResource } from '../xds/type-state.ts';
import type { AnyStream } from '../xds/stream-core.ts';
import { kindOf, shortType } from '../xds/type-urls.ts';
import { byName } from '../../shared/compare.ts';

export interface AdminState {
  snapshot(): Snapshot | undefined;
  streams(): Iterable<AnyStream>;
  /** undefined when ready, else why not. */
  notReady(): string | undefined;
  readonly metrics: XdsMetrics;
  readonly logger: Logger;
  /** Serve `/debug/*` (else they answer 404 like any unknown path). */
  readonly debugEndpoints: boolean;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function json(res: ServerResponse, code: number, value: unknown): void {
  send(res, code, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
}

function snapshotSummary(s: Snapshot | undefined): unknown {
  if (!s) return { version: null };
  return {
    version: s.version,
    stats: s.stats,
    proxies: [...s.proxies.values()].map((p) => ({
      node: p.nodeId,
      version: p.version,
      resources: Object.fromEntries([...p.resources].map(([t, m]) => [shortType(t), m.size])),
    })),
  };
}

function streamSummary(stream: AnyStream): unknown {
  return {
    id: stream.id,
    node: stream.nodeId,
    protocol: stream.protocol,
    flavour: stream.flavour ?? 'sidecar',
    openedAt: new Date(stream.openedAtMs).toISOString(),
    types: Object.fromEntries(
      [...stream.types.values()].map((t) => [
        shortType(t.typeUrl),
        {
          wildcard: t.wildcard,
          names: t.names.size,
          sent: t.sentVersion,
          acked: t.ackedVersion,
          inFlight: t.inFlight,
          nacked: t.nacked,
          acks: t.acks,
          nacks: t.nacks,
          ...(t.lastError ? { lastError: t.lastError } : {}),
        },
      ]),
    ),
  };
}

/**
 * What `stream`'s proxy holds, per type: the resources it was sent, with the versions Envoy shows
 * for them. SotW: every resource of a type carries the version of the response the proxy last
 * accepted (Envoy keeps an unchanged resource's older version; a proxy that connected for this
 * snapshot got everything in one response). Delta: each resource its own version.
 */
function streamResources(stream: AnyStream): DumpResources {
  const out: Partial<Record<DumpKind, DumpedType>> = {};
  for (const state of stream.types) {
    const kind = kindOf(state.typeUrl);
    if (kind === undefined || kind === 'endpoints') continue;
    // A delta ACK names no version: the type's version is the last response's system_version_info.
    const version = stream.protocol === 'delta' ? state.sentVersion : state.ackedVersion;
    const sent = [...state.sent.values()].map(sentResource).filter((r) => r !== undefined);
    sent.sort(byName);
    out[kind] = { version, resources: sent.map((r) => ({ json: r.json, version: stream.protocol === 'delta' ? r.version : version })) };
  }
  return out;
}

/** Envoy's `/config_dump` of the proxy connected as `node` (its first stream), or undefined when none is. */
function proxyConfigDump(state: AdminState, node: string): unknown {
  const stream = [...state.streams()].find((s) => s.nodeId === node && (s.flavour ?? 'sidecar') === 'sidecar');
  if (!stream) return undefined;
  // The bootstrap serve compiled for the workload (what `compile` writes as bootstrap.yaml) when the
  // snapshot kept it; the proxy's node alone otherwise (snapshots assembled by the compile worker).
  const bootstrap = state.snapshot()?.configs?.get(node)?.bootstrap ?? { node: { id: node } };
  return configDump(bootstrap, streamResources(stream));
}

async function route(state: AdminState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  if (url.pathname.startsWith('/debug/')) {
    const refused = debugRefusal(state.debugEndpoints, req.socket.remoteAddress);
    if (refused) return send(res, refused.status, `${refused.message}\n`);
  }
  switch (url.pathname) {
    case '/healthz':
      return send(res, 200, 'ok\n');
    case '/readyz': {
      const why = state.notReady();
      return why ? send(res, 503, `not ready: ${why}\n`) : send(res, 200, 'ready\n');
    }
    case '/metrics':
      return send(res, 200, await state.metrics.registry.metrics(), state.metrics.registry.contentType);
    case '/debug/snapshot':
      return json(res, 200, snapshotSummary(state.snapshot()));
    case '/debug/streams':
      return json(res, 200, [...state.streams()].map(streamSummary));
    case '/debug/config': {
      const node = url.searchParams.get('node') ?? '';
      const proxy = state.snapshot()?.proxies.get(node);
      if (!proxy) return json(res, 404, { error: `no proxy ${node || '(give ?node=<namespace>/<workload>)'}` });
      return json(res, 200, {
        node,
        version: proxy.version,
        resources: Object.fromEntries([...proxy.resources].map(([t, m]) => [shortType(t), [...m.values()].map((r) => ({ version: r.version, ...r.json }))])),
      });
    }
    case '/debug/config_dump': {
      const node = url.searchParams.get('node') ?? '';
      const dump = proxyConfigDump(state, node);
      if (!dump) return json(res, 404, { error: `no connected proxy ${node || '(give ?node=<namespace>/<workload>)'}` });
      return json(res, 200, dump);
    }
    default:
      return send(res, 404, 'not found\n');
  }
}

/** 127.0.0.0/8, ::1, `localhost`, and IPv4 loopback mapped into IPv6: reachable from this host (this pod) alone. */
export function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === 'localhost' || a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * Why a `/debug/*` request from `peer` gets no answer, or undefined when it gets one. Off: 404,
 * as for any path the server does not have. On: loopback peers only, so that an admin port bound
 * to the pod's address for the kubelet's probes and Prometheus (deploy/) does not hand configs to
 * the cluster, while `kubectl port-forward` (which connects from inside the pod to localhost)
 * reaches them.
 */
export function debugRefusal(enabled: boolean, peer: string | undefined): { status: number; message: string } | undefined {
  if (!enabled) return { status: 404, message: 'not found (the /debug endpoints are off: serve --debug-endpoints)' };
  if (!isLoopback(peer ?? '')) return { status: 403, message: 'the /debug endpoints answer loopback clients only (kubectl port-forward, or curl inside the pod)' };
  return undefined;
}

export function startAdmin(state: AdminState, address: string, port: number): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    route(state, req, res).catch((err) => {
      state.logger.error('admin request failed', { path: req.url, error: String(err) });
      if (!res.headersSent) send(res, 500, 'internal error\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
