/**
 * The floor of bench/serve-fanout.ts (`--bare`): a grpc-js server with the same ADS service
 * definition and keepalive settings as `smi-compile serve`, that compiles nothing and keeps no
 * xDS state. It answers every request that is not an ACK with one small response of the type
 * asked for. What it costs per stream is what grpc-js and Node's HTTP/2 cost per stream,
 * whatever the control plane behind them.
 *
 *   node --import tsx --expose-gc bench/ads-bare-server.ts      (IPC only, like serve-child.ts)
 */
import v8 from 'node:v8';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { adsServerDefinition, encodeAny, type AnyBytes, type DiscoveryRequest, type SotwResponse } from '../src/serve/xds/ads-service.ts';

/** One 200-byte resource per type, shared by every stream, as the server shares encoded resources. */
const resourcesOf = new Map<string, AnyBytes[]>();
const resourcesFor = (typeUrl: string): AnyBytes[] => {
  let r = resourcesOf.get(typeUrl);
  if (!r && resourcesOf.size < 16) resourcesOf.set(typeUrl, (r = [{ any: encodeAny(typeUrl, new Uint8Array(200)) }]));
  return r ?? [];
};

const calls = new Set<ServerDuplexStream<DiscoveryRequest, SotwResponse>>();
/** `{ channelz: true }` (argv[2], JSON) keeps grpc-js's channelz accounting on, as it was before the server turned it off. */
const options = JSON.parse(process.argv[2] ?? '{}') as { channelz?: boolean };
const server = new Server({
  ...(options.channelz ? {} : { 'grpc.enable_channelz': 0 }),
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
});
server.addService(adsServerDefinition, {
  StreamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, SotwResponse>) => {
    calls.add(call);
    let n = 0;
    call.on('data', (req: DiscoveryRequest) => {
      if (req.responseNonce) return; // an ACK
      n += 1;
      call.write({ versionInfo: 'v1', resources: resourcesFor(req.typeUrl), typeUrl: req.typeUrl, nonce: String(n) });
    });
    const gone = (): void => void calls.delete(call);
    call.on('end', gone);
    call.on('error', gone);
    call.on('cancelled', gone);
  },
  DeltaAggregatedResources: (call: ServerDuplexStream<unknown, unknown>) => call.end(),
});

const t0 = performance.now();
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.send?.({ type: 'log', level: 'error', msg: String(err) });
    process.exit(1);
  }
  process.send?.({ type: 'ready', port, adminPort: 0, startMs: performance.now() - t0 });
});

process.on('message', (m: { id: number; cmd: string; gc?: boolean; path?: string }) => {
  if (m.cmd === 'mem') {
    const gc = Boolean(m.gc && typeof globalThis.gc === 'function');
    if (gc) globalThis.gc!();
    const u = process.memoryUsage();
    const cpu = process.cpuUsage();
    process.send?.({
      type: 'reply',
      id: m.id,
      value: { ...u, maxRss: process.resourceUsage().maxRSS * 1024, streams: calls.size, proxies: 0, cpuMicros: cpu.user + cpu.system, gc },
    });
  } else if (m.cmd === 'heap-snapshot' && m.path) {
    // What grpc-js and Node hold per stream, to hold the xDS server's snapshots against (serve-fanout --heap-snapshot).
    process.send?.({ type: 'reply', id: m.id, value: v8.writeHeapSnapshot(m.path) });
  } else if (m.cmd === 'stop') {
    server.forceShutdown();
    process.send?.({ type: 'reply', id: m.id, value: true });
    process.disconnect?.();
    setTimeout(() => process.exit(0), 50).unref();
  }
});
process.on('disconnect', () => {
  server.forceShutdown();
  process.exit(0);
});
