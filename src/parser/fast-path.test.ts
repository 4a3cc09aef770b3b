/**
 * The parser loads clean documents with js-yaml and everything else with `yaml`. These tests
 * hold the two paths to the same answer: a trailing `...` marker makes parseSources take
 * the `yaml` path for a whole file (see split.ts) without moving any line, so every value,
 * position and diagnostic can be compared.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh } from '../../bench/generate-mesh.ts';
import { DiagnosticBag, formatDiagnostic } from '../diagnostics/diagnostic.ts';
import type { FieldPath } from '../shared/position.ts';
import { fastLoad } from './fast-load.ts';
import { positionOf } from './origin.ts';
import { parseSources } from './parse.ts';
import { readInputs } from './read-inputs.ts';
import type { SourceFile } from './source.ts';
import { splitDocuments } from './split.ts';

function leafPaths(value: unknown, prefix: FieldPath = [], out: FieldPath[] = []): FieldPath[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => leafPaths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) leafPaths(v, [...prefix, k], out);
  return out;
}

/** Parses `files` both ways and asserts the same documents, values, positions and diagnostics. */
function assertPathsAgree(files: SourceFile[], maxPathsPerDoc = Infinity): number {
  const fastBag = new DiagnosticBag();
  const slowBag = new DiagnosticBag();
  const fast = parseSources(files, fastBag);
  const slow = parseSources(files.map((f) => ({ path: f.path, text: `${f.text.replace(/\n?$/, '\n')}...\n` })), slowBag);
  assert.equal(fastBag.items.map(formatDiagnostic), slowBag.items.map(formatDiagnostic));
  assert.is(fast.length, slow.length);
  let compared = 0;
  fast.forEach((f, i) => {
    const s = slow[i];
    assert.equal([f.file, f.index, f.apiVersion, f.kind], [s.file, s.index, s.apiVersion, s.kind]);
    assert.equal(f.value, s.value);
    assert.equal(positionOf(f.origin), positionOf(s.origin), `${f.file} #${f.index} root`);
    for (const path of leafPaths(f.value).slice(0, maxPathsPerDoc)) {
      assert.equal(positionOf(f.origin, path), positionOf(s.origin, path), `${f.file} #${f.index} ${JSON.stringify(path)}`);
      compared++;
    }
  });
  return compared;
}

test('fast and yaml paths agree on every field of the OSM samples', () => {
  const bag = new DiagnosticBag();
  const files = readInputs([new URL('./testdata/osm-docs', import.meta.url).pathname], bag);
  assert.ok(assertPathsAgree(files) > 500);
});

test('fast and yaml paths agree on a generated mesh', () => {
  const mesh = generateMesh({ services: 12, permissive: true, seed: 7 });
  assert.ok(assertPathsAgree(mesh.files.map((f) => ({ path: f.path, text: f.text })), 30) > 500);
});

test('fast and yaml paths agree on awkward but valid YAML', () => {
  const text = [
    '# leading comment',
    '--- # marker with a comment',
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    '  name: "quoted-name"',
    "  namespace: 'single'",
    '  annotations:',
    '    note: |',
    '      a block scalar with',
    '      --- not a marker, indented',
    '    folded: >-',
    '      folded',
    '      text',
    '    "key with: colon": x',
    'spec: {ports: [{port: 80, name: http-web}, {port: 81,',
    '  name: tcp-x}], selector: {app: web}}',
    '---',
    '',
    '---',
    'apiVersion: v1',
    'kind: ServiceAccount',
    'metadata: &meta {name: with-anchor}',
    '---',
    'apiVersion: v1',
    'kind: ServiceAccount',
    'metadata: {name: a, labels: {x: &v value, y: *v}}',
    '--- {apiVersion: v1, kind: Namespace, metadata: {name: flow-root}}',
    '---',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: {name: unknown-kind}',
    '---',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata: {name: [bad]}',
  ].join('\n');
  assertPathsAgree([{ path: 'awkward.yaml', text }]);
  assertPathsAgree([{ path: 'crlf.yaml', text: text.replace(/\n/g, '\r\n') }]);
});

test('fast and yaml paths agree on broken YAML (the fast path hands it over)', () => {
  for (const text of [
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\nkind: [\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: after}\n',
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n',
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: !custom a\n',
  ]) {
    assertPathsAgree([{ path: 'broken.yaml', text }]);
  }
});

test('documents split on --- lines only', () => {
  const text = 'a: 1\n---\nb: |\n  ---\n---x: 1\n--- \n';
  assert.equal(splitDocuments(text), [
    { start: 0, end: 5, startLine: 1, marker: false },
    { start: 5, end: 28, startLine: 2, marker: true },
    { start: 28, end: 33, startLine: 6, marker: true },
  ]);
  assert.is(splitDocuments('%YAML 1.2\n---\na: 1\n'), undefined);
  assert.is(splitDocuments('a: 1\n...\n'), undefined);
});

test('the fast path declines what it cannot do exactly like yaml', () => {
  assert.equal(fastLoad('a: 1\nb: [x]\n', 100), { value: { a: 1, b: ['x'] } });
  assert.is(fastLoad('a: &x [1]\nb: *x\n', 100), undefined, 'aliases');
  assert.is(fastLoad('a: 1\na: 2\n', 100), undefined, 'duplicate keys');
  assert.is(fastLoad('a: !custom 1\n', 100), undefined, 'unknown tags');
  assert.is(fastLoad('a: 0b101\n', 100), undefined, 'YAML 1.1 binary integers');
  assert.is(fastLoad('a: [[[[1]]]]\n', 3), undefined, 'depth');
  assert.equal(fastLoad('date: 2024-01-01\nmerge: {<<: {a: 1}}\n', 100), { value: { date: '2024-01-01', merge: { '<<': { a: 1 } } } });
});

test.run();
