/**
 * ACK and NACK: what a request's `response_nonce` and `error_detail` say about the response in
 * flight for its type (xDS protocol, "ACK/NACK and versioning"), for both protocols.
 *
 * - No nonce: the stream's first request for the type (or a client that sends none): nothing to
 *   settle.
 * - A nonce other than the latest response's is stale: counted and logged, and the protocol
 *   ignores the request (SotW: whole; delta: its subscription part still applies).
 * - The latest nonce with an `error_detail` is a NACK: recorded on the type (count, last message,
 *   `nacked` until a later ACK), counted, and logged as SMI diagnostic `proxy-nack`. The rejected
 *   state is *not* sent again: "changed" is judged against what was sent, never against the
 *   version the proxy reports having, so a proxy that rejects a config is not sent it in a loop.
 *   The next change of the type is sent as usual.
 * - The latest nonce without one is an ACK: the version is recorded as accepted.
 * Either way the type is no longer in flight, and whatever waited behind it may go.
 */
import { diagnostic, formatDiagnostic } from '../../diagnostics/diagnostic.ts';
import type { Logger } from '../../shared/logger.ts';
import type { StatusMessage } from './ads-service.ts';
import { clip, type HeldBytes } from '../ops/limits.ts';
import type { Protocol, XdsMetrics } from '../ops/metrics.ts';
import type { TypeState } from './type-state.ts';
import { shortType } from './type-urls.ts';

/** What a request answering a response carries. */
export interface ResponseAnswer {
  readonly responseNonce: string;
  readonly errorDetail?: StatusMessage | null;
}

/** The stream a request came on, as settling needs it. */
export interface SettlingStream extends HeldBytes {
  readonly protocol: Protocol;
  readonly nodeId: string | undefined;
  /** The text of one of the stream's nonces (TypeState.nonce). */
  nonceText(nonce: number): string;
  /** The response in flight for one type was answered. */
  answered(): void;
}

/** `current`: the request answers the latest response of its type; `stale`: an older one; `none`: it answers nothing. */
export type Settlement = 'current' | 'stale' | 'none';

/** Applies the nonce of `req` to its type's state; `versionInfo` is the version the client says it runs. */
export function settle(req: ResponseAnswer, state: TypeState, versionInfo: string, stream: SettlingStream, metrics: XdsMetrics, log: Logger): Settlement {
  if (!req.responseNonce) return 'none';
  const type = shortType(state.typeUrl);
  if (state.nonce === 0 || req.responseNonce !== stream.nonceText(state.nonce)) {
    metrics.staleRequests.inc({ protocol: stream.protocol, type });
    log.debug('stale nonce', { type, nonce: clip(req.responseNonce, 100), latest: state.nonce === 0 ? '' : stream.nonceText(state.nonce) });
    return 'stale';
  }
  if (!state.inFlight) return 'current'; // a repeated ACK: only its subscription part matters
  state.inFlight = false;
  stream.answered();
  if (isNack(req)) {
    state.nacked = true;
    state.nacks += 1;
    state.recordError(clip(req.errorDetail!.message), stream);
    metrics.nacks.inc({ protocol: stream.protocol, type });
    const d = diagnostic('proxy-nack', {
      node: stream.nodeId ?? '?',
      typeUrl: state.typeUrl,
      version: state.sentVersion,
      detail: clip(req.errorDetail!.message) || `code ${req.errorDetail!.code}`,
    });
    log.warn(formatDiagnostic(d), { code: d.code, type, version: state.sentVersion, keeps: versionInfo || '(none)' });
  } else {
    state.nacked = false;
    // The version just sent, as one string shared by every stream sent it (not a copy per stream).
    state.ackedVersion = versionInfo === state.sentVersion ? state.sentVersion : versionInfo;
    state.acks += 1;
    metrics.acks.add(stream.protocol, type);
    log.debug('ACK', { type, version: versionInfo });
  }
  return 'current';
}

/** An `error_detail` with a code or a message rejects the response. */
export function isNack(req: ResponseAnswer): boolean {
  return Boolean(req.errorDetail && (req.errorDetail.code !== 0 || req.errorDetail.message));
}
