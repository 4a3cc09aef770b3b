import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTree } from './output-tree.ts';
import { sha256Hex as sha256 } from '../shared/hash.ts';
import { parseManifest, proveOwnership, renderManifest, walkTree } from './tree-manifest.ts';
import { MANIFEST_FILE, OutputTreeError } from './tree-paths.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-tree-manifest-'));
let n = 0;
const fresh = (): string => join(root, `case-${n++}`);
const TREE = new Map([
  ['ns/a/listeners.yaml', 'a\n'],
  ['ns/a/routes.yaml', 'routes\n'],
  ['ns/b/listeners.yaml', 'b\n'],
]);
const owned = (): string => {
  const dir = fresh();
  writeTree(TREE, dir);
  return dir;
};

/** The refusal proveOwnership gives, as code and message. */
function refusal(dir: string, content = true): { code: string; message: string; exit: number } {
  try {
    proveOwnership(dir, { content });
  } catch (err) {
    if (!(err instanceof OutputTreeError)) throw err;
    return { code: err.diagnostic.code, message: err.diagnostic.message, exit: err.exitCode };
  }
  assert.unreachable(`${dir} was taken as ours`);
  throw new Error('unreachable');
}

test('the manifest: sha256sum\'s format, sorted, and read back', () => {
  const hashes = new Map([...TREE].map(([f, c]) => [f, sha256(c)]));
  const text = renderManifest(hashes);
  assert.is(text.split('\n')[0], `${sha256('a\n')}  ns/a/listeners.yaml`);
  assert.equal(parseManifest(text, 'x'), hashes);
  assert.is(readFileSync(join(owned(), MANIFEST_FILE), 'utf8'), text);
  assert.throws(() => parseManifest('not a line\n', 'x'), (e: unknown) => e instanceof OutputTreeError && e.diagnostic.code === 'SMI4004');
});

test('absent and empty directories may be taken; a tree its manifest proves ours too', () => {
  assert.is(proveOwnership(fresh(), { content: true }), 'absent');
  const empty = fresh();
  mkdirSync(empty);
  assert.is(proveOwnership(empty, { content: true }), 'empty');
  assert.is(proveOwnership(owned(), { content: true }), 'owned');
  // A listed file that is gone: replacing the tree loses nothing of anyone's.
  const partial = owned();
  rmSync(join(partial, 'ns/b/listeners.yaml'));
  assert.is(proveOwnership(partial, { content: true }), 'owned');
});

test('not a directory: SMI4005 (a file, a symbolic link to a directory)', () => {
  const file = fresh();
  writeFileSync(file, 'mine');
  assert.equal(refusal(file).code, 'SMI4005');
  const link = fresh();
  symlinkSync(owned(), link);
  assert.match(refusal(link).message, /symbolic link/);
});

test('no manifest: SMI4003, whatever the files look like (prod/app/routes.yaml), with the way to adopt an old tree', () => {
  const lookAlike = fresh();
  mkdirSync(join(lookAlike, 'prod', 'app'), { recursive: true });
  writeFileSync(join(lookAlike, 'prod', 'app', 'routes.yaml'), 'mine\n');
  const r = refusal(lookAlike);
  assert.is(r.code, 'SMI4003');
  assert.is(r.exit, 2);
  assert.match(r.message, /"prod\/"/);
  assert.match(r.message, /git rm -r/);
  const manifestIsADirectory = fresh();
  mkdirSync(join(manifestIsADirectory, MANIFEST_FILE), { recursive: true });
  assert.is(refusal(manifestIsADirectory).code, 'SMI4003');
});

test('anything the manifest does not prove ours: SMI4002, listing a few', () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['a file added', (d) => writeFileSync(join(d, 'ns/a/notes.txt'), 'mine'), /"ns\/a\/notes\.txt"/],
    ['a look-alike file added', (d) => (mkdirSync(join(d, 'prod/app'), { recursive: true }), writeFileSync(join(d, 'prod/app/routes.yaml'), 'x')), /"prod\/app\/routes\.yaml"/],
    ['an empty directory', (d) => mkdirSync(join(d, 'ns/empty')), /"ns\/empty\/"/],
    ['a dangling symbolic link', (d) => symlinkSync(join(d, 'nowhere'), join(d, 'ns/a/dangling')), /dangling" \(a symbolic link\)/],
    ['a symbolic link loop', (d) => (symlinkSync(join(d, 'ns/a/loop2'), join(d, 'ns/a/loop1')), symlinkSync(join(d, 'ns/a/loop1'), join(d, 'ns/a/loop2'))), /loop1" \(a symbolic link\)/],
    ['a symbolic link out of the tree', (d) => symlinkSync(tmpdir(), join(d, 'ns/out')), /"ns\/out" \(a symbolic link\)/],
    ['a listed file replaced by a link', (d) => (rmSync(join(d, 'ns/a/routes.yaml')), symlinkSync('/etc/passwd', join(d, 'ns/a/routes.yaml'))), /routes\.yaml" \(a symbolic link\)/],
  ];
  for (const [what, damage, shown] of cases) {
    const dir = owned();
    damage(dir);
    const r = refusal(dir, false);
    assert.is(r.code, 'SMI4002', what);
    assert.is(r.exit, 2, what);
    assert.match(r.message, shown, what);
  }
});

test('a file edited since it was written: found when contents are checked (the check before deleting)', () => {
  const dir = owned();
  writeFileSync(join(dir, 'ns/a/routes.yaml'), 'routez\n'); // same size
  assert.is(proveOwnership(dir, { content: false }), 'owned', 'names and kinds only: the early check');
  const r = refusal(dir);
  assert.is(r.code, 'SMI4002');
  assert.match(r.message, /"ns\/a\/routes\.yaml" \(changed since smi-compile wrote it\)/);
});

test('a damaged manifest: SMI4004 with its line', () => {
  const dir = owned();
  writeFileSync(join(dir, MANIFEST_FILE), `${readFileSync(join(dir, MANIFEST_FILE), 'utf8')}* ../../etc/passwd\n`);
  const r = refusal(dir);
  assert.is(r.code, 'SMI4004');
  assert.match(r.message, /line 4/);
});

test('many foreign entries: a few shown, the rest counted', () => {
  const dir = owned();
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${String(i).padStart(2, '0')}`), '');
  const r = refusal(dir);
  assert.match(r.message, /20 entries/);
  assert.match(r.message, /and 16 more/);
});

test('walkTree never follows a link and reports a directory it cannot read', () => {
  const dir = owned();
  symlinkSync(join(dir, 'ns'), join(dir, 'ns/a/up')); // a cycle through a link
  const entries = walkTree(dir);
  assert.ok(entries.some((e) => e.path === 'ns/a/up' && e.kind === 'symlink'));
  assert.is(entries.length, 8);
  if (process.getuid?.() !== 0) {
    // Root reads everything; test/hardening/shared-directories.test.ts runs this as an unprivileged user.
    const locked = join(dir, 'ns/b');
    chmodSync(locked, 0);
    assert.ok(walkTree(dir).some((e) => e.path === 'ns/b' && e.kind === 'unreadable'));
    chmodSync(locked, 0o755);
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
