import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTree, type OutputTree } from './output-tree.ts';
import { diffTrees, GoldenComparison } from './tree-diff.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-tree-diff-'));
let n = 0;
const fresh = (): string => join(root, `case-${n++}`);

/** The streaming comparison, fed the tree in path order, must say what diffTrees says. */
function streamed(golden: OutputTree, actual: OutputTree): ReturnType<typeof diffTrees> {
  const dir = fresh();
  writeTree(golden, dir);
  const found: ReturnType<typeof diffTrees> = [];
  const cmp = new GoldenComparison(dir, (d) => found.push(d));
  for (const [file, content] of [...actual].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) cmp.add(file, content);
  // What it keeps of them is their file and kind; the patches went to the callback only.
  assert.equal(cmp.finish(), found.map(({ file, kind }) => ({ file, kind })));
  return found;
}

test('GoldenComparison: the same differences as diffTrees (changed, missing, unexpected), in path order', () => {
  const golden: OutputTree = new Map([
    ['a/b/x.yaml', 'same\n'],
    ['a/b-c/x.yaml', 'gone\n'], // `a/b-c/` sorts before `a/b/`: a directory sort would get this wrong
    ['a/b/y.yaml', 'old\nline\n'],
    ['z/last/x.yaml', 'gone too\n'],
  ]);
  const actual: OutputTree = new Map([
    ['a/b/x.yaml', 'same\n'],
    ['a/b/y.yaml', 'new\nline\n'],
    ['a/a/x.yaml', 'added\n'],
  ]);
  const expected = diffTrees(golden, actual);
  assert.equal(expected.map((d) => [d.file, d.kind]), [
    ['a/a/x.yaml', 'unexpected'],
    ['a/b-c/x.yaml', 'missing'],
    ['a/b/y.yaml', 'changed'],
    ['z/last/x.yaml', 'missing'],
  ]);
  assert.equal(streamed(golden, actual), expected);
  assert.equal(streamed(new Map(), actual), diffTrees(new Map(), actual), 'no golden directory at all');
  assert.equal(streamed(actual, actual), []);
});

test('GoldenComparison refuses files out of path order', () => {
  const cmp = new GoldenComparison(fresh());
  cmp.add('a/b/y.yaml', '');
  assert.throws(() => cmp.add('a/b/x.yaml', ''), /path order/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
