import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { buildMesh } from '../ir/build/index.ts';
import type { HttpMatch } from '../ir/types.ts';
import { parseSources } from '../parser/parse.ts';
import { covers, validateHttpMatches } from './validate-http-matches.ts';
import { validateRegexes } from './validate-regex.ts';

function lint(text: string): Diagnostic[] {
  const parsed = new DiagnosticBag();
  const mesh = buildMesh(parseSources([{ path: 'routes.yaml', text }], parsed), parsed, {});
  assert.equal(parsed.items, [], 'fixture parses cleanly');
  const bag = new DiagnosticBag();
  validateHttpMatches(mesh, bag);
  return bag.items;
}

const brief = (d: Diagnostic) => `${d.code} ${d.level} ${d.source?.line}:${d.source?.column} ${d.message}`;

const group = (matches: string, name = 'api') => `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: ${name}
  namespace: shop
spec:
  matches:
${matches}`;

const target = (name: string, matchNames?: string[]) => `
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: ${name}, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api, namespace: shop}
  rules:
  - kind: HTTPRouteGroup
    name: api${matchNames ? `\n    matches: [${matchNames.join(', ')}]` : ''}
  sources:
  - {kind: ServiceAccount, name: web, namespace: shop}
`;

// ── SMI3005 / SMI3011 ───────────────────────────────────────────────────────

test('SMI3005: a group with no matches, at its (empty) match list', () => {
  const v1alpha4 = group('').replace('  matches:\n', '  matches: []\n');
  assert.equal(lint(v1alpha4).map(brief), ['SMI3005 warning 7:12 HTTPRouteGroup shop/api has no matches']);
  const v1alpha1 = `apiVersion: specs.smi-spec.io/v1alpha1
kind: HTTPRouteGroup
metadata: {name: old}
matches: []
`;
  assert.equal(lint(v1alpha1).map(brief), ['SMI3005 warning 4:10 HTTPRouteGroup default/old has no matches']);
});

test('SMI3011: an empty method list, at the methods node; no shadowing claim on top', () => {
  const ds = lint(
    group(`  - name: none
    pathRegex: /a
    methods: []
  - name: none-again
    pathRegex: /a
    methods: []`),
  );
  assert.equal(ds.map(brief), [
    'SMI3011 warning 10:14 match none of shop/api has an empty method list and matches no request',
    'SMI3011 warning 13:14 match none-again of shop/api has an empty method list and matches no request',
  ]);
});

// ── SMI3010 ─────────────────────────────────────────────────────────────────

test('SMI3010: an earlier match without path, headers or methods takes everything', () => {
  const ds = lint(
    group(`  - name: everything
  - name: books
    pathRegex: /books
    methods: [GET]`),
  );
  assert.equal(ds.map(brief), ['SMI3010 warning 9:5 match books of shop/api can never be reached: everything matches first']);
});

test('SMI3010: identical path, methods and headers', () => {
  const ds = lint(
    group(`  - name: first
    pathRegex: /books
    methods: [GET, POST]
    headers:
    - user-agent: curl.*
  - name: copy
    pathRegex: /books
    methods: [POST]
    headers:
    - User-Agent: curl.*
    - x-extra: "1"`),
  );
  assert.equal(ds.map(brief), ['SMI3010 warning 13:5 match copy of shop/api can never be reached: first matches first']);
});

test('SMI3010: an earlier .* catch-all with any method, reported once against the first', () => {
  const ds = lint(
    group(`  - name: all
    pathRegex: .*
    methods: ["*"]
  - name: all-again
    pathRegex: ^.*$
  - name: books
    pathRegex: /books
    headers:
    - host: books.example`),
  );
  assert.equal(ds.map(brief), [
    'SMI3010 warning 11:5 match all-again of shop/api can never be reached: all matches first',
    'SMI3010 warning 13:5 match books of shop/api can never be reached: all matches first',
  ]);
});

