import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isRootCertSecret, withTrustBundle } from './trust-bundle.ts';

test('root-cert secrets are the inbound and outbound trust anchors, not the service certificate', () => {
  assert.ok(isRootCertSecret('root-cert-for-mtls-inbound:ns/sa'));
  assert.ok(isRootCertSecret('root-cert-for-mtls-outbound:ns/svc'));
  assert.not.ok(isRootCertSecret('service-cert:ns/sa'));
});

test('the bundle goes first in the validation context, the SAN matchers after it, the input untouched', () => {
  const emitted = { name: 'root-cert-for-mtls-outbound:ns/svc', validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI' }] } };
  const filled = withTrustBundle(emitted, 'PEM');
  assert.equal(Object.keys(filled.validation_context as object), ['trusted_ca', 'match_typed_subject_alt_names']);
  assert.equal((filled.validation_context as Record<string, unknown>).trusted_ca, { inline_string: 'PEM' });
  assert.ok(Object.isFrozen(filled) && Object.isFrozen(filled.validation_context));
  assert.equal(emitted.validation_context, { match_typed_subject_alt_names: [{ san_type: 'URI' }] });
  assert.equal((withTrustBundle({ name: 'root-cert-for-mtls-inbound:ns/sa' }, 'PEM') as Record<string, unknown>).validation_context, { trusted_ca: { inline_string: 'PEM' } });
});

test.run();
