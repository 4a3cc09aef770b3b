/**
 * Authenticated xDS: who is at the other end of a stream, and may it ask as the workload it names?
 *
 * With a CA, the xDS port takes only TLS clients with a certificate the mesh CA issued (the TLS
 * handshake enforces that; a plaintext or foreign client never gets a stream). That proves an
 * identity, but `node.id` is only a claim: the workload it names must run as the certificate's
 * service account, or the stream ends with PERMISSION_DENIED. Otherwise any proxy holding any
 * mesh certificate could name another workload and be handed that workload's private key.
 *
 * The certificate's identity is its SPIFFE URI SAN when it has one (as gRPC's and Envoy's RBAC
 * read it), else its DNS SANs and CN `<sa>.<ns>.<trustDomain>`.
 *
 * The decision is remembered per stream and checked again after every recompile: a workload
 * whose service account changed is no longer the identity its stream proved.
 */
import type { PeerCertificate } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { diagnostic, formatDiagnostic } from '../../diagnostics/diagnostic.ts';
import { parseSpiffeId, principalName, spiffeId, type WorkloadIdentity } from '../../identity/identity.ts';
import type { Logger } from '../../shared/logger.ts';
import { proxyIdentity } from './secrets.ts';
import type { ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import { StreamClosed } from '../xds/stream-closed.ts';
import type { AnyStream } from '../xds/stream-core.ts';

/** What the client's certificate says, as read from the TLS session. */
export interface PeerIdentity {
  /** SPIFFE IDs in our `/ns/<ns>/sa/<sa>` shape. */
  readonly spiffe: readonly string[];
  /** DNS SANs and the CN. */
  readonly names: readonly string[];
}

/** The call's peer certificate, if the transport has one (grpc-js ≥ 1.10 exposes it through getAuthContext). */
export function peerCertificate(call: unknown): PeerCertificate | undefined {
  const ctx = (call as { getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } | null }).getAuthContext?.();
  const cert = ctx?.sslPeerCertificate;
  return cert && Object.keys(cert).length > 0 ? cert : undefined;
}

export function peerIdentity(cert: PeerCertificate): PeerIdentity {
  const entries = (cert.subjectaltname ?? '').split(', ').filter(Boolean);
  const spiffe = entries.filter((e) => e.startsWith('URI:')).map((e) => e.slice(4)).filter((u) => parseSpiffeId(u));
  const names = entries.filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4));
  const cn = cert.subject?.CN;
  for (const c of Array.isArray(cn) ? cn : cn ? [cn] : []) names.push(c);
  return { spiffe, names };
}

/** Does the certificate prove `identity`? SPIFFE IDs decide when present; names otherwise. */
export function proves(peer: PeerIdentity, identity: WorkloadIdentity): boolean {
  if (peer.spiffe.length > 0) return peer.spiffe.includes(spiffeId(identity));
  return peer.names.includes(principalName(identity));
}

function describe(peer: PeerIdentity): string {
  return peer.spiffe[0] ?? peer.names[0] ?? 'a certificate without identity';
}

export class XdsAuthorizer {
  /** Stream → the principal it proved. */
  private readonly proved = new WeakMap<AnyStream, string>();

  constructor(private readonly logger: Logger) {}

  /** Throws StreamClosed(PERMISSION_DENIED) unless the stream's certificate is `proxy`'s identity. */
  authorize(stream: AnyStream, call: unknown, proxy: ProxySnapshot): void {
    const cert = peerCertificate(call);
    if (!cert) throw new StreamClosed(status.PERMISSION_DENIED, 'a client certificate from the mesh CA is required', 'no-client-certificate');
    const peer = peerIdentity(cert);
    const identity = proxyIdentity(proxy);
    if (!identity || !proves(peer, identity)) {
      const expected = identity ? principalName(identity) : '(unknown)';
      const d = diagnostic('xds-identity-mismatch', { presented: describe(peer), node: proxy.nodeId, expected });
      this.logger.warn(formatDiagnostic(d), { code: d.code, node: proxy.nodeId, presented: describe(peer), expected });
      throw new StreamClosed(status.PERMISSION_DENIED, `${d.message}: a proxy may only ask for the configuration of its own workload`, 'identity-mismatch');
    }
    this.proved.set(stream, principalName(identity));
  }

  /** After a recompile: streams whose workload now runs as another identity than they proved are ended. */
  recheck(streams: Iterable<AnyStream>, snapshot: Snapshot): void {
    for (const s of streams) {
      const proved = this.proved.get(s);
      const proxy = s.nodeId ? snapshot.proxies.get(s.nodeId) : undefined;
      if (!proved || !proxy) continue; // an unknown workload ends with NOT_FOUND on its own
      const identity = proxyIdentity(proxy);
      if (identity && principalName(identity) === proved) continue;
      s.fail(
        new StreamClosed(
          status.PERMISSION_DENIED,
          `workload ${proxy.nodeId} now runs as ${identity ? principalName(identity) : 'an unknown identity'}, not ${proved}; reconnect with its certificate`,
          'identity-changed',
        ),
      );
    }
  }
}
