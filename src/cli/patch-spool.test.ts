import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PatchSpool } from './patch-spool.ts';

const spools = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('smi-compile-check-'));

test('patches come back whole and in order, across chunk boundaries and split UTF-8 characters; the file goes on close', () => {
  const before = spools();
  const spool = new PatchSpool();
  // 3 MiB of patches with multi-byte characters straddling the 1 MiB chunks.
  const patches = Array.from({ length: 3000 }, (_, i) => `--- a/${i}.yaml\n+++ b/${i}.yaml\n${'é€𝄞'.repeat(150)}\n`);
  for (const p of patches) spool.add(p);
  assert.is(spools().length, before.length + 1);
  let out = '';
  spool.replay((t) => (out += t));
  assert.is(out, patches.join(''));
  spool.close();
  spool.close();
  assert.equal(spools(), before);
});

test('no patch, no file; replay prints nothing', () => {
  const before = spools();
  const spool = new PatchSpool();
  let out = '';
  spool.replay((t) => (out += t));
  assert.is(out, '');
  spool.close();
  assert.equal(spools(), before);
});

test.run();
