/**
 * What state-of-the-world and delta ADS streams share: who the proxy is, what it subscribed
 * to, what it was sent and what it accepted, and the push loop that keeps it in step with the
 * snapshot in make-before-break order.
 *
 * The rules, and why:
 *
 * - One response in flight per type (as go-control-plane): a newer state waits for the ACK or
 *   NACK of the previous response and then goes out as one coalesced response.
 * - A type that has a change waiting behind an in-flight response blocks the types after it
 *   in PUSH_ORDER, so a listener never arrives before the cluster it routes to.
 * - Removals are the "break" of make-before-break (make-before-break.ts).
 * - A NACK is recorded and counted, and the rejected state is *not* sent again (ack-nack.ts).
 *
 * The flavours (what a sidecar or a proxyless client sees of a snapshot) come from the host
 * (flavour.ts): the core knows their interface only.
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { diagnostic, formatDiagnostic } from '../../diagnostics/diagnostic.ts';
import { settle, type ResponseAnswer, type Settlement, type SettlingStream } from './ack-nack.ts';
import type { NodeMessage } from './ads-service.ts';
import type { Flavour, Flavours, View } from './flavour.ts';
import { desiredState, routingSynced, type Desired } from './make-before-break.ts';
import {
  clip,
  MAX_CONNECTION_HELD_BYTES,
  MAX_NAMES_PER_TYPE,
  MAX_RESOURCE_NAME_LENGTH,
  MAX_STREAM_HELD_BYTES,
  type ConnectionHeld,
  type ConnectionLedger,
  type HeldBytes,
} from '../ops/limits.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Protocol, XdsMetrics } from '../ops/metrics.ts';
import { proxyOfNode } from './node-id.ts';
import { memoize } from '../snapshot/snapshot.ts';
import { StreamClosed } from './stream-closed.ts';
import type { ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import type { ResourceInterner } from '../snapshot/interner.ts';
import { TypeState } from './type-state.ts';
import { EDS, PUSH_ORDER, RDS, refusedType, shortType } from './type-urls.ts';

/** What a stream needs from the server it runs in. */
export interface StreamHost {
  current(): Snapshot | undefined;
  readonly interner: ResourceInterner;
  readonly logger: Logger;
  readonly metrics: XdsMetrics;
  /** `control_plane.identifier` of every response. */
  readonly controlPlane: string;
  /** What each flavour of client sees of a snapshot (views.ts). */
  readonly flavours: Flavours;
  /** A new stream's id, unique in the server (logs and nonces tell streams apart by it). */
  streamId(): string;
  /** Called once the stream's node is known (and valid), and when it closes. */
  attach(stream: AnyStream): void;
  detach(stream: AnyStream): void;
  /**
   * The stream now waits for an ACK (`true`: its first response in flight) or no longer does
   * (`false`: the last one answered, or the stream closed). The server paces pushes with it.
   */
  awaiting?(stream: AnyStream, waiting: boolean): void;
  /** With a CA: throws StreamClosed unless the client's certificate is the workload's identity (auth.ts). */
  authorize?(stream: AnyStream, call: unknown, proxy: ProxySnapshot): void;
  /** What each connection's streams hold (limits.ts); without it only the per-stream bound applies. */
  readonly connections?: ConnectionLedger;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStream = AdsStream<any, any>;

/**
 * The type URL constants by value: a decoded request carries a fresh copy of its type URL, and a
 * stream keeping that copy as its map key and in its TypeState would hold five ≈ 70-byte strings
 * of its own.
 */
const TYPE_URLS = new Map(PUSH_ORDER.map((t) => [t, t]));


export abstract class AdsStream<Req extends ResponseAnswer & { node?: NodeMessage | null; typeUrl: string }, Res> implements SettlingStream {
  abstract readonly protocol: Protocol;
  readonly id: string;
  nodeId: string | undefined;
  flavour: Flavour | undefined;
  /**
   * One per type URL, in PUSH_ORDER and then the others in the order they came: the order pushes
   * go in. An exact-size array, not a Map: five entries a stream, and a Map's table costs a few
   * hundred bytes of every stream.
   */
  types: readonly TypeState[] = [];
  /** Date.now() when opened (a number: a Date is an object of its own per stream). */
  readonly openedAtMs = Date.now();
  protected log: Logger;
  /** Responses sent: numbers this stream's nonces (`<stream id>-<n>`, the id keeps streams apart in logs). */
  private noncesIssued = 0;
  protected closed = false;
  /** The client is not reading: its write buffer is full, and pushes wait for 'drain'. */
  private draining = false;
  /** Types with a response in flight (see StreamHost.awaiting). */
  private inFlightTypes = 0;
  /**
   * The version of the snapshot whose evaluation left nothing waiting on an ACK: no type held
   * back behind one in flight, no make-before-break retention (which ACKs of routes release)
   * and no name still missing. Anything else that changes a desired state (a new snapshot, a
   * renewed certificate, a changed subscription) evaluates the stream anyway. A version, not
   * the snapshot: a stream a change did not concern must not keep the old one.
   */
  private settledOn: string | undefined;
  /** Bytes held on the client's behalf (limits.ts `HeldBytes`): subscriptions, declared versions, NACK messages. */
  private heldBytes = 0;
  /** This stream's connection in the server's ledger, once the stream holds anything. */
  private connection: ConnectionHeld | undefined;

