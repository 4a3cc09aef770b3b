/**
 * Many bare state-of-the-world ADS streams in one process, for bench/serve-fanout.ts. Each
 * stream plays an Envoy sidecar that accepts everything: its first request names the node,
 * it subscribes to CDS, EDS, LDS, RDS and SDS (wildcard: the server sends each proxy the same
 * set Envoy would get by naming its clusters, route configurations and secrets), and it ACKs
 * every response at once.
 *
 * Responses are not decoded: a lean deserializer reads version_info, type_url and nonce and
 * skips the resources, so the client processes spend little of the machine's two cores.
 *
 * Two transports (`client` in `open`): `grpc-js` (a grpc-js client per connection) and `h2`
 * (gRPC's framing written directly over Node's HTTP/2 client: the same bytes on the wire, the
 * same protocol, a fraction of grpc-js's per-message CPU). The clients share the machine's two
 * cores with the server, so the lighter they are, the more the benchmark measures the server.
 *
 *   node --import tsx bench/ads-load-client.ts      (started by the benchmark, IPC only)
 *
 * Requests from the parent (each answered with `{ type: 'reply', id, value }`):
 * - `{ cmd: 'open', target, nodes, perConnection, window, client }`: one stream per entry of `nodes`
 *   (its node.id), `perConnection` streams per HTTP/2 connection (1 = one connection per stream,
 *   as Envoy does), at most `window` streams waiting for their first full config at any time.
 *   Answers once every stream has a response for each of the five types (or failed).
 * - `{ cmd: 'expect', versions }`: `versions[node][typeUrl]` is the version_info each stream
 *   must end up having ACKed (armed before the change is made; answers at once), then
 *   `{ cmd: 'await', timeoutMs }`: answers when every stream has, or at the timeout, with
 *   per-stream completion times.
 * - `{ cmd: 'close' }`: cancels every stream and closes every connection.
 */
