import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { objectOrigin, positionInScalar, sourceOffsetInLine, textOrigin } from './origin.ts';

// ── Columns inside scalars ──────────────────────────────────────────────────

test('offsets map through plain, double-quoted and single-quoted scalars', () => {
  assert.is(sourceOffsetInLine('  k: /a(?=b)', 5, '/a(?=b)', 2), 7);
  assert.is(sourceOffsetInLine('  k: "/a(?=b)"', 5, '/a(?=b)', 2), 8);
  // "\\d" is two source characters for one backslash.
  assert.is(sourceOffsetInLine('  k: "\\\\d(?=b)"', 5, '\\d(?=b)', 2), 9);
  assert.is(sourceOffsetInLine('  k: "\\x41(?=b)"', 5, 'A(?=b)', 1), 10);
  assert.is(sourceOffsetInLine("  k: 'it''s(?=b)'", 5, "it's(?=b)", 4), 11);
});

test('a scalar the line does not hold exactly gives undefined (the caller keeps the scalar start)', () => {
  assert.is(sourceOffsetInLine('  k: |', 5, '/a(?=b)', 2), undefined);
  assert.is(sourceOffsetInLine('  k: "/a(?=b', 5, '/a(?=b)c', 2), undefined);
  assert.is(sourceOffsetInLine('  k: /other', 5, '/a(?=b)', 2), undefined);
});

test('positionInScalar: a character of a scalar in a document that starts on line 5, on its last line', () => {
  const origin = textOrigin('f.yaml', 'kind: X\nspec:\n  k: "a\\\\b(?=c)"', 5);
  assert.equal(positionInScalar(origin, ['spec', 'k'], 'a\\b(?=c)', 3), { file: 'f.yaml', line: 7, column: 11 });
  assert.equal(positionInScalar(origin, ['spec', 'k'], 'a\\b(?=c)', 0), { file: 'f.yaml', line: 7, column: 7 });
});

test('positionInScalar: a line of its own, and a block scalar (its start)', () => {
  const origin = textOrigin('f.yaml', 'spec:\n  k: /x/(?=y)\n  b: >-\n    /x/(?=y)\n', 1);
  assert.equal(positionInScalar(origin, ['spec', 'k'], '/x/(?=y)', 3), { file: 'f.yaml', line: 2, column: 9 });
  assert.equal(positionInScalar(origin, ['spec', 'b'], '/x/(?=y)', 3), { file: 'f.yaml', line: 3, column: 6 });
});

test('positionInScalar: an object from the Kubernetes API has no text, so the field is named', () => {
  assert.equal(positionInScalar(objectOrigin('HTTPRouteGroup ns/g'), ['spec', 'k'], '/x', 1), { file: 'HTTPRouteGroup ns/g', line: 0, column: 0, field: 'spec.k' });
});

test.run();
