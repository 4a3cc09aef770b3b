/**
 * The process as scripts see it: the real bin, spawned with hostile input. Exit codes are
 * 0, 1 or 2 and nothing else; no stack trace reaches stderr without --debug; a failed compile
 * creates no output directory; an internal error is one line asking for a bug report.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin, type Spawned } from './spawn.ts';

const dir = mkdtempSync(join(tmpdir(), 'smi-hardening-cli-'));
const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const laughs = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
for (const [i, c] of [...'bcdefghi'].entries()) laughs.push(`${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`);

const HOSTILE: Record<string, string | Buffer> = {
  'laughs.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n${laughs.join('\n')}\n`,
  'deep.yaml': `x: ${'['.repeat(2_000_000)}\n`,
  'binary.yaml': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe]),
  'latin1.yaml': Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\xe9}\n', 'latin1'),
  'dup.json': '{"apiVersion": "v1", "apiVersion": "v1"}',
  'tags.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: !!set {name}\n',
};

/** No stack frames, no Node error banners: only diagnostics and summaries. */
function assertNoStack(run: Spawned): void {
  assert.not.match(run.stderr, /^\s+at /m, run.stderr);
  assert.not.match(run.stderr, /node:internal|Error: /, run.stderr);
}

test('hostile files: exit 1, a diagnostic with file:line:col for each, no stack, no output directory', async () => {
  // One run over all of them: every spawn costs a second of tsx start-up.
  for (const [name, content] of Object.entries(HOSTILE)) file(name, content);
  const out = join(dir, 'out');
  const run = await runBin([dir, '-o', out]);
  assert.is(run.code, 1, run.stderr);
  for (const name of Object.keys(HOSTILE)) {
    assert.match(run.stderr, new RegExp(`${name.replace('.', '\\.')}:\\d+:\\d+: error SMI1\\d{3} `), name);
  }
  assertNoStack(run);
  assert.not.ok(existsSync(out), `wrote ${out}`);
});

test('an empty file is a warning: exit 0, and the (empty) tree is written', async () => {
  const out = join(dir, 'out-empty');
  const run = await runBin([file('empty.yml.txt', ''), '-o', out]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, /empty\.yml\.txt:1:1: warning SMI1020 file holds no documents/);
  assert.ok(existsSync(out));
});

test('stdin: endless input stops at --max-file-size; invalid UTF-8 is SMI1013', async () => {
  const [big, latin] = await Promise.all([
    runBin(['lint', '-', '--max-file-size', '64KiB'], { stdin: Buffer.alloc(4 << 20, 0x61) }),
    runBin(['lint', '-'], { stdin: Buffer.from('a: caf\xe9\n', 'latin1') }),
  ]);
  assert.is(big.code, 1);
  assert.match(big.stdout, '<stdin>:1:1: error SMI1014 file is more than 65536 bytes');
  assert.is(latin.code, 1);
  assert.match(latin.stdout, '<stdin>:1:7: error SMI1013');
  assertNoStack(big);
});

test('usage errors are exit 2, whatever is wrong with the command line', async () => {
  const runs = await Promise.all([
    runBin(['compile', '--max-file-size', 'huge', 'x']),
    runBin(['compile', 'fixtures/bookstore', '-o', 'x', '--check', 'y']),
  ]);
  for (const run of runs) {
    assert.is(run.code, 2, run.stderr);
    assertNoStack(run);
  }
});

// A bug is simulated by a preloaded module that throws once the CLI is running: it waits for the
// CLI's crash handler to be installed (a fixed delay raced it on a loaded machine), then throws.
const fault = (code: string): string[] => [
  '--import',
  `data:text/javascript,const t=setInterval(()=>{if(process.listenerCount('unhandledRejection')>0){clearInterval(t);${code}}},5)`,
];

test('an uncaught exception or unhandled rejection: one line asking for a report, exit 1; the stack only with --debug', async () => {
  const serve = ['serve', 'fixtures/bookstore', '--port', '0', '--admin-port', '0', '--log-level', 'error'];
  const [thrown, rejected, debug] = await Promise.all([
    runBin(serve, { nodeArgs: fault('throw new Error("boom")') }),
    runBin(serve, { nodeArgs: fault('Promise.reject(new Error("lost"))') }),
    runBin([...serve, '--debug'], { nodeArgs: fault('throw new Error("boom")') }),
  ]);
  assert.is(thrown.code, 1);
  assert.is(thrown.stderr, 'smi-compile: internal error (uncaught exception): boom. This is a bug; please report it (rerun with --debug for the stack).\n');
  assert.is(rejected.code, 1);
  assert.is(rejected.stderr, 'smi-compile: internal error (unhandled rejection): lost. This is a bug; please report it (rerun with --debug for the stack).\n');
  assert.is(debug.code, 1);
  assert.match(debug.stderr, /please report it\.\nError: boom\n\s+at /);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
