import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh } from '../../bench/generate-mesh.ts';
import { compile, compilePaths } from './compile.ts';
import { MANIFEST_FILE, OutputTreeError, readTree, renderProxy, renderTree, serialise, SharedTexts, StagedTree, treeFiles, writeTree, type OutputTree } from './output-tree.ts';

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

test('treeFiles: every file below the directory, in path order', () => {
  const dir = fresh();
  for (const f of ['a/b/x', 'a/b-c/x', 'a/b/a']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  assert.equal(treeFiles(dir), ['a/b-c/x', 'a/b/a', 'a/b/x']);
  assert.equal(treeFiles(join(dir, 'nope')), []);
});

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof OutputTreeError) return err.diagnostic.code;
    throw err;
  }
  return 'no error';
};

test('StagedTree.write refuses every path that would leave the tree (SMI4001); nothing lands outside, nothing is committed', () => {
  const base = fresh();
  mkdirSync(base);
  const out = join(base, 'out');
  const staged = new StagedTree(out);
  for (const p of ['../escaped.yaml', 'ns/../../escaped.yaml', '../../../../elsewhere/victim/w/tls.key', `${base}/abs.yaml`, 'a\\..\\..\\escaped.yaml', 'a\u0000b', 'a//b', '', MANIFEST_FILE]) {
    assert.is(code(() => staged.write(p, 'secret\n', 0o600)), 'SMI4001', JSON.stringify(p));
  }
  staged.abort();
  assert.equal(readdirSync(base), [], 'nothing beside the output directory, no staging directory');
  assert.not.ok(existsSync(join(root, 'escaped.yaml')));
  assert.not.ok(existsSync(join(root, '..', 'elsewhere')));
});

test('StagedTree: a symbolic link slipped into the staging directory is never written through (SMI4007)', () => {
  const outside = fresh();
  mkdirSync(outside);
  const out = fresh();
  const staged = new StagedTree(out);
  symlinkSync(outside, join(staged.staging, 'ns')); // someone racing the compile
  assert.is(code(() => staged.write('ns/w/tls.key', 'secret\n', 0o600)), 'SMI4007');
  writeFileSync(join(staged.staging, 'planted.yaml'), 'planted');
  assert.is(code(() => staged.write('planted.yaml', 'secret\n')), 'SMI4007', 'an existing file is not written into either');
  staged.abort();
  assert.equal(readdirSync(outside), []);
});

test('StagedTree: a private key cannot be captured through a file pre-created in the staging directory', () => {
  const out = fresh();
  const staged = new StagedTree(out);
  mkdirSync(join(staged.staging, 'ns', 'w'), { recursive: true });
  writeFileSync(join(staged.staging, 'ns', 'w', 'tls.key'), '', { mode: 0o666 });
  linkSync(join(staged.staging, 'ns', 'w', 'tls.key'), join(root, `capture-${n}`));
  assert.is(code(() => staged.write('ns/w/tls.key', 'secret\n', 0o600)), 'SMI4007');
  staged.abort();
  assert.is(readFileSync(join(root, `capture-${n}`), 'utf8'), '');
});

test('StagedTree: keys get exactly 0600 whatever the umask; the constructor refuses a directory that is not ours', () => {
  const out = fresh();
  const umask = process.umask(0);
  try {
    writeTree(new Map([['ns/w/tls.key', 'k\n'], ['ns/w/tls.crt', 'c\n']]), out, new Map([['ns/w/tls.key', 0o600]]));
  } finally {
    process.umask(umask);
  }
  assert.is(statSync(join(out, 'ns/w/tls.key')).mode & 0o777, 0o600);
  writeFileSync(join(out, 'ns', 'notes.txt'), 'mine');
  assert.is(code(() => new StagedTree(out)), 'SMI4002');
  const file = fresh();
  writeFileSync(file, 'mine');
  assert.is(code(() => writeTree(new Map([['ns/w/a.yaml', 'a']]), file)), 'SMI4005');
  assert.is(readFileSync(file, 'utf8'), 'mine', '-o file.txt: the file stays a file');
});

test('StagedTree.commit proves the old tree again, contents included, and puts it back when a file changed meanwhile', () => {
  const out = fresh();
  writeTree(new Map([['ns/w/routes.yaml', 'old\n']]), out);
  for (const meddle of [
    () => writeFileSync(join(out, 'ns/w/routes.yaml'), 'mine\n'), // edited during the compile
    () => writeFileSync(join(out, 'ns/w/notes.txt'), 'mine\n'), // added during the compile
  ]) {
    const staged = new StagedTree(out);
    staged.write('ns/w/routes.yaml', 'new\n');
    meddle();
    const before = readTree(out);
    assert.is(code(() => staged.commit()), 'SMI4002');
    staged.abort();
    assert.equal(readTree(out), before, 'the old tree is back, the edit with it');
    assert.equal(hidden(out), []);
    rmSync(join(out, 'ns/w/notes.txt'), { force: true });
    writeFileSync(join(out, 'ns/w/routes.yaml'), 'old\n');
  }
});

test('leftovers of a dead compile: its staging directory goes; a retired tree only when its manifest proves it ours', () => {
  const base = fresh();
  mkdirSync(base);
  const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
  const out = join(base, 'out');
  writeTree(new Map([['ns/w/a.yaml', 'a\n']]), join(base, `.out.old-${dead}`));
  writeTree(new Map([['ns/w/a.yaml', 'a\n']]), join(base, `.out.old-${dead + 1}`));
  writeFileSync(join(base, `.out.old-${dead + 1}`, 'ns', 'notes.txt'), 'mine');
  mkdirSync(join(base, `.out.tmp-${dead}`));
  writeTree(new Map([['ns/w/a.yaml', 'b\n']]), out);
  assert.equal(readdirSync(base).sort(), [`.out.old-${dead + 1}`, 'out']);
});

test('SharedTexts: a list is the same text as serialised whole, shared items made once; an unfrozen item is never reused', () => {
  const shared = Object.freeze({ name: 'up', lb_endpoints: Object.freeze([Object.freeze({ address: '10.0.0.1' })]) });
  const mine = Object.freeze({ name: 'own', nested: Object.freeze({ 'a: b': '- x', n: 1 }) });
  const loose: { name: string; port: number } = { name: 'loose', port: 1 };
  const texts = new SharedTexts();
  for (const list of [[shared, mine], [shared], [], [loose, shared], [shared, loose]]) {
    assert.is(texts.list(list), serialise(list, 'yaml'));
  }
  loose.port = 2; // met twice already: still serialised afresh
  assert.is(texts.list([loose, shared]), serialise([loose, shared], 'yaml'));
  assert.match(texts.list([loose]), 'port: 2');
});

test('renderProxy with SharedTexts: every file of a permissive mesh byte for byte as without', () => {
  const mesh = generateMesh({ services: 24, permissive: true, seed: 3 });
  const result = compile(mesh.files);
  assert.ok(result.ok);
  const sharedTexts = new SharedTexts();
  for (const proxy of result.proxies) assert.equal(renderProxy(proxy, 'yaml', { sharedTexts }), renderProxy(proxy, 'yaml'));
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
