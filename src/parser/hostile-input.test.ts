/**
 * Hostile and half-written input: each case is a diagnostic with the exact file, line and
 * column, never an exception, a hang or an exhausted heap. (Size and encoding of whole files
 * are in read-inputs.test.ts; the CLI's view of them in test/hardening/.)
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { MAX_ALIAS_COUNT, MAX_ERRORS_PER_FILE, MAX_SCAN_DEPTH } from './documents.ts';
import { nestingBeyond } from './nesting.ts';
import { parseSources, type ManifestDocument } from './parse.ts';
import { readInputs } from './read-inputs.ts';

function parse(text: string, path = 'h.yaml'): { docs: ManifestDocument[]; diags: Diagnostic[] } {
  const bag = new DiagnosticBag();
  const docs = parseSources([{ path, text }], bag);
  return { docs, diags: bag.items };
}

const where = (diags: Diagnostic[]) => diags.map((d) => `${d.source?.file}:${d.source?.line}:${d.source?.column} ${d.code}`);
const NS = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n';

// ── aliases ─────────────────────────────────────────────────────────────────

test('billion laughs (9 levels of 9 aliases) is SMI1015 at the first alias, stopped at the alias limit', () => {
  const names = 'abcdefghi';
  const lines = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]`);
  const { docs, diags } = parse(NS + lines.join('\n') + '\n');
  assert.equal(where(diags), ['h.yaml:5:8 SMI1015']);
  // The expansion (9^9 nodes) stopped at the limit, and nothing of it was kept.
  assert.match(diags[0].message, String(MAX_ALIAS_COUNT));
  assert.is(docs.length, 0);
});

test('an alias that contains itself is SMI1016, not an endless structure', () => {
  const { diags } = parse('apiVersion: v1\nkind: Namespace\nmetadata: &m {name: a, self: *m}\n');
  assert.equal(where(diags), ['h.yaml:1:1 SMI1016']);
});

// ── depth ───────────────────────────────────────────────────────────────────

test('a megabyte of [ is SMI1016 where the nesting passes the scan limit, before any YAML library sees it', () => {
  const { docs, diags } = parse(NS + 'x: ' + '['.repeat(1_000_000) + ']'.repeat(1_000_000) + '\n');
  // Column 1003: `x: ` then the 1000th bracket (MAX_SCAN_DEPTH), on line 4: the scan stopped there.
  assert.equal(where(diags), ['h.yaml:4:1003 SMI1016']);
  assert.is(MAX_SCAN_DEPTH, 1000);
  assert.is(docs.length, 0);
});

test('deep block nesting and compact `- - -` sequences are SMI1016 too; the next document survives', () => {
  const block = 'x:\n' + Array.from({ length: 150 }, (_, i) => `${' '.repeat(i + 1)}k:\n`).join('');
  const compact = '- '.repeat(5000) + 'a\n';
  const { docs, diags } = parse(`${NS}${block}---\n${compact}---\n${NS}`);
  assert.equal(where(diags), ['h.yaml:1:1 SMI1016', 'h.yaml:156:2001 SMI1016']);
  assert.is(docs.length, 1);
});

test('the nesting scan ignores brackets in quotes, comments, block scalars and plain scalars', () => {
  const text = 'a: "[[[[[["\nb: \'{{{{\'\nc: /api/[a-z]+ # [[[[\nd: |\n  [[[[[[\n  {{{{{{\ne: [x, [y, {z: [w]}]]\n';
  assert.is(nestingBeyond(text, 5), -1); // root map, e's list, its list, the map in it, the list in that
  assert.is(nestingBeyond(text, 4), text.indexOf('[w]'));
});

// ── empty input ─────────────────────────────────────────────────────────────

test('an empty file, or one of only comments, is a SMI1020 warning at line 1', () => {
  const bag = new DiagnosticBag();
  parseSources([{ path: 'empty.yaml', text: '' }, { path: 'comments.yaml', text: '# TODO\n\n# later\n' }, { path: 'json.json', text: '  \n' }], bag);
  assert.equal(where(bag.items), ['empty.yaml:1:1 SMI1020', 'comments.yaml:1:1 SMI1020', 'json.json:1:1 SMI1020']);
  assert.ok(bag.items.every((d) => d.level === 'warning'));
});

test('a run of empty documents is one SMI1018 at its first; a file of only `---` is not also SMI1020', () => {
  const { diags } = parse(`${NS}---\n---\n---\n${NS}---\n`);
  assert.equal(where(diags), ['h.yaml:4:1 SMI1018', 'h.yaml:10:1 SMI1018']);
  assert.equal(where(parse('---\n'.repeat(100_000)).diags), ['h.yaml:1:1 SMI1018']);
});

// ── duplicate keys, tags, merge keys ────────────────────────────────────────

test('a duplicate key in JSON is SMI1011 at the second key, named without its quotes', () => {
  const { diags } = parse('{"apiVersion": "v1", "kind": "Namespace",\n "metadata": {"name": "a", "name": "b"}}\n', 'd.json');
  assert.equal(where(diags), ['d.json:2:28 SMI1011']);
  assert.is(diags[0].message, 'duplicate key name');
});

test('YAML 1.1 tags (!!binary, !!set, !!timestamp, !!omap) are SMI1017 warnings at the tag; !!str is fine', () => {
  const { docs, diags } = parse(
    `${NS}x1: !!binary aGVsbG8=\nx2: !!set {a, b}\nx3: !!timestamp 2001-12-14\nx4: !!omap [a: 1]\nx5: !!str 5\nx6: &anchor !!set {c}\n`,
  );
  assert.equal(where(diags), ['h.yaml:4:5 SMI1017', 'h.yaml:5:5 SMI1017', 'h.yaml:6:5 SMI1017', 'h.yaml:7:5 SMI1017', 'h.yaml:9:13 SMI1017']);
  assert.match(diags[1].message, 'tag !!set');
  assert.is(docs.length, 1);
});

test('a merge key is a SMI1017 warning at <<, and is merged as kubectl merges it', () => {
  const { docs, diags } = parse('apiVersion: v1\nkind: Namespace\nbase: &b {name: a, labels: {x: y}}\nmetadata:\n  <<: *b\n  annotations: {k: v}\n');
  assert.equal(where(diags), ['h.yaml:5:3 SMI1017']);
  assert.match(diags[0].message, 'merge key <<');
  assert.equal(docs[0].value.metadata, { name: 'a', labels: { x: 'y' }, annotations: { k: 'v' } });
  // Without an alias (so js-yaml's fast path would otherwise take it), the same.
  const inline = parse('apiVersion: v1\nkind: Namespace\nmetadata:\n  <<: {name: b}\n');
  assert.equal(where(inline.diags), ['h.yaml:4:3 SMI1017']);
  assert.equal(inline.docs[0].value.metadata, { name: 'b' });
});

// ── floods ──────────────────────────────────────────────────────────────────

test(`past ${MAX_ERRORS_PER_FILE} errors a file is SMI1021 and the rest of it is skipped; other files go on`, () => {
  const bag = new DiagnosticBag();
  const docs = parseSources([{ path: 'junk.yaml', text: '---\nx\n'.repeat(50_000) }, { path: 'ok.yaml', text: NS }], bag);
  const codes = bag.items.map((d) => d.code);
  assert.is(codes.filter((c) => c === 'SMI1010').length, MAX_ERRORS_PER_FILE);
  assert.equal(where(bag.items.filter((d) => d.code === 'SMI1021')), [`junk.yaml:${2 * MAX_ERRORS_PER_FILE + 2}:1 SMI1021`]);
  assert.is(docs.length, 1);
});

// ── encodings through readInputs ────────────────────────────────────────────

test('standard input is held to the size limit and to UTF-8 like a file', () => {
  const bag = new DiagnosticBag();
  readInputs(['-'], bag, { stdin: () => Buffer.from([0x61, 0x3a, 0x20, 0xff, 0x0a]) });
  readInputs(['-'], bag, { stdin: (max) => Buffer.alloc(max, 0x20), maxFileSize: 10 });
  assert.equal(where(bag.items), ['<stdin>:1:4 SMI1013', '<stdin>:1:1 SMI1014']);
  assert.is(bag.items[1].message, 'file is more than 10 bytes, over the limit of 10 bytes');
});

test('a manifest that exists but cannot be read (a symlink loop) is SMI1009; a dangling symlink is skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-hostile-'));
  try {
    writeFileSync(join(dir, 'ok.yaml'), NS);
    symlinkSync(join(dir, 'loop.yaml'), join(dir, 'loop.yaml'));
    symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'dangling.yaml'));
    const bag = new DiagnosticBag();
    const files = readInputs([dir, join(dir, 'gone')], bag);
    assert.equal(files.map((f) => f.path), [join(dir, 'ok.yaml')]);
    assert.equal(bag.items.map((d) => d.message), [
      `cannot read ${join(dir, 'loop.yaml')}: too many levels of symbolic links`,
      `cannot read ${join(dir, 'gone')}: no such file or directory`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
