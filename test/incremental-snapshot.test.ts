/**
 * What `serve --watch` serves after a run of edits (compile memo, emit's reused configs, the
 * snapshot's carried proxies and reference-counted interner) is what a fresh server would:
 * the same snapshot version, the same distinct resources and bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh, writeMesh } from '../bench/generate-mesh.ts';
import { compilePaths } from '../src/compiler/compile.ts';
import { CompileMemo } from '../src/compiler/compile-memo.ts';
import { buildSnapshot } from '../src/serve/snapshot/snapshot.ts';
import { ResourceInterner } from '../src/serve/snapshot/interner.ts';
import { randomEditor } from './random-edits.ts';

const options = { protoCheck: false, stableObjects: true } as const;

test('50 random edits: every incremental snapshot equals a fresh one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-incremental-snapshot-'));
  try {
    writeMesh(generateMesh({ services: 24, namespaces: 3, permissive: false, seed: 5 }), dir);
    const editor = randomEditor(dir, 7, { valid: true });
    const memo = new CompileMemo();
    const interner = new ResourceInterner();
    let served = 0;
    for (let step = 0; step < 50; step++) {
      const what = editor.edit();
      const live = compilePaths([dir], options, undefined, memo);
      assert.ok(live.ok, `step ${step}: ${what}: ${live.diagnostics.find((d) => d.level === 'error')?.message}`);
      const next = buildSnapshot(live.proxies, interner).snapshot!;
      const fresh = buildSnapshot(compilePaths([dir], options).proxies, new ResourceInterner()).snapshot!;
      assert.is(next.version, fresh.version, `step ${step}: ${what}`);
      assert.equal(next.stats, fresh.stats, `step ${step}: ${what}`);
      served++;
    }
    assert.is(served, 50);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