  constructor(
    protected readonly host: StreamHost,
    protected readonly call: ServerDuplexStream<Req, Res>,
  ) {
    this.id = host.streamId();
    this.log = host.logger.child({ stream: this.id, peer: call.getPeer() });
    call.on('data', (req: Req) => this.safely(() => this.receive(req)));
    // One listener for the three ways a call ends: a closure is 64 bytes a stream.
    const ended = (): void => this.close(undefined);
    call.on('end', ended);
    call.on('error', ended);
    call.on('cancelled', ended);
  }

  /** A new type rebuilds `types` in push order (five times a stream at most); the sort is stable, so others keep their arrival order. */
  private addType(state: TypeState): void {
    this.types = this.types.concat(state).sort((a, b) => pushRank(a.typeUrl) - pushRank(b.typeUrl));
  }

  private typeState(typeUrl: string): TypeState | undefined {
    for (const s of this.types) if (s.typeUrl === typeUrl) return s;
    return undefined;
  }

  /** The next response's nonce, as a number (TypeState.nonce); `nonceText` spells it. */
  protected nextNonce(): number {
    return ++this.noncesIssued;
  }

  nonceText(nonce: number): string {
    return `${this.id}-${nonce.toString(36)}`;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** What the stream holds on its client's behalf, in bytes as limits.ts counts them. */
  get held(): number {
    return this.heldBytes;
  }

  /**
   * Takes `bytes` more for the client, or ends the stream with RESOURCE_EXHAUSTED (before they
   * are kept) when the stream or its connection would pass its bound. One mechanism for every
   * collection a client can grow, so none of them is a special case.
   */
  hold(bytes: number): void {
    if (this.heldBytes + bytes > MAX_STREAM_HELD_BYTES) {
      throw new StreamClosed(
        status.RESOURCE_EXHAUSTED,
        `the stream would hold more than ${MAX_STREAM_HELD_BYTES / 1048576} MiB of subscriptions and declared resource versions`,
        'stream-bytes',
      );
    }
    if (!this.connection && this.host.connections) this.connection = this.host.connections.open(this.call.getPeer());
    const c = this.connection;
    if (c && c.held + bytes > MAX_CONNECTION_HELD_BYTES) {
      throw new StreamClosed(
        status.RESOURCE_EXHAUSTED,
        `the streams of this connection would hold more than ${MAX_CONNECTION_HELD_BYTES / 1048576} MiB of subscriptions and declared resource versions`,
        'connection-bytes',
      );
    }
    this.heldBytes += bytes;
    if (c) c.held += bytes;
  }

  release(bytes: number): void {
    this.heldBytes -= bytes;
    if (this.connection) this.connection.held -= bytes;
  }

  /** Every resource name in a request (subscribed, unsubscribed, declared), for the bounds checked before it is applied. */
  protected abstract namesIn(req: Req): Iterable<string>;

  /**
   * Protocol specifics: apply one request (after node and nonce checks common to both). False
   * when it changed no subscription (an ACK, a NACK or a stale request that names the same).
   */
  protected abstract handle(req: Req, state: TypeState, firstOfType: boolean): boolean;
  /** Is there anything to send for this type? */
  protected abstract hasChange(state: TypeState, desired: Desired): boolean;
  /** Send it (and mark the state in flight). */
  protected abstract send(state: TypeState, desired: Desired, proxy: ProxySnapshot): void;

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof StreamClosed) this.fail(err);
      else {
        this.log.error('internal error on stream', { error: err instanceof Error ? err.stack : String(err) });
        this.fail(new StreamClosed(status.INTERNAL, `internal error: ${err instanceof Error ? err.message : String(err)}`, 'internal'));
      }
    }
  }

  private receive(req: Req): void {
    if (this.closed) return;
    if (!this.nodeId) this.identify(req.node);
    else if (req.node?.id && req.node.id !== this.nodeId) {
      this.log.warn('request names another node.id than the stream\'s first request; ignoring it', { got: clip(req.node.id, 100) });
    }
    if (!req.typeUrl) throw new StreamClosed(status.INVALID_ARGUMENT, 'every ADS request must carry type_url', 'no-type-url');
    let state = this.typeState(req.typeUrl);
    const firstOfType = !state;
    if (!state) {
      // Each type costs state and a response: a type URL nobody defined is refused (type-urls.ts).
      const refused = refusedType(req.typeUrl);
      if (refused) throw new StreamClosed(status.INVALID_ARGUMENT, `type_url "${clip(req.typeUrl, 100)}": ${refused}`, 'unknown-type');
      const typeUrl = TYPE_URLS.get(req.typeUrl) ?? req.typeUrl;
      state = new TypeState(typeUrl);
      this.addType(state);
    }
    for (const name of this.namesIn(req)) {
      if (name.length > MAX_RESOURCE_NAME_LENGTH) {
        throw new StreamClosed(
          status.INVALID_ARGUMENT,
          `a resource name of ${name.length} characters (at most ${MAX_RESOURCE_NAME_LENGTH}): "${clip(name, 100)}"`,
          'name-too-long',
        );
      }
    }
    const flavour = this.flavour;
    const subscriptionChanged = this.handle(req, state, firstOfType) || firstOfType || this.flavour !== flavour;
    if (state.names.size > MAX_NAMES_PER_TYPE) {
      throw new StreamClosed(status.INVALID_ARGUMENT, `more than ${MAX_NAMES_PER_TYPE} resource names subscribed for ${clip(req.typeUrl, 100)}`, 'too-many-names');
    }
    // An ACK only clears its type's in-flight mark. When the last evaluation of this same
    // snapshot held nothing back for one (see `settledOn`), evaluating again would find nothing
    // to send: a change to every proxy brings one ACK per type and stream, five per Envoy.
    if (!subscriptionChanged && this.settledOn !== undefined && this.settledOn === this.host.current()?.version) return;
    this.evaluate();
  }

  /** ACK, NACK or stale (ack-nack.ts). */
  protected settle(req: Req, state: TypeState, versionInfo: string): Settlement {
    return settle(req, state, versionInfo, this, this.host.metrics, this.log);
  }

  answered(): void {
    if (--this.inFlightTypes === 0) this.host.awaiting?.(this, false);
  }

  /** The first request: the node must be `<namespace>/<workload>` of a workload in the snapshot. */
  private identify(node: NodeMessage | null | undefined): void {
    const id = node?.id ?? '';
    const proxy = proxyOfNode(id, this.host.current());
    this.host.authorize?.(this, this.call, proxy);
    // The snapshot's string, not the request's copy: one per workload, not one per stream.
    this.nodeId = proxy.nodeId === id ? proxy.nodeId : id;
    this.flavour = this.host.flavours.ofNode(node);
    this.log = this.log.child({ node: this.nodeId });
    this.host.attach(this);
    this.log.info('stream opened', { protocol: this.protocol, agent: node?.userAgentName ? clip(node.userAgentName, 100) : undefined, flavour: this.flavour });
  }

  /** A request for `<host>:<port>` listeners makes a stream of unknown agent proxyless. */
  protected noteNames(typeUrl: string, names: Iterable<string>): void {
    if (this.flavour === undefined && this.host.flavours.looksProxyless(typeUrl, names)) {
      this.flavour = 'proxyless';
      this.log.info('stream is a proxyless gRPC client', { flavour: this.flavour });
    }
  }

  /** A new snapshot was published and may concern this stream. */
  onSnapshot(): void {
    this.safely(() => this.evaluate());
  }

  /** Sends, in PUSH_ORDER, every type whose desired state differs from what the client holds. */
  protected evaluate(): void {
    if (this.closed || !this.nodeId || this.draining) return;
    const snapshot = this.host.current();
    const proxy = snapshot?.proxies.get(this.nodeId);
    if (!snapshot || !proxy) {
      throw new StreamClosed(status.NOT_FOUND, `workload ${this.nodeId} is no longer in the compiled manifests`, 'workload-removed');
    }
    this.settledOn = undefined;
    const view = this.viewOf(snapshot, proxy);
    const cache = new Map<TypeState, Desired>();
    let blocked = false;
    for (const state of this.types) {
      if (!state.subscribed) continue;
      const desired = this.desired(state, view, cache);
      if (!this.hasChange(state, desired)) continue;
      if (state.inFlight || blocked) {
        blocked = true;
        continue;
      }
      this.send(state, desired, proxy);
      if (this.closed) return;
    }
    if (blocked) return;
    for (const desired of cache.values()) if (desired.retaining || desired.missing.length > 0) return;
    this.settledOn = snapshot.version;
  }

  /**
   * The view of a snapshot, made once per snapshot, proxy and flavour and shared by the proxy's
   * streams (every ACK evaluates a stream). Kept in the snapshot, not in the stream: a stream
   * that a change did not concern must not hold an old snapshot alive.
   */
  private viewOf(snapshot: Snapshot, proxy: ProxySnapshot): View {
    const flavour = this.flavour ?? 'sidecar';
    return memoize(snapshot, `view|${flavour}|${proxy.nodeId}`, () => this.host.flavours.view(flavour, snapshot, proxy));
  }

  /** What the client should hold for a type (make-before-break.ts), once per type and evaluation. */
  protected desired(state: TypeState, view: View, cache: Map<TypeState, Desired>): Desired {
    let desired = cache.get(state);
    if (!desired) {
      desired = desiredState(state, view, () => routingSynced((t) => this.typeState(t), (s) => this.hasChange(s, this.desired(s, view, cache))));
      cache.set(state, desired);
    }
    return desired;
  }

  /** SotW EDS and RDS requests are answered only once everything they name exists. */
  protected waitsForAll(typeUrl: string): boolean {
    return typeUrl === EDS || typeUrl === RDS;
  }

  protected write(res: Res, state: TypeState, count: number): void {
    // Every response sets its type in flight (send() is only called for a type that was not).
    if (this.inFlightTypes++ === 0) this.host.awaiting?.(this, true);
    const type = shortType(state.typeUrl);
    this.host.metrics.responses.add(this.protocol, type);
    this.host.metrics.resourcesSent.add(this.protocol, type, count);
    if (this.call.write(res)) return;
    // The client is not reading what it is sent. Stop here rather than queue snapshot after
    // snapshot in its buffer: once it drains, evaluate() sends whatever is current then.
    this.draining = true;
    this.log.warn('client is not reading its responses; holding pushes until it does', { queued: this.call.writableLength });
    this.call.once('drain', () => {
      this.draining = false;
      this.onSnapshot();
    });
  }

  /** Ends the stream with a gRPC status the client can read. */
  fail(err: StreamClosed): void {
    if (this.closed) return;
    this.host.metrics.rejectedStreams.inc({ reason: err.reason });
    const d = diagnostic('xds-stream-refused', { node: this.nodeId ?? '(no node yet)', peer: this.call.getPeer(), status: status[err.code], detail: err.message });
    this.log.warn(formatDiagnostic(d), { code: d.code, status: status[err.code], reason: err.reason, held: this.heldBytes });
    this.close(err);
  }

  /** Closes the stream: with a status (an error or, for shutdown, UNAVAILABLE) or because the client went away. */
  close(err: StreamClosed | undefined): void {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlightTypes > 0) {
      this.inFlightTypes = 0;
      this.host.awaiting?.(this, false);
    }
    if (this.connection) {
      this.host.connections?.close(this.connection, this.heldBytes);
      this.connection = undefined;
    }
    if (this.nodeId) {
      this.host.detach(this);
      this.log.info('stream closed', err ? { code: status[err.code] } : {});
    }
    if (err) {
      try {
        this.call.emit('error', Object.assign(new Error(err.message), { code: err.code, details: err.message }));
      } catch {
        // the call is already gone
      }
    }
  }
}

/** Where a type goes in `types`: its place in PUSH_ORDER, the others after all of those. */
function pushRank(typeUrl: string): number {
  const i = PUSH_ORDER.indexOf(typeUrl);
  return i < 0 ? PUSH_ORDER.length : i;
}