import { credentials, makeGenericClientConstructor, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { protobuf } from '../src/envoy/protos.ts';
import { adsClientDefinition } from '../src/serve/xds/ads-service.ts';
import { CDS, EDS, LDS, PUSH_ORDER, RDS, SDS } from '../src/serve/xds/type-urls.ts';

export const LOAD_TYPES: readonly string[] = [CDS, EDS, LDS, RDS, SDS];

/** What the lean deserializer keeps of a DiscoveryResponse. */
export interface LeanResponse {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: number;
  readonly bytes: number;
}

/** version_info (1), resources (2, counted and skipped), type_url (4), nonce (5). */
export function leanDecode(buf: Uint8Array): LeanResponse {
  const r = protobuf.Reader.create(buf);
  let versionInfo = '';
  let typeUrl = '';
  let nonce = '';
  let resources = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        versionInfo = r.string();
        break;
      case 2:
        resources += 1;
        r.skipType(tag & 7);
        break;
      case 4:
        typeUrl = r.string();
        break;
      case 5:
        nonce = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return { versionInfo, typeUrl, nonce, resources, bytes: buf.byteLength };
}

const sotw = (adsClientDefinition as unknown as Record<string, Record<string, unknown>>).StreamAggregatedResources;
const definition = { StreamAggregatedResources: { ...sotw, responseDeserialize: leanDecode } } as unknown as ServiceDefinition;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const LeanClient = makeGenericClientConstructor(definition, 'AggregatedDiscoveryService') as any;

/** What a stream needs of its transport. */
interface Call {
  write(req: Request): void;
  cancel(): void;
  on(event: 'data', fn: (r: LeanResponse) => void): void;
  on(event: 'error', fn: (e: ServiceError) => void): void;
  on(event: 'end', fn: () => void): void;
}

type Transport = 'grpc-js' | 'h2';

const serializeRequest = (sotw as { requestSerialize: (r: Request) => Buffer }).requestSerialize;
const SOTW_PATH = (sotw as { path: string }).path;
const GRPC_JS_USER_AGENT = `grpc-node-js/${(createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string }).version}`;

/**
 * One gRPC call over a Node HTTP/2 session: length-prefixed messages (a 0 compression flag and a
 * 4-byte big-endian length) both ways, the status in the trailers.
 */
class H2Call implements Call {
  private readonly stream: http2.ClientHttp2Stream;
  private pending: Buffer = Buffer.alloc(0);
  private readonly handlers: { data?: (r: LeanResponse) => void; error?: (e: ServiceError) => void; end?: () => void } = {};
  private ended = false;

  constructor(session: http2.ClientHttp2Session) {
    // The headers a grpc-js client sends (Envoy's gRPC clients send as many): the server keeps
    // what it decodes of them per connection (HPACK), so fewer would flatter its memory.
    this.stream = session.request({
      ':method': 'POST',
      ':path': SOTW_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': GRPC_JS_USER_AGENT,
      'grpc-accept-encoding': 'identity,deflate,gzip',
      'accept-encoding': 'identity',
    });
    this.stream.on('data', (chunk: Buffer) => this.read(chunk));
    this.stream.on('trailers', (trailers) => {
      const code = Number(trailers['grpc-status'] ?? 0);
      if (code !== 0) this.finish({ code, details: String(trailers['grpc-message'] ?? '') } as ServiceError);
    });
    this.stream.on('error', (err) => this.finish({ code: 14, details: err.message } as ServiceError));
    this.stream.on('close', () => this.finish());
  }

  on(event: 'data' | 'error' | 'end', fn: never): void {
    this.handlers[event] = fn;
  }

  write(req: Request): void {
    const message = serializeRequest(req);
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    this.stream.write(frame);
  }

  cancel(): void {
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  private read(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 5) {
      const length = buf.readUInt32BE(1);
      if (buf.length < 5 + length) break;
      this.handlers.data?.(leanDecode(buf.subarray(5, 5 + length)));
      buf = buf.subarray(5 + length);
    }
    this.pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }

  private finish(error?: ServiceError): void {
    if (this.ended) return;
    this.ended = true;
    if (error) this.handlers.error?.(error);
    else this.handlers.end?.();
  }
}

interface Request {
  node?: { id: string; userAgentName: string };
  typeUrl: string;
  versionInfo?: string;
  responseNonce?: string;
  resourceNames: string[];
}

const now = (): number => performance.timeOrigin + performance.now();

class LoadStream {
  readonly versions = new Map<string, string>();
  ready = false;
  readyAt = 0;
  failed: string | undefined;
  responses = 0;
  bytes = 0;
  /** Since the last `expect`. */
  pushes = 0;
  doneAt = 0;
  call: Call | undefined;
  constructor(readonly node: string) {}
}

const streams: LoadStream[] = [];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const clients: any[] = [];
let expected: Record<string, Record<string, string>> | undefined;
let onProgress: (() => void) | undefined;
/** Streams opened and not yet ready (nor failed). */
let opening = 0;
/** Live streams not yet done with the current expectation. */
let remaining = 0;

function isDone(s: LoadStream): boolean {
  const want = expected?.[s.node];
  if (!want) return false;
  for (const t of LOAD_TYPES) if (s.versions.get(t) !== want[t]) return false;
  return true;
}

function open(s: LoadStream, connection: unknown, transport: Transport): void {
  const call: Call =
    transport === 'h2'
      ? new H2Call(connection as http2.ClientHttp2Session)
      : // eslint-disable-next-line @typescript-eslint/no-explicit-any
        ((connection as any).StreamAggregatedResources() as Call);
  s.call = call;
  call.on('data', (r: LeanResponse) => {
    s.responses += 1;
    s.bytes += r.bytes;
    s.versions.set(r.typeUrl, r.versionInfo);
    call.write({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames: [] });
    if (!s.ready && LOAD_TYPES.every((t) => s.versions.has(t))) {
      s.ready = true;
      s.readyAt = now();
      opening -= 1;
      onProgress?.();
    }
    if (expected) {
      s.pushes += 1;
      if (!s.doneAt && isDone(s)) {
        s.doneAt = now();
        remaining -= 1;
        onProgress?.();
      }
    }
  });
  const end = (e?: ServiceError): void => {
    if (s.failed !== undefined) return;
    s.failed = e ? `${e.code} ${e.details}` : 'ended';
    if (!s.ready) opening -= 1;
    if (expected && !s.doneAt) remaining -= 1;
    onProgress?.();
  };
  call.on('error', end);
  call.on('end', () => end());
  // Envoy's order: the node on the first request only; every type a legacy wildcard (no names).
  PUSH_ORDER.forEach((typeUrl, i) =>
    call.write({ ...(i === 0 ? { node: { id: s.node, userAgentName: 'envoy' } } : {}), typeUrl, resourceNames: [] }),
  );
}

function quantiles(xs: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s.length ? s[s.length - 1] : NaN };
}

