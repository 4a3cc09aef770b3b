import { RE2JS } from 're2js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { buildMesh } from '../ir/build/index.ts';
import { parseSources } from '../parser/parse.ts';
import { isValidRe2, sourceOffsetInLine, validateRegexes } from './validate-regex.ts';

/** Parses real YAML, builds the IR and runs the pass; only the pass's diagnostics are returned. */
function lint(text: string, { file = 'routes.yaml', inMemory = true } = {}): Diagnostic[] {
  const parsed = new DiagnosticBag();
  const mesh = buildMesh(parseSources([{ path: file, text }], parsed), parsed, {});
  assert.equal(parsed.items, [], 'fixture parses cleanly');
  const bag = new DiagnosticBag();
  validateRegexes(mesh, bag, (f) => (inMemory && f === file ? text : undefined));
  return bag.items;
}

const where = (d: Diagnostic) => `${d.source?.line}:${d.source?.column}`;

const group = (matches: string) => `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: api
  namespace: shop
spec:
  matches:
${matches}`;

// ── isValidRe2 ──────────────────────────────────────────────────────────────

test('the shortcut for plainly valid regexes agrees with RE2 on 20,000 random ones', () => {
  // Seeded, so a failure reproduces: strings over the characters the shortcut reads, and the ones it must not.
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  const alphabet = ['a', 'Z', '0', '/', '-', '_', '.', '*', '+', '?', '[', ']', '^', '(', ')', '|', '\\', '{', '2', '}', '$'];
  let plain = 0;
  for (let i = 0; i < 20_000; i++) {
    let r = '';
    for (let n = Math.floor(next() * 8); n > 0; n--) r += alphabet[Math.floor(next() * alphabet.length)];
    let compiles = true;
    try {
      RE2JS.compile(r);
    } catch {
      compiles = false;
    }
    assert.is(isValidRe2(r).ok, compiles, r);
    if (/^[\w/.*+?[\]^-]*$/.test(r) && compiles) plain++;
  }
  assert.ok(plain > 1000, `${plain} plainly valid ones were drawn`);
});

test('RE2 syntax that JavaScript users also write is accepted', () => {
  for (const re of ['.*', '/books-bought', '.*-http-client/*.*', '/api/v[12]/.*', '\\d+', '(?i)/Books', '(?P<id>\\d+)', '(?<id>\\d+)', '\\pL+', '\\x{41}', '\\12', '[^/]+', '\\Q(?=\\E']) {
    assert.equal(isValidRe2(re), { ok: true }, re);
  }
});

test('JavaScript-only constructs: the offset of the construct and a message saying what it is', () => {
  const cases: [string, number, RegExp][] = [
    ['/api/(?=v1)', 5, /^lookahead \(\?= is JavaScript/],
    ['/api(?!/internal)', 4, /^negative lookahead/],
    ['/a(?<=b)c', 2, /^lookbehind/],
    ['/a(?<!b)c', 2, /^negative lookbehind/],
    ['(a)/\\1', 4, /^\\1 is a backreference/],
    ['(?<x>a)\\k<x>', 7, /named backreference/],
    ['/caf\\u00e9', 4, /\\u escapes are JavaScript/],
    ['(?>a+)b', 0, /atomic group/],
  ];
  for (const [re, offset, detail] of cases) {
    const r = isValidRe2(re);
    assert.is(r.ok, false, re);
    if (r.ok) continue;
    assert.is(r.offset, offset, re);
    assert.match(r.detail, detail, re);
  }
});

test('other RE2 errors carry re2js detail and the right occurrence', () => {
  assert.equal(isValidRe2('a**'), { ok: false, offset: 1, detail: 'invalid nested repetition operator: **' });
  assert.equal(isValidRe2('/x(abc'), { ok: false, offset: 2, detail: 'missing closing )' });
  assert.equal(isValidRe2('/x)'), { ok: false, offset: 2, detail: 'unexpected )' });
  assert.equal(isValidRe2('/[a-'), { ok: false, offset: 1, detail: 'missing closing ]: [a-' });
  // The same bad text twice: the first is the error.
  assert.is((isValidRe2('\\8x\\8') as { offset: number }).offset, 0);
  // \12 is an octal escape RE2 accepts, so the error is the later \8, not the \1 prefix.
  assert.is((isValidRe2('\\12(a)\\8') as { offset: number }).offset, 6);
  assert.is((isValidRe2('\\x41\\x') as { offset: number }).offset, 4);
});

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

// ── The pass, on real YAML ──────────────────────────────────────────────────

test('pathRegex: error SMI3009 at the offending character, plain and quoted', () => {
  const ds = lint(
    group(`  - name: plain
    pathRegex: /api/(?=v1)
  - name: double
    pathRegex: "/api/(?!v2)"
  - name: single
    pathRegex: '/it''s/(a)\\1'
  - name: ok
    pathRegex: /api/v[12]/.*`),
  );
  assert.equal(ds.map((d) => [d.code, d.level, where(d)]), [
    ['SMI3009', 'error', '9:21'],
    ['SMI3009', 'error', '11:22'],
    ['SMI3009', 'error', '13:27'],
  ]);
  assert.is(ds[0]!.message, 'invalid RE2 regular expression "/api/(?=v1)": lookahead (?= is JavaScript/PCRE syntax; RE2 has no lookaround');
  assert.equal(ds[0]!.resource, { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'api' });
});

test('double-quoted escapes shift the column', () => {
  const [d] = lint(group(`  - name: m
    pathRegex: "\\\\d+/(?=x)"`));
  // `    pathRegex: "\\d+/(?=x)"`: the quote is column 16, then \\ d + / take 17–21.
  assert.is(where(d!), '9:22');
});

test('header value regexes are checked too, at the value', () => {
  const ds = lint(
    group(`  - name: m
    headers:
    - user-agent: ".*-http-client/*.*"
    - x-version: 'v(?=2)'`),
  );
  assert.equal(ds.map(where), ['11:20']);
});

test('a flow mapping and a second document keep exact positions', () => {
  const text = `apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
---
${group('  - {name: m, pathRegex: "/a/(?<=b)"}')}`;
  const ds = lint(text);
  assert.equal(ds.map(where), ['12:30']);
});

test('JSON input', () => {
  const text = JSON.stringify(
    { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: 'j' }, spec: { matches: [{ name: 'm', pathRegex: '/\\d+(?=x)' }] } },
    null,
    2,
  );
  const ds = lint(text, { file: 'routes.json' });
  // `        "pathRegex": "/\\d+(?=x)"` is line 11; the quote is column 22, then / \\ d + take 23–27.
  assert.equal(ds.map(where), ['11:28']);
});

test('without the file text (stdin, unreadable), the diagnostic stays on the scalar', () => {
  const ds = lint(group(`  - name: m
    pathRegex: "/api/(?=v1)"`), { inMemory: false });
  assert.equal(ds.map(where), ['9:16']);
});

test('a block scalar is reported at its start rather than a guessed column', () => {
  const ds = lint(group(`  - name: m
    pathRegex: >-
      /api/(?=v1)`));
  assert.equal(ds.map(where), ['9:16']);
});

test('v1alpha1 groups (matches at the top level) and kind: List items', () => {
  const text = `apiVersion: v1
kind: List
items:
- apiVersion: specs.smi-spec.io/v1alpha1
  kind: HTTPRouteGroup
  metadata: {name: old}
  matches:
  - name: m
    pathRegex: /x/\\k<n>`;
  assert.equal(lint(text).map(where), ['9:19']);
});

test.run();
