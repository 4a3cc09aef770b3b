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
 * - Removals are the "break" of make-before-break: a cluster (and its endpoints) that left the
 *   snapshot stays in the proxy's state until the proxy has accepted listeners and routes that
 *   no longer point at it (wildcard), or for as long as the proxy still asks for it by name.
 * - A NACK is recorded and counted, and the rejected state is *not* sent again: "changed" is
 *   judged against what was sent, never against the version the proxy reports having. That is
 *   the difference from go-control-plane's resend loop (its issue #962).
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { diagnostic, formatDiagnostic } from '../diagnostics/diagnostic.ts';
import type { NodeMessage, StatusMessage } from './ads-service.ts';
import {
  clip,
  declaredVersionBytes,
  MAX_CONNECTION_HELD_BYTES,
  MAX_NAMES_PER_TYPE,
  MAX_NODE_ID_LENGTH,
  MAX_RESOURCE_NAME_LENGTH,
  MAX_STREAM_HELD_BYTES,
  stringBytes,
  subscriptionBytes,
  type ConnectionHeld,
  type ConnectionLedger,
  type HeldBytes,
} from './limits.ts';
import type { Logger } from '../shared/logger.ts';
import type { Protocol, XdsMetrics } from './metrics.ts';
import type { SecretSource } from './secrets.ts';
import { isSharedSetMap, retainedSet, type ResourceSet } from './resource-set.ts';
import { memoize } from './snapshot.ts';
import type { EncodedResource, ProxySnapshot, Snapshot } from './snapshot-types.ts';
import type { ResourceInterner } from './interner.ts';
import { CDS, EDS, PUSH_ORDER, RDS, refusedType, ROUTING_TYPES, shortType } from './type-urls.ts';
import { flavourOfNode, looksProxyless, viewFor, type Flavour, type View } from './views.ts';

/** What a stream needs from the server it runs in. */
export interface StreamHost {
  current(): Snapshot | undefined;
  readonly interner: ResourceInterner;
  readonly logger: Logger;
  readonly metrics: XdsMetrics;
  /** `control_plane.identifier` of every response. */
  readonly controlPlane: string;
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
  /** With a CA: fills in SDS secrets and the proxyless TLS settings (secrets.ts). */
  readonly secrets?: SecretSource;
  /** What each connection's streams hold (limits.ts); without it only the per-stream bound applies. */
  readonly connections?: ConnectionLedger;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStream = AdsStream<any, any>;

/**
 * What a stream records as sent, by name: the resource itself (its `version` is its content
 * hash), or, for a delta client's `initial_resource_versions`, only the version it declared
 * holding. A SotW stream sent a proxy's whole set records that set's own map: no entry objects.
 */
export type SentEntry = EncodedResource | DeclaredVersion;

export interface DeclaredVersion {
  readonly version: string;
}

/** The resource behind an entry; undefined for versions a client declared but was never sent by us. */
export const sentResource = (entry: SentEntry): EncodedResource | undefined => ('any' in entry ? entry : undefined);

/**
 * The type URL constants by value: a decoded request carries a fresh copy of its type URL, and a
 * stream keeping that copy as its map key and in its TypeState held five ≈ 70-byte strings of its
 * own (3.4 MiB at 10,000 streams).
 */
const TYPE_URLS = new Map(PUSH_ORDER.map((t) => [t, t]));

/** Shared by every TypeState that has none (never modified: the setters below allocate their own). */
const NO_NAMES: ReadonlySet<string> = new Set();
const NOTHING_SENT: ReadonlyMap<string, SentEntry> = new Map();

const SUBSCRIBED = 1;
const WILDCARD = 2;
const LEGACY_WILDCARD = 4;
const IN_FLIGHT = 8;
const NACKED = 16;

/** What few streams ever need: NACK bookkeeping and a delta stream's absent names. */
interface RareTypeState {
  nacks: number;
  lastError: string;
  absent?: Set<string>;
}

/**
 * Per-type state of one stream: five per Envoy, 50,000 at 10,000 streams, so kept small. Its
 * collections are allocated on first write (a wildcard SotW stream, Envoy, never has names of
 * its own and holds its proxy's shared `sent` maps: empty Maps and Sets were ≈ 2.5 KiB a
 * stream), its five flags share one field, and what only NACKs and delta's absent names need
 * lives in a side object made when first needed (one state was 145 bytes, now 97).
 */
export class TypeState {
  private flags = 0;
  private ownNames: Set<string> | undefined;
  /**
   * What the client was sent, by name (SotW: the last response; delta: the running state). A SotW
   * stream sent a proxy's whole set holds that set's `resources` map: shared, never modified.
   */
  sent: ReadonlyMap<string, SentEntry> = NOTHING_SENT;
  /** SotW `version_info` / delta `system_version_info` of the last response. */
  sentVersion = '';
  /**
   * Nonce of the last response, as the stream's count of responses (0: none yet; the text is
   * `AdsStream.nonceText`): a request answering any other nonce is stale. A number, not the text:
   * five strings a stream were ≈ 0.4 KiB.
   */
  nonce = 0;
  ackedVersion = '';
  acks = 0;
  private rare: RareTypeState | undefined;
  constructor(readonly typeUrl: string) {}

