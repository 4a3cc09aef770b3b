/** A parsed document's strings keep nothing else alive, and a file's equal strings are one. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadDocuments, type LoadedDocument } from './documents.ts';
import { OwnedStrings } from './owned-strings.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function load(text: string): LoadedDocument[] {
  const docs: LoadedDocument[] = [];
  loadDocuments({ path: 'f.yaml', text }, { report: () => {} }, (doc) => docs.push(doc));
  return docs;
}

/** Heap still used after keeping only what `keep` returns of a document with 4 MB of other text. */
function heldBytes(text: (filler: string) => string, keep: (docs: LoadedDocument[]) => unknown): { held: number; kept: unknown } {
  load(text('# warm-up: the loaders\' code and caches are made on first use'));
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = keep(load(text(`# ${'x'.repeat(4_000_000)}`)));
  // The last successful regex match keeps its subject (the loader tests documents with a few).
  /y/.test('y');
  gc();
  return { held: process.memoryUsage().heapUsed - before, kept };
}

test('a long scalar kept from a document does not keep the document text (either loader)', () => {
  const name = 'a-name-long-enough-to-be-a-slice';
  const fast = (filler: string): string => `kind: Service\nmetadata:\n  name: ${name}\n${filler}\n`;
  // A trailing `...` makes the file go through `yaml` instead of js-yaml (split.ts).
  const slow = (filler: string): string => `${fast(filler)}...\n`;
  for (const text of [fast, slow]) {
    const { held, kept } = heldBytes(text, (docs) => (docs[0].value as { metadata: { name: string } }).metadata.name);
    assert.is(kept, name);
    assert.ok(held < 1_000_000, `${held} bytes held for one ${name.length}-character string`);
  }
});

test('values, keys, nesting and __proto__ come through unchanged', () => {
  const text = 'kind: ConfigMap\ndata:\n  __proto__: not-a-prototype-just-a-key\n  list: [a, "b", 1, true, null, {x: a-longer-string-value}]\n';
  const [doc] = load(text);
  const value = doc.value as { data: Record<string, unknown> };
  assert.equal(value, { kind: 'ConfigMap', data: JSON.parse('{"__proto__":"not-a-prototype-just-a-key","list":["a","b",1,true,null,{"x":"a-longer-string-value"}]}') });
  assert.is(Object.getPrototypeOf(value.data), Object.prototype);
  assert.ok(Object.hasOwn(value.data, '__proto__'));
});

test('objects and arrays are the loader\'s own, edited in place', () => {
  const list = ['same-long-string-value', 'x'];
  const record = { a: list, b: 'same-long-string-value' };
  assert.is(new OwnedStrings().values(record), record);
  assert.is(record.a, list);
  assert.equal(record, { a: ['same-long-string-value', 'x'], b: 'same-long-string-value' });
});

test.run();
