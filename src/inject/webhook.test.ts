import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InjectOptions } from './inject.ts';
import { applyPatch } from './json-patch.ts';
import { BadReview, reviewResponse } from './webhook.ts';

const OPTIONS: InjectOptions = { envoyImage: 'envoy', initImage: 'init', xdsAddress: 'cp', xdsPort: 15128, trustDomain: 'cluster.local', meshName: 'osm' };
const POD = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'app' }] } };
const review = (request: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'shop', object: POD, ...request } });

test('a Pod CREATE is answered with a JSON patch that makes the injected pod', () => {
  const r = reviewResponse(review({}), OPTIONS);
  assert.is(r.apiVersion, 'admission.k8s.io/v1');
  assert.is(r.response.uid, 'u1');
  assert.is(r.response.allowed, true);
  assert.is(r.response.patchType, 'JSONPatch');
  const patched: any = applyPatch(POD, JSON.parse(Buffer.from(r.response.patch, 'base64').toString()));
  assert.equal(patched.spec.containers.map((c: any) => c.name), ['app', 'envoy']);
  assert.equal(patched.spec.initContainers.map((c: any) => c.name), ['osm-init']);
});

test('opt-out and other operations: allowed without a patch; a bad annotation: refused with SMI8010', () => {
  const optOut = { ...POD, metadata: { ...POD.metadata, annotations: { 'openservicemesh.io/sidecar-injection': 'disabled' } } };
  assert.equal(reviewResponse(review({ object: optOut }), OPTIONS).response, { uid: 'u1', allowed: true });
  assert.equal(reviewResponse(review({ operation: 'UPDATE' }), OPTIONS).response, { uid: 'u1', allowed: true });
  const bad = { ...POD, metadata: { ...POD.metadata, annotations: { 'openservicemesh.io/outbound-ip-range-exclusion-list': '10.0.0.0/33' } } };
  const r = reviewResponse(review({ object: bad }), OPTIONS).response;
  assert.is(r.allowed, false);
  assert.match(r.status.message, /error SMI8010 Pod shop\/p: annotation openservicemesh\.io\/outbound-ip-range-exclusion-list/);
});

test('not an admission.k8s.io/v1 review: BadReview (the server answers 400 with SMI8013)', () => {
  assert.throws(() => reviewResponse({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }, OPTIONS), (e: unknown) => e instanceof BadReview);
  assert.throws(() => reviewResponse({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, OPTIONS), (e: unknown) => e instanceof BadReview);
});

test.run();
