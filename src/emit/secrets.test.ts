import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { secrets } from './secrets.ts';
import { BOOKSTORE_ID, bookbuyerPlan, bookstoreV1Plan } from './test-plans.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

type J = Record<string, any>;

test('a caller: its own certificate and one outbound root per upstream service, pinning the upstream identities', () => {
  const list = secrets(session, bookbuyerPlan(), false) as J[];
  assert.equal(list.map((s) => s.name), [
    'root-cert-for-mtls-outbound:bookstore/bookstore-v1',
    'root-cert-for-mtls-outbound:bookstore/bookstore-v2',
    'service-cert:bookbuyer/bookbuyer',
  ]);
  for (const s of list) assert.is(s['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret');
  assert.equal(list[0].validation_context, {
    match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: BOOKSTORE_ID } }],
  });
  assert.equal(Object.keys(list[2]), ['@type', 'name'], 'no key material yet');
});

test('a server: its own certificate and the inbound root, no SAN pinning (RBAC decides who may call)', () => {
  const list = secrets(session, bookstoreV1Plan(), true) as J[];
  assert.equal(list.map((s) => s.name), ['root-cert-for-mtls-inbound:bookstore/bookstore', 'service-cert:bookstore/bookstore']);
  assert.equal(list[0].validation_context, {});
});

test('a proxy with no TLS context needs no secret', () => {
  assert.equal(secrets(session, { ...bookbuyerPlan(), outbound: [], upstreams: [] }, false), []);
});

test.run();
