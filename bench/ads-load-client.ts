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
 *
 * `protocol: 'delta'` in `open` (h2 only, with `versions` as in `expect`: a stream is ready when it
 * holds them, since a server sends nothing for a type it has none of) speaks incremental xDS: wildcard subscriptions,
 * each stream keeping the name and version of every resource it holds; its version_info per type
 * is then `setVersion` of that (what a state-of-the-world stream of the same proxy ACKs), so
 * `expect` works the same. `reconnect: true` plays Envoy when its server goes away: a stream that
 * ends opens a new connection and stream after a jittered delay (uniform in [0, `reconnectMs`),
 * Envoy's first retry), telling what it holds: SotW the version_info it last ACKed per type, delta
 * `initial_resource_versions`. `{ cmd: 'mark' }` starts counting what arrives from then on, and
 * `{ cmd: 'report' }` answers with it: streams cut and reopened, bytes and responses received,
 * and how much of it the stream already held (SotW: responses whose version_info equals the one
 * it held; delta: resources whose version it held).
 */
import { credentials, makeGenericClientConstructor, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { protobuf } from '../src/envoy/protos.ts';
import { setVersion } from '../src/emit/versions.ts';
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

/** What the lean delta deserializer keeps of a DeltaDiscoveryResponse: each resource's name, version and size. */
export interface LeanDeltaResponse {
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: { name: string; version: string; bytes: number }[];
  readonly removed: string[];
  readonly bytes: number;
}

/** resources (2: Resource { version 1, name 3 }), type_url (4), nonce (5), removed_resources (6). */
export function leanDecodeDelta(buf: Uint8Array): LeanDeltaResponse {
  const r = protobuf.Reader.create(buf);
  let typeUrl = '';
  let nonce = '';
  const resources: LeanDeltaResponse['resources'] = [];
  const removed: string[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 2: {
        const len = r.uint32();
        const end = r.pos + len;
        let name = '';
        let version = '';
        while (r.pos < end) {
          const t = r.uint32();
          if (t >>> 3 === 1) version = r.string();
          else if (t >>> 3 === 3) name = r.string();
          else r.skipType(t & 7);
        }
        resources.push({ name, version, bytes: len });
        break;
      }
      case 4:
        typeUrl = r.string();
        break;
      case 5:
        nonce = r.string();
        break;
      case 6:
        removed.push(r.string());
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return { typeUrl, nonce, resources, removed, bytes: buf.byteLength };
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
const delta = (adsClientDefinition as unknown as Record<string, Record<string, unknown>>).DeltaAggregatedResources;
const serializeDelta = (delta as { requestSerialize: (r: DeltaRequest) => Buffer }).requestSerialize;
const DELTA_PATH = (delta as { path: string }).path;

/** How each protocol's calls are spelled over HTTP/2. */
interface Wire<Req, Res> {
  readonly path: string;
  serialize(req: Req): Buffer;
  decode(buf: Uint8Array): Res;
}
const SOTW_WIRE: Wire<Request, LeanResponse> = { path: SOTW_PATH, serialize: serializeRequest, decode: leanDecode };
const DELTA_WIRE: Wire<DeltaRequest, LeanDeltaResponse> = { path: DELTA_PATH, serialize: serializeDelta, decode: leanDecodeDelta };
const GRPC_JS_USER_AGENT = `grpc-node-js/${(createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string }).version}`;

/**
 * One gRPC call over a Node HTTP/2 session: length-prefixed messages (a 0 compression flag and a
 * 4-byte big-endian length) both ways, the status in the trailers.
 */
class H2Call<Req = Request, Res = LeanResponse> {
  private readonly stream: http2.ClientHttp2Stream;
  private pending: Buffer = Buffer.alloc(0);
  private readonly handlers: { data?: (r: Res) => void; error?: (e: ServiceError) => void; end?: () => void } = {};
  private ended = false;

  constructor(session: http2.ClientHttp2Session, private readonly wire: Wire<Req, Res> = SOTW_WIRE as never) {
    // The headers a grpc-js client sends (Envoy's gRPC clients send as many): the server keeps
    // what it decodes of them per connection (HPACK), so fewer would flatter its memory.
    this.stream = session.request({
      ':method': 'POST',
      ':path': wire.path,
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

  on(event: 'data', fn: (r: Res) => void): void;
  on(event: 'error', fn: (e: ServiceError) => void): void;
  on(event: 'end', fn: () => void): void;
  on(event: 'data' | 'error' | 'end', fn: never): void {
    this.handlers[event] = fn;
  }

  write(req: Req): void {
    const message = this.wire.serialize(req);
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
      this.handlers.data?.(this.wire.decode(buf.subarray(5, 5 + length)));
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

interface DeltaRequest {
  node?: { id: string; userAgentName: string };
  typeUrl: string;
  resourceNamesSubscribe?: string[];
  initialResourceVersions?: Record<string, string>;
  responseNonce?: string;
}

type Protocol = 'sotw' | 'delta';

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
  /** Delta: type URL → resource name → version, what the stream holds. */
  readonly held = new Map<string, Map<string, string>>();
  /** Reconnecting: times the stream was cut, and reopened. */
  cuts = 0;
  reopened = 0;
  /** Types answered on the current call (SotW: all five again after a reconnect). */
  answered = new Set<string>();
  /** When the current call, if a reopened one, had all five types answered (SotW). */
  reanswerAt = 0;
  session: http2.ClientHttp2Session | undefined;
  constructor(readonly node: string) {}
}

/** What arrived since `mark` (all streams of this process). */
const since = { at: 0, bytes: 0, responses: 0, resentResponses: 0, resentResources: 0, resentBytes: 0, resources: 0, lastAt: 0 };
let protocol: Protocol = 'sotw';
let reconnect = false;
let reconnectMs = 500;
let closing = false;
let target = '';

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
  // Delta: a type of which the stream was never sent anything holds the empty set.
  for (const t of LOAD_TYPES) if ((s.versions.get(t) ?? (protocol === 'delta' ? EMPTY_SET : undefined)) !== want[t]) return false;
  return true;
}

/** A response's effect on what the stream holds; counts what it already held (since `mark`). */
function receive(s: LoadStream, typeUrl: string, bytes: number, apply: () => boolean): void {
  s.responses += 1;
  s.bytes += bytes;
  const resent = apply();
  if (since.at) {
    since.bytes += bytes;
    since.responses += 1;
    since.lastAt = now();
    if (resent) since.resentResponses += 1;
  }
  s.answered.add(typeUrl);
  if (s.reopened > 0 && !s.reanswerAt && s.answered.size === LOAD_TYPES.length) s.reanswerAt = now();
}

function openDelta(s: LoadStream, session: http2.ClientHttp2Session): Call {
  const call = new H2Call<DeltaRequest, LeanDeltaResponse>(session, DELTA_WIRE);
  call.on('data', (r: LeanDeltaResponse) => {
    let held = s.held.get(r.typeUrl);
    if (!held) s.held.set(r.typeUrl, (held = new Map()));
    receive(s, r.typeUrl, r.bytes, () => {
      let resent = 0;
      for (const x of r.resources) {
        if (held.get(x.name) === x.version) {
          resent += 1;
          if (since.at) since.resentBytes += x.bytes;
        }
        held.set(x.name, x.version);
      }
      for (const name of r.removed) held.delete(name);
      if (since.at) {
        since.resources += r.resources.length;
        since.resentResources += resent;
      }
      return resent > 0;
    });
    s.versions.set(r.typeUrl, setVersion([...held].map(([name, version]) => ({ name, version }))));
    call.write({ typeUrl: r.typeUrl, responseNonce: r.nonce });
    afterResponse(s);
  });
  return call as unknown as Call;
}

/** Delta: the versions each stream is ready with (a server sends nothing for a type it has none of). */
let readyWith: Record<string, Record<string, string>> | undefined;
const EMPTY_SET = setVersion([]);

function afterResponse(s: LoadStream): void {
  const want = readyWith?.[s.node];
  if (!s.ready && (want ? LOAD_TYPES.every((t) => (s.versions.get(t) ?? EMPTY_SET) === want[t]) : LOAD_TYPES.every((t) => s.versions.has(t)))) {
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
}

function open(s: LoadStream, connection: unknown, transport: Transport): void {
  s.answered = new Set();
  if (protocol === 'delta') {
    const call = openDelta(s, connection as http2.ClientHttp2Session);
    s.call = call;
    onEnd(s, call, transport);
    PUSH_ORDER.forEach((typeUrl, i) => {
      const held = s.held.get(typeUrl);
      (call as unknown as H2Call<DeltaRequest, LeanDeltaResponse>).write({
        ...(i === 0 ? { node: { id: s.node, userAgentName: 'envoy' } } : {}),
        typeUrl,
        ...(held?.size ? { initialResourceVersions: Object.fromEntries(held) } : {}),
      });
    });
    return;
  }
  const call: Call =
    transport === 'h2'
      ? new H2Call(connection as http2.ClientHttp2Session)
      : // eslint-disable-next-line @typescript-eslint/no-explicit-any
        ((connection as any).StreamAggregatedResources() as Call);
  s.call = call;
  call.on('data', (r: LeanResponse) => {
    receive(s, r.typeUrl, r.bytes, () => {
      const resent = s.versions.get(r.typeUrl) === r.versionInfo;
      if (since.at) {
        since.resources += r.resources;
        if (resent) {
          since.resentResources += r.resources;
          since.resentBytes += r.bytes;
        }
      }
      return resent;
    });
    s.versions.set(r.typeUrl, r.versionInfo);
    call.write({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames: [] });
    afterResponse(s);
  });
  onEnd(s, call, transport);
  // Envoy's order: the node on the first request only; every type a legacy wildcard (no names),
  // with the version_info it last accepted when it has one (a reconnect).
  PUSH_ORDER.forEach((typeUrl, i) =>
    call.write({ ...(i === 0 ? { node: { id: s.node, userAgentName: 'envoy' } } : {}), typeUrl, ...(s.versions.has(typeUrl) ? { versionInfo: s.versions.get(typeUrl) } : {}), resourceNames: [] }),
  );
}

/** The stream ended: fails it, or (`reconnect`) opens a new connection and stream after a jittered delay. */
function onEnd(s: LoadStream, call: Call, transport: Transport): void {
  const end = (e?: ServiceError): void => {
    if (s.call !== call) return; // an older call of a reopened stream
    // A stream cut after it had its config reconnects; one that fails while opening is a failure
    // (retrying those looped without end under heavy load: not understood yet, see bench/README.md).
    if (reconnect && !closing && s.ready) {
      s.call = undefined;
      s.cuts += 1;
      s.session?.close();
      setTimeout(() => {
        if (closing) return;
        s.session = connect(target, transport) as http2.ClientHttp2Session;
        s.reopened += 1;
        s.reanswerAt = 0;
        open(s, s.session, transport);
      }, Math.random() * reconnectMs);
      return;
    }
    if (s.failed !== undefined) return;
    s.failed = e ? `${e.code} ${e.details}` : 'ended';
    if (!s.ready) opening -= 1;
    if (expected && !s.doneAt) remaining -= 1;
    onProgress?.();
  };
  call.on('error', end);
  call.on('end', () => end());
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

async function openAll(m: { target: string; nodes: string[]; perConnection: number; window: number; client?: Transport; protocol?: Protocol; reconnect?: boolean; reconnectMs?: number; versions?: Record<string, Record<string, string>> }): Promise<unknown> {
  const transport = m.client ?? 'grpc-js';
  protocol = m.protocol ?? 'sotw';
  if (protocol === 'delta' && transport !== 'h2') throw new Error('delta streams are spoken over the h2 transport only');
  if (protocol === 'delta' && !m.versions) throw new Error('delta streams need `versions` to know when they are ready');
  readyWith = protocol === 'delta' ? m.versions : undefined;
  reconnect = Boolean(m.reconnect);
  if (reconnect && m.perConnection !== 1) throw new Error('reconnect: one stream per connection only');
  reconnectMs = m.reconnectMs ?? 500;
  target = m.target;
  const t0 = now();
  for (const node of m.nodes) streams.push(new LoadStream(node));
  let next = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (next < streams.length && opening < m.window) {
        const c = Math.floor(next / m.perConnection);
        clients[c] ??= connect(m.target, transport);
        if (transport === 'h2' && m.perConnection === 1) streams[next].session = clients[c] as http2.ClientHttp2Session;
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
  closing = true;
  for (const s of streams) s.call?.cancel();
  for (const c of clients) c?.close();
  for (const s of streams) s.session?.close();
}

/** Starts counting what arrives (and the streams cut and reopened) from now on. */
function mark(): boolean {
  Object.assign(since, { at: now(), bytes: 0, responses: 0, resentResponses: 0, resentResources: 0, resentBytes: 0, resources: 0, lastAt: 0 });
  for (const s of streams) {
    s.cuts = 0;
    s.reopened = 0;
    s.reanswerAt = 0;
  }
  return true;
}

function report(): unknown {
  const cut = streams.filter((s) => s.cuts > 0);
  return {
    ...since,
    streams: streams.length,
    cut: cut.length,
    cuts: cut.reduce((n, s) => n + s.cuts, 0),
    reopened: cut.filter((s) => s.call !== undefined).length,
    /** SotW: reopened streams that have had all five types answered again, and when the last did. */
    reanswered: cut.filter((s) => s.reanswerAt > 0).length,
    lastReanswerAt: Math.max(0, ...cut.map((s) => s.reanswerAt)),
    failed: streams.filter((s) => s.failed !== undefined).length,
  };
}

process.on('message', (m: { id: number; cmd: string } & Record<string, unknown>) => {
  void (async () => {
    let value: unknown;
    try {
      if (m.cmd === 'open') value = await openAll(m as never);
      else if (m.cmd === 'expect') value = expect(m as never);
      else if (m.cmd === 'await') value = await awaitExpected(m as never);
      else if (m.cmd === 'mark') value = mark();
      else if (m.cmd === 'report') value = report();
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
