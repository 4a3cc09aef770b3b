/**
 * What one ADS client may cost the server. Each bound is far above what Envoy or a gRPC
 * client sends, and low enough that a broken or hostile client cannot take memory, log
 * volume or bandwidth from the proxies sharing the server. docs/limits.md lists them.
 */

/**
 * Largest DiscoveryRequest accepted (gRPC `max_receive_message_length`); bigger ones end the
 * stream with RESOURCE_EXHAUSTED before they are decoded. Requests carry names and versions:
 * an EDS subscription to 10,000 clusters is about 0.5 MB, a delta reconnect declaring 10,000
 * resource versions about 1 MB. 4 MiB is also gRPC's own default, so nothing that works
 * against another control plane fails here. Responses (snapshots) are not limited.
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * Resource names one stream may subscribe to per type. A proxy names at most what its mesh
 * has (an EDS subscription per cluster: thousands in a large mesh). Without a bound, a 4 MiB
 * request of one-letter names would be a million-entry set, and delta subscriptions add up
 * across requests.
 */
export const MAX_NAMES_PER_TYPE = 100_000;

/**
 * Longest resource name a client may subscribe to or declare holding (characters). The longest
 * name this mesh produces is a secret's, `root-cert-for-mtls-inbound:<namespace>/<serviceaccount>`:
 * 27 + 63 + 1 + 253 = 344; a proxyless listener `<svc>.<ns>.svc.cluster.local:<port>` stays under
 * 160. Written as an xdstp:// URI (`xdstp://<authority>/<type>/<name>`, gRPC federation) it grows
 * by an authority (a host name, at most 253) and a type (≈ 60): ≈ 660. 2,048 is three times that,
 * and one name can no longer be a 3.5 MB string kept for the life of the stream.
 */
export const MAX_RESOURCE_NAME_LENGTH = 2048;

/**
 * What a stream may hold on a client's behalf (subscribed names, delta's declared versions, NACK
 * messages: every collection a client can grow), in bytes as `heldBytes` below counts them. The
 * heaviest real stream is a delta reconnect declaring 10,000 resources and subscribing to as many
 * clusters: ≈ 4 MiB as counted here. 16 MiB is four times that; without it, 200 delta requests of one new
 * 3.5 MB name each held 670 MiB, and 100,000 names on each of 16 type URLs 280 MiB.
 */
export const MAX_STREAM_HELD_BYTES = 16 * 1024 * 1024;

/**
 * The same, for all streams of one HTTP/2 connection together. Envoy and grpc-js-xds open one ADS
 * stream per connection, so this only binds a client that multiplexes streams to multiply the
 * per-stream bound; it is two streams' worth.
 */
export const MAX_CONNECTION_HELD_BYTES = 32 * 1024 * 1024;

/**
 * Concurrent streams per HTTP/2 connection (`SETTINGS_MAX_CONCURRENT_STREAMS`, enforced by the
 * HTTP/2 layer: a client queues further streams, and one that ignores the setting gets
 * `REFUSED_STREAM`). Envoy and grpc-js-xds use one ADS stream per connection; 8 leaves room for a
 * client overlapping a reconnect. It also bounds what gRPC buffers of partly received requests on
 * one connection: 8 × MAX_REQUEST_BYTES.
 */
export const MAX_STREAMS_PER_CONNECTION = 8;

/**
 * The cost model of `heldBytes`, from V8's layout on 64-bit Node 20 (measured with 200,000
 * entries): a string is a 16-byte header and its characters, two bytes each in the worst case
 * (one-byte strings take half, so a client cannot hold more than counted); a Set entry is ≈ 26
 * bytes amortised and up to 40 just after the table grows; a Map entry holding a small object
 * ≈ 69, up to 80.
 */
const STRING_HEADER_BYTES = 16;
const SET_ENTRY_BYTES = 40;
const MAP_ENTRY_AND_OBJECT_BYTES = 80;

/** A string's bytes, counted as two-byte characters. */
export const stringBytes = (s: string): number => STRING_HEADER_BYTES + 2 * s.length;

/**
 * A subscribed name: the string, its entry in the subscription, and the entry a delta stream may
 * add for it to the names it was told do not exist (a subset of the subscription).
 */
export const subscriptionBytes = (name: string): number => stringBytes(name) + 2 * SET_ENTRY_BYTES;

/** A delta client's `initial_resource_versions` entry, kept until the resource is sent or dropped. */
export const declaredVersionBytes = (name: string, version: string): number => stringBytes(name) + stringBytes(version) + MAP_ENTRY_AND_OBJECT_BYTES;

/**
 * Where a stream's held bytes are counted: the stream charges itself and its connection. `hold`
 * throws (ending the stream) when either bound would be passed, before anything is kept;
 * `release` gives back exactly what an earlier `hold` of the same thing took.
 */
export interface HeldBytes {
  hold(bytes: number): void;
  release(bytes: number): void;
}

/** What the streams of one HTTP/2 connection hold together. */
export interface ConnectionHeld {
  held: number;
  /** Streams of the connection that hold something (the entry goes when the last one closes). */
  streams: number;
}

/**
 * The connections whose streams hold something, by peer address (`ip:port`: one TCP connection).
 * One per server, never module-level: two servers in one process (tests) keep their own books.
 */
export class ConnectionLedger {
  private readonly byPeer = new Map<string, ConnectionHeld & { readonly peer: string }>();

  open(peer: string): ConnectionHeld {
    let c = this.byPeer.get(peer);
    if (!c) this.byPeer.set(peer, (c = { peer, held: 0, streams: 0 }));
    c.streams += 1;
    return c;
  }

  /** A stream that opened `c` closed, giving back what it held. */
  close(c: ConnectionHeld, held: number): void {
    c.held -= held;
    if (--c.streams > 0) return;
    const entry = c as ConnectionHeld & { readonly peer: string };
    if (this.byPeer.get(entry.peer) === entry) this.byPeer.delete(entry.peer);
  }

  /** Bytes held over all connections (the `smi_xds_held_bytes` gauge). */
  total(): number {
    let sum = 0;
    for (const c of this.byPeer.values()) sum += c.held;
    return sum;
  }

  get size(): number {
    return this.byPeer.size;
  }
}

/** A node id is `<namespace>/<workload>`: Kubernetes caps those names at 63 and 253 characters. */
export const MAX_NODE_ID_LENGTH = 63 + 1 + 253;

/** Client-supplied text (node ids, NACK messages) echoed in logs and statuses is cut to this. */
export const MAX_ECHOED_CHARS = 1024;

/**
 * A stream whose gRPC write buffer is full (16 responses, grpc-js's object-mode high-water
 * mark: `call.write` returns false) gets nothing more until it drains. With one response in
 * flight per type this is only reached by a client that acknowledges without reading; what it
 * is sent after draining is the latest state, not a backlog of old snapshots.
 */

/** `text`, cut to `max` characters with a marker saying how much was cut. */
export function clip(text: string, max = MAX_ECHOED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
