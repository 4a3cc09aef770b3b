import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { FileTexts, inputsMoved, readInputs, type ReadRecord } from './read-inputs.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-read-inputs-'));
const file = (rel: string, content: string | Buffer) => {
  const path = join(root, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
};

file('tree/b.yaml', 'b: 1\n');
file('tree/a.yml', 'a: 1\n');
file('tree/sub/c.json', '{}\n');
file('tree/A-upper.YAML', 'x: 1\n');
file('tree/notes.txt', 'not a manifest\n');
file('tree/.hidden/d.yaml', 'd: 1\n');
file('tree/.dotfile.yaml', 'd: 1\n');
file('tree/node_modules/e.yaml', 'e: 1\n');
mkdirSync(join(root, 'empty/sub'), { recursive: true });
file('empty/readme.md', '# nothing\n');
file('cycle/x.yaml', 'x: 1\n');
symlinkSync(join(root, 'cycle'), join(root, 'cycle/again'));

function read(paths: string[], opts?: Parameters<typeof readInputs>[2]) {
  const bag = new DiagnosticBag();
  const files = readInputs(paths, bag, opts);
  return { files, diags: bag.items };
}

const where = (diags: Diagnostic[]) => diags.map((d) => `${d.source?.line}:${d.source?.column} ${d.code}`);

test('a directory is read recursively, in sorted order, skipping dot entries, node_modules and other extensions', () => {
  const dir = join(root, 'tree');
  const { files, diags } = read([dir]);
  assert.equal(diags, []);
  assert.equal(
    files.map((f) => f.path),
    ['A-upper.YAML', 'a.yml', 'b.yaml', 'sub/c.json'].map((p) => join(dir, p)),
  );
  assert.is(files[2].text, 'b: 1\n');
});

test('paths stay as the user gave them (relative stays relative)', () => {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const { files } = read(['./tree/sub', 'tree/b.yaml']);
    assert.equal(files.map((f) => f.path), ['tree/sub/c.json', 'tree/b.yaml']);
  } finally {
    process.chdir(cwd);
  }
});

test('a symlinked directory cycle ends', () => {
  const { files, diags } = read([join(root, 'cycle')]);
  assert.equal(diags, []);
  assert.equal(files.map((f) => f.path), [join(root, 'cycle/x.yaml')]);
});

test('a file named twice (directly and through its directory) is read once', () => {
  const { files } = read([join(root, 'tree/b.yaml'), join(root, 'tree')]);
  assert.is(files.filter((f) => f.path.endsWith('b.yaml')).length, 1);
});

test('a named file is read whatever its extension', () => {
  const { files, diags } = read([join(root, 'tree/notes.txt')]);
  assert.equal(diags, []);
  assert.is(files.length, 1);
});

test('a missing path is SMI1009 and the other paths are still read', () => {
  const { files, diags } = read([join(root, 'nope.yaml'), join(root, 'tree/a.yml')]);
  assert.equal(diags.map((d) => d.code), ['SMI1009']);
  assert.is(diags[0].message, `cannot read ${join(root, 'nope.yaml')}: no such file or directory`);
  assert.is(files.length, 1);
});

test('a directory without manifests is a SMI1012 warning', () => {
  const { files, diags } = read([join(root, 'empty')]);
  assert.equal(diags.map((d) => [d.code, d.level]), [['SMI1012', 'warning']]);
  assert.is(files.length, 0);
});

