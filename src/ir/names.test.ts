import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  inboundRootCertSecretName,
  localClusterName,
  outboundRootCertSecretName,
  parseSpiffeId,
  principalName,
  serviceCertName,
  serviceFqdn,
  serviceKey,
  spiffeId,
  upstreamClusterName,
} from './names.ts';

const bookstore = { namespace: 'bookstore', name: 'bookstore-v1' };
const account = { namespace: 'bookstore', serviceAccount: 'bookstore' };

test('service and cluster names, as OSM v1.2 spells them', () => {
  assert.is(serviceKey(bookstore), 'bookstore/bookstore-v1');
  assert.is(serviceFqdn(bookstore), 'bookstore-v1.bookstore.svc.cluster.local');
  assert.is(upstreamClusterName(serviceKey(bookstore), 8080), 'bookstore/bookstore-v1|8080');
  assert.is(localClusterName(serviceKey(bookstore), 8080), 'bookstore/bookstore-v1|8080|local');
});

test('SDS secret names', () => {
  assert.is(serviceCertName(account), 'service-cert:bookstore/bookstore');
  assert.is(inboundRootCertSecretName(account), 'root-cert-for-mtls-inbound:bookstore/bookstore');
  assert.is(outboundRootCertSecretName(bookstore), 'root-cert-for-mtls-outbound:bookstore/bookstore-v1');
});

test('identities: principal name and SPIFFE ID, which parses back', () => {
  const id = { ...account, trustDomain: 'cluster.local' };
  assert.is(principalName(id), 'bookstore.bookstore.cluster.local');
  assert.is(spiffeId(id), 'spiffe://cluster.local/ns/bookstore/sa/bookstore');
  assert.equal(parseSpiffeId(spiffeId(id)), id);
  assert.is(parseSpiffeId('spiffe://cluster.local/ns/a/b/sa/c'), undefined);
});

test.run();