  private flag(bit: number): boolean {
    return (this.flags & bit) !== 0;
  }

  private setFlag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  /** The client asked for the type at least once on this stream. */
  get subscribed(): boolean {
    return this.flag(SUBSCRIBED);
  }
  set subscribed(on: boolean) {
    this.setFlag(SUBSCRIBED, on);
  }

  get wildcard(): boolean {
    return this.flag(WILDCARD);
  }
  set wildcard(on: boolean) {
    this.setFlag(WILDCARD, on);
  }

  /** SotW legacy wildcard: the first request named nothing, so later empty lists stay wildcard. */
  get legacyWildcard(): boolean {
    return this.flag(LEGACY_WILDCARD);
  }
  set legacyWildcard(on: boolean) {
    this.setFlag(LEGACY_WILDCARD, on);
  }

  get inFlight(): boolean {
    return this.flag(IN_FLIGHT);
  }
  set inFlight(on: boolean) {
    this.setFlag(IN_FLIGHT, on);
  }

  /** The last response was rejected: the proxy still runs on an older state of this type. */
  get nacked(): boolean {
    return this.flag(NACKED);
  }
  set nacked(on: boolean) {
    this.setFlag(NACKED, on);
  }

  get nacks(): number {
    return this.rare?.nacks ?? 0;
  }
  set nacks(n: number) {
    this.rareState().nacks = n;
  }

  get lastError(): string {
    return this.rare?.lastError ?? '';
  }

  /** The message of the last NACK (already cut to MAX_ECHOED_CHARS), in place of the one before. */
  recordError(message: string, held: HeldBytes): void {
    const previous = this.lastError;
    if (previous) held.release(stringBytes(previous));
    held.hold(stringBytes(message));
    this.rareState().lastError = message;
  }

  private rareState(): RareTypeState {
    return (this.rare ??= { nacks: 0, lastError: '' });
  }

  /** Names the client subscribed to (wildcard aside). */
  get names(): ReadonlySet<string> {
    return this.ownNames ?? NO_NAMES;
  }

  /**
   * SotW: the request's names replace the subscription (`*` is the wildcard, not a name). Every
   * ACK repeats them: the same names keep the same set. True when the subscription changed.
   * What the set holds is counted in `held` (the old set given back, the new one taken).
   */
  setNames(names: readonly string[], account: HeldBytes): boolean {
    const held = this.ownNames;
    let count = 0;
    let same = true;
    for (const n of names) {
      if (n === '*') continue;
      count += 1;
      if (!held?.has(n)) {
        same = false;
        break;
      }
    }
    if (same && count === (held?.size ?? 0)) return false;
    this.ownNames = undefined;
    for (const n of names) if (n !== '*') (this.ownNames ??= new Set()).add(n);
    account.release(namesBytes(held));
    account.hold(namesBytes(this.ownNames));
    return true;
  }

  /** Delta: one more subscribed name (its bytes held first: over the bound, nothing is kept). */
  addName(name: string, held: HeldBytes): void {
    if (this.ownNames?.has(name)) return;
    held.hold(subscriptionBytes(name));
    (this.ownNames ??= new Set()).add(name);
  }