/** A connection of its own for each, as separate Envoys would have. */
function connect(target: string, transport: Transport): unknown {
  if (transport === 'h2') {
    const session = http2.connect(`http://${target}`, { maxSessionMemory: 64 });
    session.on('error', () => undefined); // each stream on it reports its own end
    return session;
  }
  return new LeanClient(target, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
}

async function openAll(m: { target: string; nodes: string[]; perConnection: number; window: number; client?: Transport }): Promise<unknown> {
  const transport = m.client ?? 'grpc-js';
  const t0 = now();
  for (const node of m.nodes) streams.push(new LoadStream(node));
  let next = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (next < streams.length && opening < m.window) {
        const c = Math.floor(next / m.perConnection);
        clients[c] ??= connect(m.target, transport);
        opening += 1;
        open(streams[next], clients[c], transport);
        next += 1;
      }
      if (next >= streams.length && opening === 0) resolve();
    };
    onProgress = pump;
    pump();
  });
  onProgress = undefined;
  const ready = streams.filter((s) => s.ready);
  const failed = streams.filter((s) => s.failed !== undefined);
  return {
    startedAt: t0,
    allReadyAt: Math.max(...ready.map((s) => s.readyAt), t0),
    ready: ready.length,
    failed: failed.length,
    failures: [...new Set(failed.map((s) => s.failed))].slice(0, 5),
    connections: clients.length,
    responses: streams.reduce((n, s) => n + s.responses, 0),
    bytes: streams.reduce((n, s) => n + s.bytes, 0),
    readyMs: quantiles(ready.map((s) => s.readyAt - t0)),
  };
}

let expectedAt = 0;
/** process.cpuUsage() when the expectation was armed. */
let cpuAtExpect = 0;
const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const live = (): LoadStream[] => streams.filter((s) => s.failed === undefined);

/** Arms an expectation (before the change is made); `awaitExpected` collects it. */
function expect(m: { versions: Record<string, Record<string, string>> }): { remaining: number } {
  const t0 = now();
  expectedAt = t0;
  cpuAtExpect = cpuMicros();
  expected = m.versions;
  for (const s of streams) {
    s.pushes = 0;
    s.doneAt = 0;
  }
  // Streams that already hold the expected state (nothing changes for them) are done at once.
  remaining = 0;
  for (const s of live()) {
    if (isDone(s)) s.doneAt = t0;
    else remaining += 1;
  }
  return { remaining };
}

async function awaitExpected(m: { timeoutMs: number }): Promise<unknown> {
  const t0 = expectedAt;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, m.timeoutMs);
    const check = (): void => {
      if (remaining <= 0) {
        clearTimeout(timer);
        resolve();
      }
    };
    onProgress = check;
    check();
  });
  onProgress = undefined;
  const all = live();
  const done = all.filter((s) => s.doneAt > 0);
  const result = {
    expectedAt: t0,
    streams: all.length,
    done: done.length,
    lastDoneAt: Math.max(0, ...done.map((s) => s.doneAt)),
    doneAt: done.map((s) => s.doneAt),
    pushed: all.filter((s) => s.pushes > 0).length,
    /** CPU this client process used from arming the expectation to the last stream done (µs). */
    cpuMicros: cpuMicros() - cpuAtExpect,
    responses: all.reduce((n, s) => n + s.pushes, 0),
    failed: streams.length - all.length,
    notDone: all.filter((s) => !s.doneAt).slice(0, 3).map((s) => ({ node: s.node, have: Object.fromEntries(s.versions), want: expected?.[s.node] })),
  };
  expected = undefined;
  return result;
}

function closeAll(): void {
  for (const s of streams) s.call?.cancel();
  for (const c of clients) c?.close();
}

process.on('message', (m: { id: number; cmd: string } & Record<string, unknown>) => {
  void (async () => {
    let value: unknown;
    try {
      if (m.cmd === 'open') value = await openAll(m as never);
      else if (m.cmd === 'expect') value = expect(m as never);
      else if (m.cmd === 'await') value = await awaitExpected(m as never);
      else if (m.cmd === 'close') {
        closeAll();
        value = true;
      }
      process.send?.({ type: 'reply', id: m.id, value });
    } catch (err) {
      process.send?.({ type: 'reply', id: m.id, error: err instanceof Error ? err.stack : String(err) });
    }
    if (m.cmd === 'close') {
      process.disconnect?.();
      setTimeout(() => process.exit(0), 100).unref();
    }
  })();
});
process.on('disconnect', () => {
  closeAll();
  setTimeout(() => process.exit(0), 100).unref();
});
