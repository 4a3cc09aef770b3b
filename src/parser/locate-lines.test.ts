import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { generateMesh } from '../../bench/generate-mesh.ts';
import type { FieldPath } from '../shared/position.ts';
import { offsetsInLines, readLines } from './locate-lines.ts';
import { findOffsets } from './locate.ts';
import { locateInDocument } from './origin.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function yamlFilesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yamlFilesUnder(path, out);
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

/** Every path into `value`, and for each container one child that is not there. */
function pathsOf(value: unknown, prefix: FieldPath = [], out: FieldPath[] = []): FieldPath[] {
  out.push(prefix);
  if (Array.isArray(value)) {
    value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
    out.push([...prefix, value.length], [...prefix, 'x']);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
    out.push([...prefix, 'no-such-field'], [...prefix, 0]);
  } else {
    out.push([...prefix, 'below-a-scalar']);
  }
  return out;
}

function* documentTexts(): Generator<[string, string]> {
  const files = [
    ...yamlFilesUnder(join(ROOT, 'fixtures')),
    ...yamlFilesUnder(join(ROOT, 'test', 'diagnostics')),
    ...yamlFilesUnder(join(ROOT, 'src', 'parser', 'testdata', 'osm-docs')), // OSM's docs samples, copied with their license
  ];
  for (const file of files) yield [file, readFileSync(file, 'utf8')];
  for (const f of generateMesh({ services: 40, permissive: false }).files) yield [f.path, f.text];
}

test('the line reader answers as the Document walker does, on every path of every document it reads', () => {
  let read = 0;
  let declined = 0;
  let paths = 0;
  for (const [file, text] of documentTexts()) {
    for (const doc of parseAllDocuments(text)) {
      if (!('contents' in doc) || doc.errors.length > 0 || !doc.range) continue;
      // As the parser slices it: from the start of the document's first line.
      const start = text.lastIndexOf('\n', doc.range[0] - 1) + 1;
      const slice = text.slice(start, doc.range[1]);
      const single = parseAllDocuments(slice)[0];
      if (!single || !('contents' in single) || single.errors.length > 0) continue;
      const lines = readLines(slice);
      if (!lines) {
        declined++;
        continue;
      }
      read++;
      for (const path of pathsOf(single.toJS())) {
        paths++;
        assert.equal(offsetsInLines(lines, path), findOffsets(single, single.contents, path, 0), `${file}: ${JSON.stringify(path)}\n${slice.slice(0, 400)}`);
      }
    }
  }
  // It exists to read ordinary manifests: the Document is for what they rarely hold (anchors, block scalars, tags).
  assert.ok(read > 20 * declined, `read ${read}, declined ${declined}`);
  console.log(`  line reader: ${read} documents read (${paths} paths), ${declined} left to the Document`);
});

test('the line reader reads every document of a generated mesh', () => {
  for (const f of generateMesh({ services: 40, permissive: true }).files) {
    for (const doc of parseAllDocuments(f.text)) {
      if (!doc.range) continue;
      const start = f.text.lastIndexOf('\n', doc.range[0] - 1) + 1;
      assert.ok(readLines(f.text.slice(start, doc.range[1])), `${f.path} at ${start}`);
    }
  }
});

test('the line reader declines what it cannot be sure of', () => {
  const cases = [
    'a: [1, [2], ]\n',
    'a: {b: {c}}\n',
    'a: b: c\n',
    'a: [x, ]\n',
    'a: [b # c\n  ]\n',
    'a: {url: http://x}\n',
    '"a\\"b": 1\n',
    "'it''s': 1\n",
    'a: &x 1\nb: *x\n',
    'a: |\n  text\n',
    'a:\tb\n',
    'a:\nb: 1\n',
    '? a\n: 1\n',
    'a: "multi\n  line"\n',
    'true: 1\n',
    '0x10: a\n',
    '!!map {a: 1}\n',
  ];
  for (const text of cases) assert.is(readLines(text), undefined, text);
});

test('flow collections of scalars and quoted keys are read as the Document reads them', () => {
  const text = [
    'a: {}',
    'b: []',
    'c:',
    '- {}',
    '- [ ]',
    'command: ["/bookstore", --port, \'14001\', "x, y"]  # a comment',
    'm: {name: web, "user-agent": \'.*curl.*\', \'k\':v, port: 80}',
    '"x-client": app',
    "'single': [-1, a-b, /p]",
    'l:',
    '- "quoted": [a]',
    '  b: {c: d}',
    'ports: [{name: http, port: 80, targetPort: 8080}, {name: tcp-db, port: 5432}]',
    'nested: {a: [1, [2, {b: c}]], "d": {e: f}}',
    'weight: -10',
    'appProtocol: tcp # required for TCP based routing',
    'args: --port # then a comment',
    'status: {}',
  ].join('\n') + '\n';
  const single = parseAllDocuments(text)[0];
  const lines = readLines(text);
  assert.ok(lines && 'contents' in single);
  for (const path of pathsOf(single.toJS())) assert.equal(offsetsInLines(lines, path), findOffsets(single, single.contents, path, 0), JSON.stringify(path));
});

test('edge shapes are found as the Document walker finds them, whichever reader the document gets', () => {
  const texts = [
    'a:\nb: 1\n',
    'a: # note\n  b: |\n    text\n  c: >-\n    folded\n',
    'l:\n- - 1\n  - 2\n- []\n- {}\n-\n- x\n',
    'm: {a: , b: [1, 2], "c": {d: e}}\n',
    'p: a long\n  plain scalar\nq: "quoted \\" key"\n',
    "'single ''quoted''': 1\n",
    'a:\n  "b c": [1, {d: 2}]\n',
    'a: &x {b: 1}\nc: *x\n',
    'a:\n  b: 1\n  c:\n  - d: 2\n    e: [x]\n',
    '"a": 1\nb: \'it\'\'s\' # c\nc: [x, "y, z", \'#\']\nd: {"k":v, \'l\' : w}\ne: x #c\nf: "g" #c\nh:\n- -1\n- --x\n',
    'a: [1, [2], ]\nb: {c: {d}}\n',
    'k: [a #b\n  , c]\n',
    'k: {a: [1, {b: [2, 3]}]}\nl: [{}, [], {m: []}]\n',
    'k: [a, b]: c\n',
    'url: http://x # y\nq: a#b\n',
  ];
  for (const text of texts) {
    const single = parseAllDocuments(text)[0];
    assert.ok('contents' in single, text);
    const lineAndColumn = (offset: number) => {
      const before = text.slice(0, offset);
      return { file: 't.yaml', line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
    };
    for (const path of pathsOf(single.toJS())) {
      const expected = findOffsets(single, single.contents, path, 0);
      const found = locateInDocument('t.yaml', text, 1, path);
      assert.equal(found.value, lineAndColumn(expected.value), `${JSON.stringify(text)} ${JSON.stringify(path)}`);
      assert.equal(found.key, expected.key === undefined ? undefined : lineAndColumn(expected.key), `${JSON.stringify(text)} ${JSON.stringify(path)} key`);
    }
  }
});

test.run();
