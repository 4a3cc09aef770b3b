/**
 * `DeltaAggregatedResources`: incremental ADS.
 *
 * The server keeps, per type, the version of every resource the client holds, and sends only
 * resources whose version changed plus the names that went away (`removed_resources`).
 * Unlike state of the world, a subscription change is never ignored, whatever its nonce: it is
 * a delta, and dropping it would lose it for good. The nonce only decides whether the request
 * also ACKs or NACKs the response in flight.
 */
import type { DeltaDiscoveryRequest, DeltaResponse } from './ads-service.ts';
import type { Protocol } from '../ops/metrics.ts';
import type { EncodedResource, ProxySnapshot } from '../snapshot/snapshot-types.ts';
import { AdsStream } from './stream-core.ts';
import type { Desired } from './make-before-break.ts';
import type { TypeState } from './type-state.ts';
import { shortType } from './type-urls.ts';
import { byName } from '../../shared/compare.ts';

interface Diff {
  readonly updated: EncodedResource[];
  readonly removed: string[];
  /** Subscribed names that do not exist and that the client has not been told about yet. */
  readonly absent: string[];
}

export class DeltaStream extends AdsStream<DeltaDiscoveryRequest, DeltaResponse> {
  readonly protocol: Protocol = 'delta';

  protected *namesIn(req: DeltaDiscoveryRequest): Iterable<string> {
    yield* req.resourceNamesSubscribe;
    yield* req.resourceNamesUnsubscribe;
    if (req.initialResourceVersions) for (const name in req.initialResourceVersions) yield name;
  }

  protected handle(req: DeltaDiscoveryRequest, state: TypeState, firstOfType: boolean): boolean {
    this.settle(req, state, '');
    if (firstOfType) {
      state.subscribed = true;
      // Legacy wildcard: a first request that subscribes to nothing wants everything.
      if (req.resourceNamesSubscribe.length === 0) state.wildcard = true;
      // What the client already holds (after a reconnect) is not sent again if unchanged.
      for (const [name, version] of Object.entries(req.initialResourceVersions ?? {})) state.declare(name, version, this);
    }
    for (const n of req.resourceNamesSubscribe) {
      if (n === '*') {
        state.wildcard = true;
        continue;
      }
      state.addName(n, this);
      // An explicit (re)subscription asks for the resource to be sent, even if sent before.
      if (!firstOfType) state.forget(n, this);
      state.deleteAbsent(n);
    }
    for (const n of req.resourceNamesUnsubscribe) {
      if (n === '*') {
        state.wildcard = false;
        continue;
      }
      state.deleteName(n, this);
      state.deleteAbsent(n);
      // The client dropped it; under a wildcard it still wants it, so it stays "held".
      if (!state.wildcard) state.forget(n, this);
    }
    this.noteNames(state.typeUrl, req.resourceNamesSubscribe);
    return firstOfType || req.resourceNamesSubscribe.length > 0 || req.resourceNamesUnsubscribe.length > 0;
  }

  private diff(state: TypeState, desired: Desired): Diff {
    const updated: EncodedResource[] = [];
    for (const r of desired.resources.values()) if (state.sent.get(r.name)?.version !== r.version) updated.push(r);
    const removed: string[] = [];
    for (const name of state.sent.keys()) if (!desired.resources.has(name)) removed.push(name);
    const absent = desired.missing.filter((n) => !state.absent.has(n) && !state.sent.has(n));
    return { updated, removed, absent };
  }

  protected hasChange(state: TypeState, desired: Desired): boolean {
    const d = this.diff(state, desired);
    return d.updated.length > 0 || d.removed.length > 0 || d.absent.length > 0;
  }

  protected send(state: TypeState, desired: Desired, proxy: ProxySnapshot): void {
    const { updated, removed, absent } = this.diff(state, desired);
    updated.sort(byName);
    for (const r of updated) state.recordSent(r, this);
    for (const n of removed) state.forget(n, this);
    for (const n of absent) state.addAbsent(n);
    const nonce = this.nextNonce();
    const nonceText = this.nonceText(nonce);
    state.sentVersion = proxy.version;
    state.nonce = nonce;
    state.inFlight = true;
    const removedResources = [...removed, ...absent].sort();
    this.log.debug('push', { type: shortType(state.typeUrl), updated: updated.length, removed: removedResources.length, nonce: nonceText });
    this.write(
      {
        systemVersionInfo: proxy.version,
        resources: updated.map((r) => this.host.interner.deltaBytes(r)),
        typeUrl: state.typeUrl,
        removedResources,
        nonce: nonceText,
        controlPlane: this.host.controlPlane,
      },
      state,
      updated.length,
    );
  }
}