  deleteName(name: string, held: HeldBytes): void {
    if (this.ownNames?.delete(name)) held.release(subscriptionBytes(name));
  }

  /** Delta: names the client subscribed to and was told do not exist. */
  get absent(): ReadonlySet<string> {
    return this.rare?.absent ?? NO_NAMES;
  }

  addAbsent(name: string): void {
    (this.rareState().absent ??= new Set()).add(name);
  }

  deleteAbsent(name: string): void {
    this.rare?.absent?.delete(name);
  }

  /** Delta: the running state, as a map of this stream's own (SotW replaces `sent` whole instead). */
  private ownSent(): Map<string, SentEntry> {
    if (this.sent === NOTHING_SENT) this.sent = new Map();
    return this.sent as Map<string, SentEntry>;
  }

  /**
   * Delta: the client says it holds `name` at `version` (`initial_resource_versions`). Kept, and
   * counted in `held`, until the resource is sent or the name dropped.
   */
  declare(name: string, version: string, held: HeldBytes): void {
    this.forget(name, held);
    held.hold(declaredVersionBytes(name, version));
    this.ownSent().set(name, { version });
  }

  /** Delta: `r` was sent (in place of whatever was recorded under its name). */
  recordSent(r: EncodedResource, held: HeldBytes): void {
    const sent = this.ownSent();
    const before = sent.get(r.name);
    if (before && !sentResource(before)) held.release(declaredVersionBytes(r.name, before.version));
    sent.set(r.name, r);
  }

  /** Delta: nothing is recorded as held under `name` any more. */
  forget(name: string, held: HeldBytes): void {
    if (this.sent === NOTHING_SENT) return;
    const sent = this.ownSent();
    const before = sent.get(name);
    if (!before) return;
    sent.delete(name);
    if (!sentResource(before)) held.release(declaredVersionBytes(name, before.version));
  }
}

/** What a subscription set holds (see `subscriptionBytes`). */
function namesBytes(names: ReadonlySet<string> | undefined): number {
  let bytes = 0;
  if (names) for (const n of names) bytes += subscriptionBytes(n);
  return bytes;
}

export interface Desired {
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** Subscribed names that exist neither in the snapshot nor in what the client holds. */
  readonly missing: string[];
  /** When `resources` is exactly the proxy's shared set of the type (see `View.set`). */
  readonly set?: ResourceSet;
  /** SotW: the content hash of `resources`, computed once per evaluation. */
  version?: string;
  /**
   * Make-before-break kept, or weighed keeping, resources the proxy's set no longer has: ACKs
   * of listeners and routes may change it.
   */
  readonly retaining?: boolean;
}

export class StreamClosed extends Error {
  constructor(readonly code: status, message: string, readonly reason: string) {
    super(message);
  }
}

const NODE_ID = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

let streamCounter = 0;

export abstract class AdsStream<Req extends { node?: NodeMessage | null; typeUrl: string; responseNonce: string; errorDetail?: StatusMessage | null }, Res> implements HeldBytes {
  abstract readonly protocol: Protocol;
  readonly id: string;
  nodeId: string | undefined;
  flavour: Flavour | undefined;
  /**
   * One per type URL, in PUSH_ORDER and then the others in the order they came: the order pushes
   * go in. An exact-size array, not a Map: five entries a stream, and a Map's table was ≈ 250
   * bytes of each 10,000-stream server's per-stream cost.
   */
  types: readonly TypeState[] = [];
  /** Date.now() when opened (a number: a Date a stream was ≈ 90 bytes). */
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
    streamCounter += 1;
    this.id = `s${streamCounter.toString(36)}`;
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

  protected nonceText(nonce: number): string {
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
    // to send: at 10,000 streams a change brings 50,000 ACKs, and each evaluated all five types.
    if (!subscriptionChanged && this.settledOn !== undefined && this.settledOn === this.host.current()?.version) return;
    this.evaluate();
  }

