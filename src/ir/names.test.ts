import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  inboundRootCertSecretName,
  localClusterName,
  nodeId,
  outboundRootCertSecretName,
  parseSpiffeId,
  principalName,
  secretKindOf,
  serviceCertName,
  serviceDnsNames,
  serviceFqdn,
  serviceKey,
  serviceKeyFromName,
  spiffeId,
  upstreamClusterName,
  workloadNodeId,
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

test('host names of a service, and the service key each names back', () => {
  assert.equal(serviceDnsNames(bookstore), ['bookstore-v1.bookstore.svc', 'bookstore-v1.bookstore.svc.cluster.local']);
  for (const host of [...serviceDnsNames(bookstore), 'bookstore-v1.bookstore']) assert.is(serviceKeyFromName(host, 'elsewhere'), serviceKey(bookstore));
  assert.is(serviceKeyFromName('bookstore-v1', 'bookstore'), serviceKey(bookstore));
});

test('SDS secret names parse back to their kind; other names to none', () => {
  assert.is(secretKindOf(serviceCertName(account)), 'service-cert');
  assert.is(secretKindOf(inboundRootCertSecretName(account)), 'root-cert-for-mtls-inbound');
  assert.is(secretKindOf(outboundRootCertSecretName(bookstore)), 'root-cert-for-mtls-outbound');
  for (const other of ['service-cert', 'root-cert-for-mtls-other:ns/x', 'bookstore/bookstore-v1|80', '']) assert.is(secretKindOf(other), undefined);
});

test('node ids: of a plan and of the workload it was planned for', () => {
  assert.is(nodeId({ namespace: 'bookstore', workload: 'bookstore-v1' }), 'bookstore/bookstore-v1');
  assert.is(workloadNodeId({ meta: { namespace: 'bookstore', name: 'bookstore-v1', labels: {}, annotations: {} } } as never), 'bookstore/bookstore-v1');
});

test.run();
