/**
 * A compile killed with SIGKILL in the middle of writing its tree (CI timeouts and the OOM
 * killer do not let a process clean up) leaves the previous tree exactly as it was, or, if it
 * died between its two renames, no tree at all; never a mix. Its hidden staging directory is
 * removed by the next compile to the same place.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh } from '../../bench/generate-mesh.ts';
import { compilePaths } from '../../src/compiler/compile.ts';
import { readTree, renderTree, writeTree } from '../../src/compiler/output-tree.ts';
import { BIN, runBin } from './spawn.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-hardening-kill-'));
const out = join(root, 'out');

const leftovers = (): string[] => readdirSync(root).filter((n) => /^\.out\.(tmp|old)-\d+$/.test(n));

test('SIGKILL mid-write: the old tree survives whole; the next compile removes the leftovers', async () => {
  // The old tree: bookstore, compiled in-process.
  const old = renderTree(compilePaths(['fixtures/bookstore']).proxies, 'yaml');
  writeTree(old, out);

  // The new input: a mesh big enough that writing its tree takes a while (~1,500 files).
  const meshDir = join(root, 'mesh');
  for (const f of generateMesh({ services: 240, permissive: false, seed: 5 }).files) {
    mkdirSync(join(meshDir, f.path, '..'), { recursive: true });
    writeFileSync(join(meshDir, f.path), f.text);
  }
  const child = spawn(process.execPath, [BIN, meshDir, '-o', out], { stdio: 'ignore' });
  const staging = join(root, `.out.tmp-${child.pid}`);
  // Poll until the staging directory holds a workload directory, then kill: mid-write.
  const killedMidWrite = await new Promise<boolean>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(staging) && readdirSync(staging).length > 0) {
        child.kill('SIGKILL');
        clearInterval(poll);
        resolve(true);
      }
    }, 1);
    child.on('exit', () => {
      clearInterval(poll);
      resolve(false);
    });
  });
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve)));
  assert.ok(killedMidWrite, 'the compile finished before it could be killed mid-write');

  if (existsSync(out)) assert.equal(readTree(out), old, 'the old tree changed');
  else assert.ok(existsSync(join(root, `.out.old-${child.pid}`)), 'no tree, and no retired old tree either');
  assert.equal(leftovers(), [`.out.tmp-${child.pid}`]); // hidden: never read as output

  // The next compile replaces the tree and removes what the killed one left behind.
  const next = await runBin(['fixtures/bookstore', '-o', out]);
  assert.is(next.code, 0, next.stderr);
  assert.equal(readTree(out), old);
  assert.equal(leftovers(), []);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
