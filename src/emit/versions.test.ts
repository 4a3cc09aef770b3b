import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contentHash, JsonTexts, setVersion } from './versions.ts';

test('content hashes are deterministic and short', () => {
  assert.is(contentHash('abc'), contentHash('abc'));
  assert.is.not(contentHash('abc'), contentHash('abd'));
  assert.is(contentHash('abc').length, 16);
  assert.is(contentHash(new TextEncoder().encode('abc')), contentHash('abc'));
});

test('a set version does not depend on order, and does on names and versions', () => {
  const a = { name: 'a', version: '1' };
  const b = { name: 'b', version: '2' };
  assert.is(setVersion([a, b]), setVersion([b, a]));
  assert.is.not(setVersion([a, b]), setVersion([a, { name: 'b', version: '3' }]));
  assert.is.not(setVersion([a]), setVersion([a, b]));
  assert.is.not(setVersion([]), '');
});

test('JsonTexts gives JSON.stringify\'s text, frozen parts remembered or not', () => {
  const texts = new JsonTexts();
  const shared = Object.freeze({ name: 'fc', list: Object.freeze([1, 'two', null, Object.freeze({ deep: true })]) });
  const odd = { u: undefined, f: () => 1, s: Symbol('x'), n: NaN, inf: -Infinity, z: -0, e: '\u2028"\\', d: new Date(0), m: new Map([[1, 2]]) };
  const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const cases: unknown[] = [
    shared,
    { a: shared, b: [shared, shared], c: { shared, x: 1 } },
    odd,
    [undefined, () => 1, Symbol('y'), holes, odd],
    { 'quoted "key"': 1, 2: 'numeric key first', nested: { deeper: [{}, [], ''] } },
    Object.assign(Object.create(null), { bare: 1 }),
    'string',
    42,
    null,
  ];
  for (const value of cases) {
    assert.is(texts.of(value), JSON.stringify(value));
    assert.is(texts.of(value), JSON.stringify(value), 'again, from what was remembered');
    if (value && typeof value === 'object') assert.is(texts.resource(value), JSON.stringify(value));
  }
  // A fresh parent around remembered parts: still the same text.
  const parent = { chains: [shared, { own: 'fresh' }], more: shared };
  assert.is(texts.resource(parent), JSON.stringify(parent));
});


test('a content hash is the first 16 characters of the SHA-256 digest in base64url, as ever', () => {
  for (const data of ['', 'a', 'x'.repeat(1000), 'type.googleapis.com/envoy.config.cluster.v3.Cluster\n{"name":"a"}', new Uint8Array([0, 1, 2, 255])]) {
    assert.is(contentHash(data), createHash('sha256').update(data).digest('base64url').slice(0, 16));
  }
});

test.run();
