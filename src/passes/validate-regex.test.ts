import fc from 'fast-check';
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { invalidRegex } from '../../test/hardening/mutations.ts';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { buildMesh } from '../ir/build/index.ts';
import { parseSources } from '../parser/parse.ts';
import { checkRegex, isValidRe2, MAX_REGEX_LENGTH, QUOTE_LENGTH, quoteRegex, tokenize, validateRegexes } from './validate-regex.ts';
import { countingCompiles } from './re2-testing.ts';

/** Parses real YAML, builds the IR and runs the pass; only the pass's diagnostics are returned. */
function lint(text: string, { file = 'routes.yaml' } = {}): Diagnostic[] {
  const parsed = new DiagnosticBag();
  const mesh = buildMesh(parseSources([{ path: file, text }], parsed), parsed, {});
  assert.equal(parsed.items, [], 'fixture parses cleanly');
  const bag = new DiagnosticBag();
  validateRegexes(mesh, bag);
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
    assert.is(checkRegex(r).kind !== 'invalid', compiles, r);
    if (/^[\w/.*+?[\]^-]*$/.test(r) && compiles) plain++;
  }
  assert.ok(plain > 1000, `${plain} plainly valid ones were drawn`);
  // Near Envoy's program-size bound, the shortcut must not skip a program that is too large.
  const pieces = ['a', '/', '-', '.', 'x*', 'y+', 'z?', '[^/]'];
  let large = 0;
  for (let i = 0; i < 2_000; i++) {
    let r = '';
    const length = 90 + next() * 30;
    while (r.length < length) r += pieces[Math.floor(next() * pieces.length)];
    let size: number;
    try {
      size = RE2JS.compile(r).programSize() + 2;
    } catch {
      continue;
    }
    if (size > 100) large++;
    assert.equal(checkRegex(r), size > 100 ? { kind: 'too-large', programSize: size } : { kind: 'valid' }, r);
  }
  assert.ok(large > 100 && large < 1900, `${large} of 2,000 over the bound`);
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

// ── Cost: compiles are counted, not timed ───────────────────────────────────


/** The bound checkRegex promises for an invalid regex: the whole, then a bisection over its tokens. */
const compileBound = (regex: string) => 1 + Math.ceil(Math.log2(Math.max(2, tokenize(regex).length)));

test('an invalid regex costs a logarithmic number of compiles, not one per prefix (was quadratic)', () => {
  for (const n of [50, 200, 1000]) {
    const regex = `${'/x'.repeat(n / 2 - 3)}(?=y)`;
    const { result, compiles } = countingCompiles(() => lint(group(`  - name: m\n    pathRegex: "${regex}"`)));
    assert.equal(result.map((d) => [d.code, where(d)]), [['SMI3009', `9:${17 + n - 6}`]], String(n));
    // 1000 characters: 11 compiles, where a compile per token prefix made ~1000 (and 20,000 took 84 s).
    assert.ok(compiles <= compileBound(regex), `${compiles} compiles for ${regex.length} characters`);
  }
});

test('a regex over MAX_REGEX_LENGTH is SMI3023 at its field, never compiled, and quoted only in part', () => {
  const regex = `/a${'(b'.repeat(10_000)}`;
  const { result, compiles } = countingCompiles(() => lint(group(`  - name: m\n    pathRegex: ${regex}`)));
  assert.is(compiles, 0);
  assert.equal(result.map((d) => [d.code, d.level, where(d)]), [['SMI3023', 'error', '9:16']]);
  assert.ok(result[0]!.message.length < QUOTE_LENGTH + 120, result[0]!.message);
  assert.match(result[0]!.message, `(20002 characters) is too long to check: the limit is ${MAX_REGEX_LENGTH} characters`);
  assert.is(checkRegex('/'.repeat(MAX_REGEX_LENGTH)).kind, 'too-large');
  assert.equal(checkRegex('/'.repeat(MAX_REGEX_LENGTH + 1)), { kind: 'too-long' });
});