test('no SMI3010 for what is not provable', () => {
  const ds = lint(
    group(`  - name: prefix
    pathRegex: /books.*
  - name: narrower-but-different-regex
    pathRegex: /books/1
  - name: get-only
    pathRegex: /a
    methods: [GET]
  - name: more-methods
    pathRegex: /a
    methods: [GET, PUT]
  - name: any-method
    pathRegex: /a
  - name: with-header
    pathRegex: /h
    headers:
    - x-user: alice
  - name: other-header-value
    pathRegex: /h
    headers:
    - x-user: bob
  - name: without-header
    pathRegex: /h
  - name: none
    methods: []
  - name: after-empty-methods
    pathRegex: /z`),
  );
  // `prefix` does take every /books/1 request, but proving regex inclusion is out of scope:
  // only identical regexes and literal catch-alls count.
  assert.equal(ds.map(brief), ['SMI3011 warning 31:14 match none of shop/api has an empty method list and matches no request']);
});

test('specific before general is fine; general before specific is reported', () => {
  const ds = lint(
    group(`  - name: any-method
    pathRegex: /a
  - name: get
    pathRegex: /a
    methods: [GET, PUT]
  - name: without-header
    pathRegex: /h
  - name: with-header
    pathRegex: /h
    headers:
    - x-user: bob`),
  );
  assert.equal(ds.map(brief), [
    'SMI3010 warning 10:5 match get of shop/api can never be reached: any-method matches first',
    'SMI3010 warning 15:5 match with-header of shop/api can never be reached: without-header matches first',
  ]);
});

test('a TrafficTarget that admits the later match without the earlier one is an escape', () => {
  const routes = group(`  - name: all
  - name: books
    pathRegex: /books`);
  const shadowed = 'SMI3010 warning 9:5 match books of shop/api can never be reached: all matches first';
  assert.equal(lint(routes + target('both')).map(brief), [shadowed]);
  assert.equal(lint(routes + target('both-by-name', ['all', 'books'])).map(brief), [shadowed]);
  assert.equal(lint(routes + target('only-books', ['books'])).map(brief), []);
  // A TrafficTarget in another namespace looks for a route group of that name there.
  const elsewhere = target('only-books', ['books']).replace('namespace: shop}', 'namespace: other}');
  assert.equal(lint(routes + elsewhere).map(brief), [shadowed]);
});

test('covers(): header implication and catch-all header values', () => {
  const m = (over: Partial<HttpMatch>): HttpMatch => ({ name: 'm', headers: [], path: [], ...over });
  const h = (name: string, value: string) => ({ name, value, path: [] });
  assert.ok(covers(m({ headers: [h('x-a', '.*')] }), m({ headers: [h('X-A', 'v1')] })));
  assert.not.ok(covers(m({ headers: [h('x-a', '.*')] }), m({})), 'the later match need not send the header');
  assert.ok(covers(m({ headers: [h('host', 'a')] }), m({ headers: [h(':authority', 'a')] })));
  assert.not.ok(covers(m({ pathRegex: '' }), m({ pathRegex: '/a' })), 'an empty regex matches only the empty path');
  assert.ok(covers(m({}), m({ pathRegex: '.*' })));
});

test('the OSM documentation samples raise no match or regex findings', () => {
  const root = new URL('../parser/testdata/osm-docs/', import.meta.url).pathname;
  const files: { path: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) files.push({ path: p, text: readFileSync(p, 'utf8') });
    }
  };
  walk(root);
  const parsed = new DiagnosticBag();
  const mesh = buildMesh(parseSources(files, parsed), parsed, {});
  assert.ok(mesh.httpRouteGroups.length >= 3, 'the samples have route groups');
  const bag = new DiagnosticBag();
  validateHttpMatches(mesh, bag);
  validateRegexes(mesh, bag);
  assert.equal(bag.items, []);
});

test.run();
