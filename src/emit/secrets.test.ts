import { EmitSession } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { secrets } from './secrets.ts';
import { goldenPlan } from './golden-plans.ts';

const session = new EmitSession();

const bookbuyer = goldenPlan('bookstore', 'bookbuyer/bookbuyer');
/** Serves the bookstore service and calls nothing. */
const bookstoreV2 = goldenPlan('bookstore', 'bookstore/bookstore-v2');

type J = Record<string, any>;

test('a caller: its own certificate and one outbound root per upstream service, pinning the upstream identities', () => {
  const list = secrets(session, bookbuyer, false) as J[];
  assert.equal(list.map((s) => s.name), [
    'root-cert-for-mtls-outbound:bookstore/bookstore-v1',
    'root-cert-for-mtls-outbound:bookstore/bookstore-v2',
    'service-cert:bookbuyer/bookbuyer',
  ]);
  for (const s of list) assert.is(s['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret');
  assert.equal(list[0].validation_context, {
    match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'bookstore.bookstore.cluster.local' } }],
  });
  assert.equal(Object.keys(list[2]), ['@type', 'name'], 'no key material yet');
});

test('a server: its own certificate and the inbound root, no SAN pinning (RBAC decides who may call)', () => {
  const list = secrets(session, bookstoreV2, true) as J[];
  assert.equal(list.map((s) => s.name), ['root-cert-for-mtls-inbound:bookstore/bookstore-v2', 'service-cert:bookstore/bookstore-v2']);
  assert.equal(list[0].validation_context, {});
});

test('a proxy with no TLS context (bookthief: no inbound, may call nothing) needs no secret', () => {
  assert.equal(secrets(session, goldenPlan('bookstore', 'bookthief/bookthief'), false), []);
});

test.run();
