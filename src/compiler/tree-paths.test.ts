import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkTreePath, MANIFEST_FILE, OutputTreeError, showPath, treePath, unsafeTreePath } from './tree-paths.ts';

const HOSTILE = [
  '../x.yaml',
  'a/../../x.yaml',
  '../../../../elsewhere/victim/w/listeners.yaml',
  '/etc/passwd',
  'C:/x.yaml',
  'a\\..\\..\\x.yaml',
  'a/b\u0000c.yaml',
  'a/b\nc.yaml',
  'a//b.yaml',
  'a/./b.yaml',
  'a/b/',
  '',
  '.',
  MANIFEST_FILE,
  `a/${'x'.repeat(256)}`,
  `a/${'é'.repeat(128)}`, // 256 bytes in UTF-8
];

test('unsafeTreePath: every way out of the tree, and the manifest\'s name, is refused with a reason', () => {
  for (const p of HOSTILE) assert.type(unsafeTreePath(p), 'string', JSON.stringify(p));
  for (const p of ['ns/w/listeners.yaml', 'a/b-c/x', '.hidden/x', 'ns/w/tls.key', `a/${'x'.repeat(255)}`, `a/.smi-compile.sha256`]) {
    assert.is(unsafeTreePath(p), undefined, p);
  }
});

test('checkTreePath and treePath: SMI4001, exit 1, the path shown quoted and escaped', () => {
  for (const p of HOSTILE) {
    try {
      checkTreePath(p);
      assert.unreachable(p);
    } catch (err) {
      assert.instance(err, OutputTreeError);
      const e = err as OutputTreeError;
      assert.is(e.diagnostic.code, 'SMI4001');
      assert.is(e.exitCode, 1);
      assert.not.ok(/[\n\u0000]/.test(e.diagnostic.message), 'no raw control character in the message');
    }
  }
  assert.is(treePath('shop', 'web'), 'shop/web');
  assert.throws(() => treePath('../../../../elsewhere/victim', 'web'), (e: unknown) => e instanceof OutputTreeError && e.diagnostic.code === 'SMI4001');
  assert.throws(() => treePath('shop', ''), (e: unknown) => e instanceof OutputTreeError);
  assert.throws(() => treePath('a/b', 'c'), (e: unknown) => e instanceof OutputTreeError);
});

test('showPath cuts a long name', () => {
  assert.ok(showPath('x'.repeat(10_000)).length < 200);
  assert.is(showPath('a\nb'), '"a\\nb"');
});

test.run();
