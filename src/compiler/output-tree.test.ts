import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from './compile.ts';
import { diffTrees, GoldenComparison, MANIFEST_FILE, OutputTreeError, readTree, renderProxy, renderTree, StagedTree, treeFiles, writeTree, type OutputTree } from './output-tree.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-output-tree-'));
let n = 0;
const fresh = (): string => join(root, `case-${n++}`);
const hidden = (dir: string): string[] => readdirSync(join(dir, '..')).filter((f) => f.startsWith('.'));

const bookstore = compilePaths(['fixtures/bookstore']).proxies;

test('renderProxy: one proxy\'s six files, in path order; renderTree is them all', () => {
  const files = renderProxy(bookstore[0], 'yaml');
  const dir = `${bookstore[0].namespace}/${bookstore[0].workload}`;
  assert.equal(
    files.map(([f]) => f),
    ['bootstrap', 'clusters', 'endpoints', 'listeners', 'routes', 'secrets'].map((k) => `${dir}/${k}.yaml`),
  );
  const tree = renderTree(bookstore, 'json');
  assert.equal([...tree], bookstore.flatMap((p) => renderProxy(p, 'json')).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
});

test('StagedTree: nothing at the target until commit; commit replaces the old tree whole', () => {
  const out = fresh();
  writeTree(new Map([['a/old/x.yaml', 'old\n']]), out);
  const staged = new StagedTree(out);
  staged.write('ns/w/listeners.yaml', 'one\n');
  staged.write('ns/w/listeners.yaml', 'two!\n'); // written twice: the last wins, counted once
  staged.write('ns/v/tls.key', 'key\n', 0o600);
  assert.equal(readTree(out), new Map([['a/old/x.yaml', 'old\n']]), 'the old tree is untouched while staging');
  assert.equal(staged.commit(), { files: 2, bytes: 9 });
  assert.equal(readTree(out), new Map([['ns/v/tls.key', 'key\n'], ['ns/w/listeners.yaml', 'two!\n']]));
  assert.equal(hidden(out), [], 'no staging or retired directory left');
});

test('StagedTree.abort: the staging directory goes, the old tree stays', () => {
  const out = fresh();
  writeTree(new Map([['a/old/x.yaml', 'old\n']]), out);
  const staged = new StagedTree(out);
  staged.write('ns/w/listeners.yaml', 'new\n');
  assert.ok(existsSync(staged.staging));
  staged.abort();
  staged.abort();
  assert.not.ok(existsSync(staged.staging));
  assert.equal(readTree(out), new Map([['a/old/x.yaml', 'old\n']]));
  assert.throws(() => staged.write('ns/w/x.yaml', ''), /aborted/);
});

test('StagedTree.abort: parent directories it made for -o are removed again; ones that existed or hold something else stay', () => {
  const base = fresh();
  mkdirSync(base);
  const staged = new StagedTree(join(base, 'new', 'deeper', 'out'));
  staged.write('ns/w/listeners.yaml', 'x\n');
  staged.abort();
  assert.equal(readdirSync(base), []); // new/deeper made by the tree: gone; base existed: stays
  const shared = new StagedTree(join(base, 'made', 'out'));
  writeFileSync(join(base, 'made', 'someone-else.txt'), 'keep\n');
  shared.abort();
  assert.equal(readdirSync(join(base, 'made')), ['someone-else.txt']);
});

test('writeTree: an empty tree is a directory holding an empty manifest; a failed write leaves nothing staged', () => {
  const out = fresh();
  writeTree(new Map(), out);
  assert.equal(readdirSync(out), [MANIFEST_FILE]);
  assert.is(readFileSync(join(out, MANIFEST_FILE), 'utf8'), '');
  assert.throws(() => writeTree(new Map([['ns/w/a.yaml', 'a'], ['ns/w/a.yaml/b.yaml', 'b']]), out), (e: unknown) => e instanceof OutputTreeError && e.diagnostic.code === 'SMI4007');
  assert.equal(hidden(out), []);
  assert.equal(readdirSync(out), [MANIFEST_FILE]);
});

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

test('treeFiles: every file below the directory, in path order', () => {
  const dir = fresh();
  for (const f of ['a/b/x', 'a/b-c/x', 'a/b/a']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  assert.equal(treeFiles(dir), ['a/b-c/x', 'a/b/a', 'a/b/x']);
  assert.equal(treeFiles(join(dir, 'nope')), []);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
