/**
 * What one stream holds per type URL: its subscription, what it was sent and what the client
 * accepted (TypeState), kept small because a server holds five per Envoy.
 */
import { declaredVersionBytes, stringBytes, subscriptionBytes, type HeldBytes } from '../ops/limits.ts';
import type { EncodedResource } from '../snapshot/snapshot-types.ts';

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
 * its own and holds its proxy's shared `sent` maps: empty Maps and Sets would cost kilobytes a
 * stream), its five flags share one field, and what only NACKs and delta's absent names need
 * lives in a side object made when first needed.
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
   * five strings a stream would be hundreds of bytes.
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