  /**
   * Applies the nonce of a request: true when it answers the response in flight, which is then
   * recorded as ACK or NACK; a nonce that is neither empty nor the latest is stale.
   */
  protected settle(req: Req, state: TypeState, versionInfo: string): 'current' | 'stale' | 'none' {
    if (!req.responseNonce) return 'none';
    if (state.nonce === 0 || req.responseNonce !== this.nonceText(state.nonce)) {
      this.host.metrics.staleRequests.inc({ protocol: this.protocol, type: shortType(state.typeUrl) });
      this.log.debug('stale nonce', { type: shortType(state.typeUrl), nonce: clip(req.responseNonce, 100), latest: state.nonce === 0 ? '' : this.nonceText(state.nonce) });
      return 'stale';
    }
    if (!state.inFlight) return 'current'; // a repeated ACK: only its subscription part matters
    state.inFlight = false;
    if (--this.inFlightTypes === 0) this.host.awaiting?.(this, false);
    if (req.errorDetail && (req.errorDetail.code !== 0 || req.errorDetail.message)) {
      state.nacked = true;
      state.nacks += 1;
      state.recordError(clip(req.errorDetail.message), this);
      this.host.metrics.nacks.inc({ protocol: this.protocol, type: shortType(state.typeUrl) });
      const d = diagnostic('proxy-nack', {
        node: this.nodeId ?? '?',
        typeUrl: state.typeUrl,
        version: state.sentVersion,
        detail: clip(req.errorDetail.message) || `code ${req.errorDetail.code}`,
      });
      this.log.warn(formatDiagnostic(d), { code: d.code, type: shortType(state.typeUrl), version: state.sentVersion, keeps: versionInfo || '(none)' });
    } else {
      state.nacked = false;
      // The version just sent, as one string shared by every stream sent it (not a copy per stream).
      state.ackedVersion = versionInfo === state.sentVersion ? state.sentVersion : versionInfo;
      state.acks += 1;
      this.host.metrics.acks.add(this.protocol, shortType(state.typeUrl));
      this.log.debug('ACK', { type: shortType(state.typeUrl), version: versionInfo });
    }
    return 'current';
  }

  /** The first request: the node must be `<namespace>/<workload>` of a workload in the snapshot. */
  private identify(node: NodeMessage | null | undefined): void {
    const id = node?.id ?? '';
    if (!id) {
      throw new StreamClosed(
        status.INVALID_ARGUMENT,
        'the first request of a stream must carry node.id = "<namespace>/<workload>"',
        'no-node',
      );
    }
    if (id.length > MAX_NODE_ID_LENGTH || !NODE_ID.test(id)) {
      throw new StreamClosed(status.INVALID_ARGUMENT, `node.id "${clip(id, 100)}" is not "<namespace>/<workload>"`, 'bad-node-id');
    }
    const snapshot = this.host.current();
    if (!snapshot) {
      throw new StreamClosed(status.UNAVAILABLE, 'no configuration has compiled yet; retry later', 'no-snapshot');
    }
    if (!snapshot.proxies.has(id)) throw new StreamClosed(status.NOT_FOUND, unknownWorkload(id, snapshot), 'unknown-workload');
    const proxy = snapshot.proxies.get(id)!;
    this.host.authorize?.(this, this.call, proxy);
    // The snapshot's string, not the request's copy: one per workload, not one per stream.
    this.nodeId = proxy.nodeId === id ? proxy.nodeId : id;
    this.flavour = flavourOfNode(node);
    this.log = this.log.child({ node: this.nodeId });
    this.host.attach(this);
    this.log.info('stream opened', { protocol: this.protocol, agent: node?.userAgentName ? clip(node.userAgentName, 100) : undefined, flavour: this.flavour });
  }

