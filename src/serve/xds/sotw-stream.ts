/**
 * `StreamAggregatedResources`: state-of-the-world ADS.
 *
 * Every response for a type carries the full set the client should hold (for named EDS/RDS:
 * every subscribed resource), with `version_info` = the content hash of that set. A request
 * whose nonce is stale is ignored whole, subscription included: the client sends its current
 * subscription again with the latest nonce (xDS protocol, "ACK/NACK and versioning").
 */
import type { DiscoveryRequest, SotwResponse } from './ads-service.ts';
import type { Protocol } from '../ops/metrics.ts';
import type { ProxySnapshot } from '../snapshot/snapshot-types.ts';
import { AdsStream } from './stream-core.ts';
import type { Desired } from './make-before-break.ts';
import type { TypeState } from './type-state.ts';
import { shortType } from './type-urls.ts';
import { setVersion } from '../../emit/versions.ts';
import { byName } from '../../shared/compare.ts';

export class SotwStream extends AdsStream<DiscoveryRequest, SotwResponse> {
  readonly protocol: Protocol = 'sotw';

  protected namesIn(req: DiscoveryRequest): Iterable<string> {
    return req.resourceNames;
  }

  protected handle(req: DiscoveryRequest, state: TypeState, firstOfType: boolean): boolean {
    if (this.settle(req, state, req.versionInfo) === 'stale') return false;
    const names = req.resourceNames;
    const star = names.includes('*');
    const { subscribed, wildcard } = state;
    if (firstOfType) state.legacyWildcard = names.length === 0;
    else if (names.length > 0) state.legacyWildcard = false;
    state.subscribed = true;
    state.wildcard = star || (names.length === 0 && state.legacyWildcard);
    const namesChanged = state.setNames(names, this);
    this.noteNames(state.typeUrl, state.names);
    return namesChanged || state.subscribed !== subscribed || state.wildcard !== wildcard;
  }

  /** The content hash of a desired set: the shared set's, or computed once per evaluation (hasChange, then send). */
  private version(desired: Desired): string {
    return desired.set?.version ?? (desired.version ??= setVersion([...desired.resources.values()]));
  }

  protected hasChange(state: TypeState, desired: Desired): boolean {
    if (!state.wildcard && state.names.size === 0) return false; // subscribed to nothing: nothing to say
    if (desired.missing.length > 0 && this.waitsForAll(state.typeUrl)) return false;
    return this.version(desired) !== state.sentVersion || state.sentVersion === '';
  }

  protected send(state: TypeState, desired: Desired, _proxy: ProxySnapshot): void {
    const set = desired.set;
    const resources = set?.sorted ?? [...desired.resources.values()].sort(byName);
    const versionInfo = this.version(desired);
    const nonce = this.nextNonce();
    const nonceText = this.nonceText(nonce);
    // A shared set is recorded as sent by reference (never modified), not copied per stream.
    state.sent = set ? set.resources : new Map(resources.map((r) => [r.name, r]));
    state.sentVersion = versionInfo;
    state.nonce = nonce;
    state.inFlight = true;
    this.log.debug('push', { type: shortType(state.typeUrl), version: versionInfo, resources: resources.length, nonce: nonceText });
    this.write(
      {
        versionInfo,
        resources,
        typeUrl: state.typeUrl,
        nonce: nonceText,
        controlPlane: this.host.controlPlane,
      },
      state,
      resources.length,
    );
  }
}
