import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { generateMesh } from '../../bench/generate-mesh.ts';
import type { FieldPath } from '../ir/types.ts';
import { cstDocument, locateInCst } from './locate-cst.ts';
import { locateInLines } from './locate-lines.ts';
import { findOffsets } from './locate.ts';

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

test('the CST walker answers as the Document walker does, wherever it answers', () => {
  let answered = 0;
  let declined = 0;
  let documents = 0;
  for (const [file, text] of documentTexts()) {
    for (const doc of parseAllDocuments(text)) {
      if (!('contents' in doc) || doc.errors.length > 0 || !doc.range) continue;
      documents++;
      const slice = text.slice(doc.range[0], doc.range[1]);
      const single = parseAllDocuments(slice)[0];
      if (!single || !('contents' in single)) continue;
      const cst = cstDocument(slice);
      if (!cst) {
        declined++;
        continue;
      }
      for (const path of pathsOf(single.toJS())) {
        const fast = locateInCst(cst, path);
        if (fast === undefined) {
          declined++;
          continue;
        }
        answered++;
        assert.equal(fast, findOffsets(single, single.contents, path, 0), `${file}: ${JSON.stringify(path)}`);
      }
    }
  }
  assert.ok(documents > 200, `only ${documents} documents`);
  // The walker exists to answer for ordinary manifests; most paths must not fall back.
  assert.ok(answered > 20 * declined, `answered ${answered}, declined ${declined}`);
  console.log(`  ${documents} documents: ${answered} paths answered, ${declined} declined`);
});

test('the line reader answers as the Document walker does, wherever it answers', () => {
  let answered = 0;
  let declined = 0;
  for (const [file, text] of documentTexts()) {
    for (const doc of parseAllDocuments(text)) {
      if (!('contents' in doc) || doc.errors.length > 0 || !doc.range) continue;
      // As origin.ts slices it: from the start of the document's first line.
      const start = text.lastIndexOf('\n', doc.range[0] - 1) + 1;
      const slice = text.slice(start, doc.range[1]);
      const single = parseAllDocuments(slice)[0];
      if (!single || !('contents' in single) || single.errors.length > 0) continue;
      for (const path of pathsOf(single.toJS())) {
        const fast = locateInLines(slice, path);
        if (fast === undefined) {
          declined++;
          continue;
        }
        answered++;
        assert.equal(fast, findOffsets(single, single.contents, path, 0), `${file}: ${JSON.stringify(path)}\n${slice.slice(0, 400)}`);
      }
    }
  }
  // It exists to answer for ordinary manifests.
  assert.ok(answered > 5 * declined, `answered ${answered}, declined ${declined}`);
  console.log(`  line reader: ${answered} paths answered, ${declined} declined`);
});

test('the line reader declines what it cannot be sure of', () => {
  const cases = [
    'a: [1, 2]\n',
    'a: &x 1\nb: *x\n',
    'a: |\n  text\n',
    'a:\tb\n',
    '"a": 1\n',
    'a:\nb: 1\n',
    '? a\n: 1\n',
    'a: "multi\n  line"\n',
    'true: 1\n',
  ];
  for (const text of cases) {
    const doc = parseAllDocuments(text)[0] as ReturnType<typeof parseAllDocuments>[0] & { contents: unknown };
    const answer = locateInLines(text, ['a']);
    if (answer !== undefined) assert.equal(answer, findOffsets(doc as never, doc.contents, ['a'], 0), text);
  }
  assert.is(locateInLines('a: [1, 2]\n', ['a', 0]), undefined);
  assert.is(locateInLines('a: |\n  text\n', ['a']), undefined);
  assert.is(locateInLines('a:\nb: 1\n', ['a']), undefined);
});

test('edge shapes agree with the Document walker: empty values, block scalars, comments, nested sequences', () => {
  const texts = [
    'a:\nb: 1\n',
    'a: # note\n  b: |\n    text\n  c: >-\n    folded\n',
    'l:\n- - 1\n  - 2\n- []\n- {}\n-\n- x\n',
    'm: {a: , b: [1, 2], "c": {d: e}}\n',
    'p: a long\n  plain scalar\nq: "quoted \\" key"\n',
    "'single ''quoted''': 1\n",
  ];
  for (const text of texts) {
    const single = parseAllDocuments(text)[0];
    const cst = cstDocument(text);
    assert.ok(cst && 'contents' in single, text);
    for (const path of pathsOf(single.toJS())) {
      const fast = locateInCst(cst, path);
      if (fast !== undefined) assert.equal(fast, findOffsets(single, single.contents, path, 0), `${JSON.stringify(text)} ${JSON.stringify(path)}`);
    }
  }
});

test('what it cannot be sure of, it declines', () => {
  const locate = (text: string, path: FieldPath) => {
    const doc = cstDocument(text);
    return doc && locateInCst(doc, path);
  };
  assert.is(locate('a: &x {b: 1}\nc: *x\n', ['c', 'b']), undefined);
  assert.is(locate('!!map {a: 1}\n', ['a']), undefined);
  assert.is(locate('? a\n: 1\n', ['a']), undefined);
  assert.is(locate('0x10: a\n', ['16']), undefined);
  assert.is(locate('true: a\n', ['true']), undefined);
  assert.is(locate('a: 1\n---\nb: 2\n', ['b']), undefined);
  assert.equal(locate('a:\n  "b c": [1, {d: 2}]\n', ['a', 'b c', 1, 'd']), { value: 20, key: 17 });
});

test.run();
