import type { PeerCertificate } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { peerIdentity, proves, XdsAuthorizer } from './auth.ts';
import { memoryLogger } from '../ops/logger.ts';
import type { ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import type { AnyStream } from '../xds/stream-core.ts';
import type { StreamClosed } from '../xds/stream-closed.ts';

const bookbuyer = { namespace: 'bookbuyer', serviceAccount: 'bookbuyer', trustDomain: 'cluster.local' };

function cert(subjectaltname: string, cn = 'bookbuyer.bookbuyer.cluster.local'): PeerCertificate {
  return { subjectaltname, subject: { CN: cn } } as unknown as PeerCertificate;
}

function proxy(nodeId: string, serviceAccount: string): ProxySnapshot {
  const [namespace, workload] = nodeId.split('/');
  return { nodeId, namespace, workload, identity: { serviceAccount, trustDomain: 'cluster.local' }, resources: new Map(), version: 'v', all: [] };
}

test('the SPIFFE URI decides when the certificate has one; names (DNS SANs, CN) otherwise', () => {
  const both = peerIdentity(cert('DNS:bookbuyer.bookbuyer.cluster.local, URI:spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer'));
  assert.ok(proves(both, bookbuyer));
  // A certificate whose SPIFFE ID says someone else proves nothing by its CN.
  const conflicting = peerIdentity(cert('URI:spiffe://cluster.local/ns/bookstore/sa/bookstore'));
  assert.not.ok(proves(conflicting, bookbuyer));
  const dnsOnly = peerIdentity(cert('DNS:bookbuyer.bookbuyer.cluster.local', 'other'));
  assert.ok(proves(dnsOnly, bookbuyer));
  const cnOnly = peerIdentity(cert(''));
  assert.ok(proves(cnOnly, bookbuyer), 'an external CA that sets only the CN');
  assert.not.ok(proves(peerIdentity(cert('DNS:bookbuyer.bookbuyer.example.org', 'x')), bookbuyer), 'the trust domain is part of the identity');
});

test('a stream whose workload changed service account in a recompile is ended with PERMISSION_DENIED', () => {
  const authorizer = new XdsAuthorizer(memoryLogger());
  const failed: StreamClosed[] = [];
  const stream = { nodeId: 'bookbuyer/bookbuyer', fail: (e: StreamClosed) => failed.push(e) } as unknown as AnyStream;
  const call = { getAuthContext: () => ({ sslPeerCertificate: cert('URI:spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer') }) };
  authorizer.authorize(stream, call, proxy('bookbuyer/bookbuyer', 'bookbuyer'));
  const snapshot = (sa: string): Snapshot => ({ proxies: new Map([['bookbuyer/bookbuyer', proxy('bookbuyer/bookbuyer', sa)]]) }) as unknown as Snapshot;
  authorizer.recheck([stream], snapshot('bookbuyer'));
  assert.is(failed.length, 0);
  authorizer.recheck([stream], snapshot('buyer-v2'));
  assert.is(failed.length, 1);
  assert.is(failed[0].code, 7);
  assert.match(failed[0].message, 'now runs as buyer-v2.bookbuyer.cluster.local, not bookbuyer.bookbuyer.cluster.local');
});

test('no client certificate, or an identity that is not the workload\'s: PERMISSION_DENIED', () => {
  const authorizer = new XdsAuthorizer(memoryLogger());
  const stream = {} as AnyStream;
  const refused = (call: unknown): StreamClosed => {
    try {
      authorizer.authorize(stream, call, proxy('bookstore/bookstore', 'bookstore'));
    } catch (e) {
      return e as StreamClosed;
    }
    throw new Error('authorized');
  };
  assert.is(refused({ getAuthContext: () => ({}) }).reason, 'no-client-certificate');
  const e = refused({ getAuthContext: () => ({ sslPeerCertificate: cert('URI:spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer') }) });
  assert.is(e.code, 7);
  assert.is(e.reason, 'identity-mismatch');
});

test.run();
