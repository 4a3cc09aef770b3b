import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIdentityArg, parseSpiffeId, principalName, serviceCertName, spiffeId } from './identity.ts';

test('the two spellings of an identity, and its certificate secret', () => {
  const id = { namespace: 'bookbuyer', serviceAccount: 'bookbuyer', trustDomain: 'cluster.local' };
  assert.is(principalName(id), 'bookbuyer.bookbuyer.cluster.local');
  assert.is(spiffeId(id), 'spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer');
  assert.is(serviceCertName(id), 'service-cert:bookbuyer/bookbuyer');
  assert.equal(parseSpiffeId(spiffeId(id)), id);
  assert.is(parseSpiffeId('spiffe://cluster.local/workload/x'), undefined);
});

test('--identity <sa>.<ns>: the namespace follows the last dot (service accounts may contain dots)', () => {
  assert.equal(parseIdentityArg('bookbuyer.bookbuyer'), { serviceAccount: 'bookbuyer', namespace: 'bookbuyer', trustDomain: 'cluster.local' });
  assert.equal(parseIdentityArg('api.v2.shop', 'example.org'), { serviceAccount: 'api.v2', namespace: 'shop', trustDomain: 'example.org' });
  assert.throws(() => parseIdentityArg('bookbuyer'), /not <serviceaccount>\.<namespace>/);
  assert.throws(() => parseIdentityArg('Book.buyer'), /not a DNS subdomain/);
  assert.throws(() => parseIdentityArg('a.b', 'not a domain'), /trust domain/);
});

test.run();
