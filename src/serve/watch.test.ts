import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from './logger.ts';
import { watchPaths } from './watch.ts';

test('a burst of changes is one recompile, after a quiet period', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-watch-'));
  const calls: string[][] = [];
  const w = await watchPaths([dir], { debounceMs: 80, logger: silentLogger, onChange: (c) => calls.push([...c]) });
  try {
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(dir, `m${i}.yaml`), `n: ${i}\n`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const deadline = Date.now() + 3000;
    while (calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    assert.is(calls.length, 1);
    assert.is(calls[0].filter((p) => p.endsWith('.yaml')).length, 5);
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    await new Promise((r) => setTimeout(r, 300));
    assert.is(calls.length, 1, 'non-manifest files do not trigger a recompile');
  } finally {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
