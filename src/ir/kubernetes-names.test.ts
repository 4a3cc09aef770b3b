import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { displayName, isValidName, MAX_LABEL_LENGTH, MAX_SUBDOMAIN_LENGTH, nameProblem, serviceReferenceProblem } from './kubernetes-names.ts';

test('valid names of each format, as the API server accepts them', () => {
  for (const n of ['a', 'bookstore', 'book-store-2', '0abc', 'a'.repeat(MAX_LABEL_LENGTH)]) assert.ok(isValidName(n, 'label'), n);
  for (const n of ['a', 'web', 'web-v2', 'a'.repeat(MAX_LABEL_LENGTH)]) assert.ok(isValidName(n, 'service'), n);
  for (const n of ['a', 'smi-compile.smi-system', '0.a-b.c', `${'a'.repeat(MAX_LABEL_LENGTH)}.b`, 'a.'.repeat(126) + 'a']) assert.ok(isValidName(n, 'subdomain'), n);
  assert.is(('a.'.repeat(126) + 'a').length, MAX_SUBDOMAIN_LENGTH);
});

test('path segments: "/", ".." and "." are refused in every format, "/" and ".." named as such', () => {
  for (const format of ['label', 'service', 'subdomain'] as const) {
    assert.is(nameProblem('../../../../elsewhere/victim', format), 'it contains "/"');
    assert.is(nameProblem('a/b', format), 'it contains "/"');
    assert.is(nameProblem('..', format), 'it contains ".."');
    assert.ok(nameProblem('.', format));
    assert.ok(nameProblem('a..b', format));
  }
  assert.is(nameProblem('a.b', 'label'), 'it contains "."');
  assert.is(nameProblem('.a', 'subdomain'), 'it starts or ends with a dot');
  assert.is(nameProblem('a.', 'subdomain'), 'it starts or ends with a dot');
});

test('length: 63 for labels, 253 for subdomains, with the count in the message', () => {
  assert.is(nameProblem('a'.repeat(64), 'label'), 'it has 64 characters, more than 63');
  assert.is(nameProblem('a'.repeat(64), 'service'), 'it has 64 characters, more than 63');
  assert.is(nameProblem('a'.repeat(254), 'subdomain'), 'it has 254 characters, more than 253');
  assert.is(nameProblem('a'.repeat(100_000), 'subdomain'), 'it has 100000 characters, more than 253');
});

test('empty, uppercase, unicode, control characters, underscores, edges', () => {
  for (const format of ['label', 'service', 'subdomain'] as const) {
    assert.is(nameProblem('', format), 'it is empty');
    assert.is(nameProblem('Web', format), 'it has uppercase letters (names are lowercase)');
    assert.match(nameProblem('café', format)!, /non-ASCII character "é" \(U\+00E9\)/);
    assert.match(nameProblem('a\u0000b', format)!, /control character U\+0000/);
    assert.match(nameProblem('a_b', format)!, /contains "_"/);
    assert.match(nameProblem('-a', format)!, /start/);
    assert.match(nameProblem('a-', format)!, /end/);
  }
  assert.match(nameProblem('\u0430pp', 'label')!, /non-ASCII/, 'a Cyrillic look-alike');
  assert.is(nameProblem('1web', 'service'), 'it must start with a lowercase letter');
  assert.is(nameProblem('1web', 'label'), undefined);
});

test('TrafficSplit service references: svc, svc.ns, the FQDN; each part checked', () => {
  for (const ok of ['web', 'web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local']) assert.is(serviceReferenceProblem(ok), undefined, ok);
  assert.match(serviceReferenceProblem('1web.shop')!, /Service part "1web"/);
  assert.match(serviceReferenceProblem(`web.${'n'.repeat(64)}`)!, /namespace part .* more than 63/);
  assert.is(serviceReferenceProblem('../x'), 'it contains "/"');
  assert.is(serviceReferenceProblem(''), 'it is empty');
});

test('names in messages: quoted, escaped, and cut when long', () => {
  assert.is(displayName('a"b'), '"a\\"b"');
  assert.is(displayName('a\nb'), '"a\\nb"');
  const long = displayName('x'.repeat(10_000));
  assert.ok(long.length < 120 && long.endsWith('(10000 characters)'), long);
});

test.run();
