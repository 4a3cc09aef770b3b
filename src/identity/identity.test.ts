import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { identityHostClash, identityProblem, parseIdentityArg, parseSpiffeId, principalName, serviceCertName, spiffeId } from './identity.ts';

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
  assert.throws(() => parseIdentityArg('Book.buyer'), /not a DNS subdomain: it has uppercase letters/);
  assert.throws(() => parseIdentityArg('../../x.y'), /service account "..\/..\/x" is not a DNS subdomain: it contains "\/"/);
  assert.throws(() => parseIdentityArg('a.b', 'not a domain'), /trust domain/);
});

test('identities that read as Kubernetes host names are refused (issue 15): the xDS server, any service, any pod', () => {
  const td = 'cluster.local';
  // The example: this workload would get a certificate for the xDS server's pinned name.
  const impostor = { serviceAccount: 'smi-compile.smi-system', namespace: 'svc', trustDomain: td };
  assert.equal(identityHostClash(impostor), {
    principal: 'smi-compile.smi-system.svc.cluster.local',
    label: 'svc',
    position: 3,
    what: 'a Service host name (such as smi-compile.smi-system.svc.cluster.local, the name proxies pin for the xDS server)',
  });
  assert.match(identityProblem(impostor)!, /has the form of a Kubernetes host name/);
  assert.throws(() => parseIdentityArg('smi-compile.smi-system.svc'), /smi-compile\.smi-system\.svc\.cluster\.local has the form of a Kubernetes host name/);
  // Any service of any namespace, a pod behind a headless service, a pod IP name, a short `.svc` host.
  assert.is(identityHostClash({ serviceAccount: 'web.shop', namespace: 'svc', trustDomain: td })?.label, 'svc');
  assert.is(identityHostClash({ serviceAccount: 'web-0.web.shop', namespace: 'svc', trustDomain: td })?.position, 4);
  assert.is(identityHostClash({ serviceAccount: '10-1-0-4.shop', namespace: 'pod', trustDomain: td })?.label, 'pod');
  assert.is(identityHostClash({ serviceAccount: 'web', namespace: 'shop', trustDomain: 'svc' })?.principal, 'web.shop.svc');
  assert.ok(identityHostClash({ serviceAccount: 'web', namespace: 'shop', trustDomain: 'svc.example.org' }), 'a trust domain that makes every identity a host name');
  // Not host names: `svc` or `pod` in the first two labels, or inside a label.
  for (const [serviceAccount, namespace] of [['web', 'svc'], ['svc', 'shop'], ['pod', 'pod'], ['svc-reader', 'kube-system'], ['a.svcs', 'b'], ['bookbuyer', 'bookbuyer'], ['smi-compile', 'smi-system']]) {
    assert.is(identityHostClash({ serviceAccount, namespace, trustDomain: td }), undefined, `${serviceAccount}.${namespace}`);
    assert.is(identityProblem({ serviceAccount, namespace, trustDomain: td }), undefined);
  }
});

test.run();