test('no diagnostic quotes more than QUOTE_LENGTH characters of a regex (the offending text neither)', () => {
  // re2js's text for an unclosed class runs to the end of the regex.
  const regex = `/a[${'b'.repeat(900)}`;
  const [d] = lint(group(`  - name: m\n    pathRegex: "${regex}"`));
  assert.is(d!.code, 'SMI3009');
  assert.ok(!d!.message.includes('b'.repeat(QUOTE_LENGTH + 1)), d!.message);
  assert.match(d!.message, '(903 characters)');
  assert.is(quoteRegex('short'), '"short"');
  // Never half a surrogate pair.
  assert.is(quoteRegex(`${'a'.repeat(QUOTE_LENGTH - 1)}😀${'a'.repeat(10)}`), `"${'a'.repeat(QUOTE_LENGTH - 1)}…" (${QUOTE_LENGTH + 11} characters)`);
});

test('SMI3024: a regex whose RE2 program Envoy refuses by default (sizes as Envoy 1.40 reports them)', () => {
  // Envoy 1.40 `--mode validate`: 96 literal characters are a program of 100, accepted; 97 are 101, rejected.
  assert.equal(checkRegex('x'.repeat(96)), { kind: 'valid' });
  assert.equal(checkRegex('x'.repeat(97)), { kind: 'too-large', programSize: 101 });
  // Envoy: `a{100}` is 104, `(?:a{10}){10}` 104; short to read, long to run.
  assert.equal(checkRegex('a{100}'), { kind: 'too-large', programSize: 104 });
  assert.equal(checkRegex('(?:a{10}){10}'), { kind: 'too-large', programSize: 104 });
  const ds = lint(group(`  - name: m\n    pathRegex: /a{100}`));
  assert.equal(ds.map((d) => [d.code, d.level, where(d)]), [['SMI3024', 'warning', '9:16']]);
  assert.is(ds[0]!.message, 'regex "/a{100}" compiles to an RE2 program of at least 105 instructions; Envoy rejects more than 100 by default');
});

/** The offset as a compile per token prefix found it (the old, quadratic way): the reference for the bisection. */
function referenceOffset(p: string): number | undefined {
  let whole: RE2JSSyntaxException;
  try {
    RE2JS.compile(p);
    return undefined;
  } catch (e) {
    whole = e as RE2JSSyntaxException;
  }
  if (!whole.input || /^(missing closing \)|unexpected \)|trailing backslash)/.test(whole.error)) return undefined;
  for (const t of tokenize(p)) {
    try {
      RE2JS.compile(p.slice(0, t.end));
    } catch (e) {
      const err = e as RE2JSSyntaxException;
      if (err.error !== whole.error || err.input !== whole.input) continue;
      const at = p.lastIndexOf(whole.input, t.end - whole.input.length);
      return at < 0 ? t.start : at;
    }
  }
  return undefined;
}

const SEED = Number(process.env.FC_SEED ?? 20261207);

test('property: long random invalid regexes cost bounded compiles and an offset inside the regex', () => {
  fc.assert(
    fc.property(invalidRegex(600), (regex) => {
      const { result, compiles } = countingCompiles(() => checkRegex(regex));
      if (regex.length > MAX_REGEX_LENGTH) {
        assert.equal([result, compiles], [{ kind: 'too-long' }, 0]);
        return;
      }
      assert.is(result.kind, 'invalid', regex);
      if (result.kind !== 'invalid') return;
      assert.ok(compiles <= compileBound(regex), `${compiles} compiles, ${regex.length} characters`);
      assert.ok(result.offset >= 0 && result.offset < regex.length, `offset ${result.offset}`);
      assert.ok(result.detail.length <= QUOTE_LENGTH + 120, result.detail);
    }),
    { seed: SEED, numRuns: 150, endOnFailure: true },
  );
});

test('property: bisection finds the offset that a compile per prefix found', () => {
  fc.assert(
    fc.property(invalidRegex(30), (regex) => {
      const ref = referenceOffset(regex);
      if (ref === undefined) return;
      const r = isValidRe2(regex);
      assert.is(r.ok, false);
      if (r.ok) return;
      // A JavaScript construct is reported at the start of its token.
      const token = tokenize(regex).find((t) => t.start <= ref && ref < t.end);
      assert.ok(r.offset === ref || r.offset === token?.start, `${regex}: ${r.offset}, reference ${ref}`);
    }),
    { seed: SEED, numRuns: 500, endOnFailure: true },
  );
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

test('input that cannot be read again (stdin) still gets the exact column: the origin holds the text', () => {
  const ds = lint(group(`  - name: m
    pathRegex: "/api/(?=v1)"`), { file: '<stdin>' });
  assert.equal(ds.map(where), ['9:22']);
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