test('invalid UTF-8 is SMI1013 at the offending byte', () => {
  const path = file('bin/latin1.yaml', Buffer.concat([Buffer.from('a: 1\nb: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  const { files, diags } = read([path]);
  assert.equal(where(diags), ['2:7 SMI1013']);
  assert.match(diags[0].message, 'invalid UTF-8 at byte 11');
  assert.is(files.length, 0);
});

test('a NUL byte is SMI1013 at its position', () => {
  const path = file('bin/nul.yaml', 'a: 1\nbb: \0\n');
  const { diags } = read([path]);
  assert.equal(where(diags), ['2:5 SMI1013']);
});

test('a file over the size limit is SMI1014', () => {
  const path = file('big/big.yaml', 'x'.repeat(2000));
  const { files, diags } = read([path], { maxFileSize: 1000 });
  assert.equal(where(diags), ['1:1 SMI1014']);
  assert.is(diags[0].message, 'file is 2000 bytes, over the limit of 1000 bytes');
  assert.is(files.length, 0);
});

test('with FileTexts, a file is read again only when its status changed; a bad file is never remembered', () => {
  const a = file('texts/a.yaml', 'a: 1\n');
  const bad = file('texts/bad.yaml', 'a: \0\n');
  const texts = new FileTexts();
  const first = read([join(root, 'texts')], { texts });
  assert.equal(first.files.map((f) => f.text), ['a: 1\n']);
  assert.is(texts.read, 1);
  // Just written: racy, so read again (and again reported for the bad file).
  const again = read([join(root, 'texts')], { texts });
  assert.equal(again.files.map((f) => f.text), ['a: 1\n']);
  assert.equal(where(again.diags), ['1:4 SMI1013'], 'the bad file is reported every time');
  assert.is(texts.reused, 0);
  writeFileSync(a, 'a: 2\n'); // same size, within the same timestamp tick perhaps: still seen
  assert.equal(read([join(root, 'texts')], { texts }).files.map((f) => f.text), ['a: 2\n']);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150); // older than RACY_MS now: read once more, then trusted
  read([join(root, 'texts')], { texts });
  const reads = texts.read;
  assert.equal(read([join(root, 'texts')], { texts }).files.map((f) => f.text), ['a: 2\n']);
  assert.is(texts.read, reads, 'not read again');
  assert.is(texts.reused, 1);
  rmSync(bad);
});

test('- reads stdin as <stdin>, without a BOM', () => {
  const { files } = read(['-'], { stdin: () => '\ufeffa: 1\n' });
  assert.equal(files, [{ path: '<stdin>', text: 'a: 1\n' }]);
});

// ── inputsMoved: has the disk moved on from what a read saw? ─────────────────

/** Reads `paths` and returns what the read recorded. */
function recorded(paths: string[], texts?: FileTexts): ReadRecord[] {
  const record: ReadRecord[] = [];
  readInputs(paths, new DiagnosticBag(), { record, texts });
  return record;
}

test('inputsMoved: nothing changed is false; an edit, a new file, a removed file, a rename into place are true', () => {
  const dir = join(root, 'moved');
  file('moved/a.yaml', 'a: 1\n');
  file('moved/sub/b.yaml', 'b: 1\n');
  let record = recorded([dir]);
  assert.equal(record.map((r) => r.path), [join(dir, 'a.yaml'), join(dir, 'sub/b.yaml')]);
  assert.is(inputsMoved([dir], record), false);
  file('moved/a.yaml', 'a: 2\n');
  assert.is(inputsMoved([dir], record), true, 'an edit of the same size');
  record = recorded([dir]);
  file('moved/sub/c.yaml', 'c: 1\n');
  assert.is(inputsMoved([dir], record), true, 'a file added');
  record = recorded([dir]);
  unlinkSync(join(dir, 'sub/c.yaml'));
  assert.is(inputsMoved([dir], record), true, 'a file removed');
  record = recorded([dir]);
  file('moved/.a.yaml.tmp', 'a: 3\n');
  renameSync(join(dir, '.a.yaml.tmp'), join(dir, 'a.yaml'));
  assert.is(inputsMoved([dir], record), true, 'a file renamed into place');
  record = recorded([dir]);
  file('moved/notes.txt', 'not a manifest');
  assert.is(inputsMoved([dir], record), false, 'other files do not count');
});

test('inputsMoved: a same-size rewrite that keeps every time stamp is caught by the bytes of a racy file', () => {
  const path = file('racy.yaml', 'v: 1\n');
  const when = new Date();
  utimesSync(path, when, when);
  const record = recorded([path]);
  // Written within the kernel clock's tick: the status alone could not tell.
  assert.ok(record[0]!.digest, 'a file changed just before it was read keeps a digest');
  writeFileSync(path, 'v: 2\n');
  utimesSync(path, when, when);
  const sameStatus = { ...record[0]!, status: recorded([path])[0]!.status };
  assert.is(inputsMoved([path], [sameStatus]), true, 'other bytes under the same status');
  assert.is(inputsMoved([path], [{ ...sameStatus, digest: recorded([path])[0]!.digest }]), false);
});

test('inputsMoved: a file reused from an earlier read (serve --watch) is recorded too', () => {
  const dir = join(root, 'reused');
  file('reused/a.yaml', 'a: 1\n');
  const texts = new FileTexts();
  recorded([dir], texts);
  const record = recorded([dir], texts);
  assert.is(record.length, 1);
  assert.is(inputsMoved([dir], record), false);
  file('reused/a.yaml', 'a: 2\n');
  assert.is(inputsMoved([dir], record), true);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