  /** A request for `<host>:<port>` listeners makes a stream of unknown agent proxyless. */
  protected noteNames(typeUrl: string, names: Iterable<string>): void {
    if (this.flavour === undefined && looksProxyless(typeUrl, names)) {
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
    return memoize(snapshot, `view|${flavour}|${proxy.nodeId}`, () => viewFor(flavour, snapshot, proxy, this.host.interner, this.host.secrets));
  }

  /** What the client should hold for a type, make-before-break retention included. */
  protected desired(state: TypeState, view: View, cache: Map<TypeState, Desired>): Desired {
    const hit = cache.get(state);
    if (hit) return hit;
    // A subscription to the proxy's whole set (Envoy's wildcard CDS and LDS, and its EDS, RDS and
    // SDS names, which are all of the proxy's) gets that set, shared by every stream of the proxy:
    // no per-stream copy or hash, unless make-before-break still holds a removed cluster in it
    // (the general path below).
    const set = view.set?.(state.typeUrl);
    if (set && coversExactly(state, set)) {
      let shared: Desired | undefined;
      if (!this.holdsOutside(state, set)) shared = { resources: set.resources, missing: [], set };
      else if (state.wildcard && state.names.size === 0 && isSharedSetMap(state.sent)) {
        // What the general path below makes of a wildcard stream that holds a shared set: the
        // set itself once routing is synced, else the set and everything held outside it.
        if (this.routingSynced(view, cache)) shared = { resources: set.resources, missing: [], set };
        else {
          const union = retainedSet(set, state.sent as ReadonlyMap<string, EncodedResource>);
          shared = { resources: union.resources, missing: [], set: union, retaining: true };
        }
      }
      if (shared) {
        cache.set(state, shared);
        return shared;
      }
    }
    const resources = new Map<string, EncodedResource>();
    const missing: string[] = [];
    if (state.wildcard) for (const r of view.all(state.typeUrl)) resources.set(r.name, r);
    for (const name of state.names) {
      if (resources.has(name)) continue;
      const r = view.get(state.typeUrl, name);
      if (r) resources.set(name, r);
      else missing.push(name);
    }
    let synced: boolean | undefined;
    if (state.typeUrl === CDS || state.typeUrl === EDS) {
      for (const [name, entry] of state.sent) {
        const sent = sentResource(entry);
        if (resources.has(name) || !sent) continue;
        const stillNamed = state.names.has(name);
        if (!stillNamed) {
          if (!state.wildcard) continue;
          synced ??= this.routingSynced(view, cache);
          if (synced) continue;
        }
        resources.set(name, sent);
        const i = stillNamed ? missing.indexOf(name) : -1;
        if (i >= 0) missing.splice(i, 1);
      }
    }
    // Whether routes are synced changes with their ACKs: a desired state that asked depends on them.
    const desired: Desired = synced === undefined ? { resources, missing } : { resources, missing, retaining: true };
    cache.set(state, desired);
    return desired;
  }

  /** A CDS or EDS state holding a sent resource that `set` no longer has (retention may apply). */
  private holdsOutside(state: TypeState, set: ResourceSet): boolean {
    if ((state.typeUrl !== CDS && state.typeUrl !== EDS) || state.sent === set.resources) return false;
    for (const [name, entry] of state.sent) if (sentResource(entry) && !set.resources.has(name)) return true;
    return false;
  }

  /** The proxy has accepted the current listeners and routes (or does not ask for them). */
  private routingSynced(view: View, cache: Map<TypeState, Desired>): boolean {
    for (const t of ROUTING_TYPES) {
      const s = this.typeState(t);
      if (!s?.subscribed) continue;
      if (s.inFlight || s.nacked) return false;
      if (this.hasChange(s, this.desired(s, view, cache))) return false;
    }
    return true;
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

/** The state asks for exactly the set: a wildcard naming nothing outside it, or every one of its names. */
function coversExactly(state: TypeState, set: ResourceSet): boolean {
  if (!state.wildcard && state.names.size !== set.resources.size) return false;
  for (const name of state.names) if (!set.resources.has(name)) return false;
  return true;
}

/** "no workload ns/x in the compiled manifests; workloads in ns: a, b, c". */
function unknownWorkload(id: string, snapshot: Snapshot): string {
  const ns = id.split('/')[0];
  const same = [...snapshot.proxies.keys()].filter((k) => k.startsWith(`${ns}/`)).sort();
  const hint = same.length > 0 ? `workloads in namespace ${ns}: ${same.slice(0, 10).join(', ')}${same.length > 10 ? ', ...' : ''}` : `no workload in namespace ${ns}`;
  return `no workload ${id} in the compiled manifests (${hint}); node.id must be "<namespace>/<workload>" of a Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod`;
}
