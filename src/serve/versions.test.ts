import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contentHash, NonceSource, setVersion } from './versions.ts';

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

test('nonces are unique within a source and carry its prefix', () => {
  const n = new NonceSource('s1');
  const seen = new Set(Array.from({ length: 1000 }, () => n.next()));
  assert.is(seen.size, 1000);
  assert.ok([...seen].every((x) => x.startsWith('s1-')));
});

test.run();
