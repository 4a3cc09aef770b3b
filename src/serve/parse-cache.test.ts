import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../compiler/compile.ts';
import { ParseCache } from './parse-cache.ts';

const signature = (r: ReturnType<typeof compilePaths>): string => JSON.stringify([r.proxies, r.diagnostics]);

test('a cached parse compiles to what a fresh one does, diagnostics and positions included', () => {
  // Every file here gives diagnostics (most with positions located after parsing).
  const paths = ['test/diagnostics', 'fixtures/bookstore'];
  const cache = new ParseCache();
  const fresh = signature(compilePaths(paths, { protoCheck: false }));
  assert.is(signature(compilePaths(paths, { protoCheck: false }, undefined, cache.parse)), fresh);
  const files = cache.parsed;
  assert.ok(files > 20);
  assert.is(signature(compilePaths(paths, { protoCheck: false }, undefined, cache.parse)), fresh, 'from the cache');
  assert.is(cache.parsed, files, 'nothing parsed again');
  assert.is(cache.reused, files);
});

test('only a changed file is parsed again; a removed one leaves the cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-parse-cache-'));
  try {
    cpSync('fixtures/bookstore', dir, { recursive: true });
    const cache = new ParseCache();
    compilePaths([dir], { protoCheck: false }, undefined, cache.parse);
    const files = cache.size;
    const target = join(dir, 'bookstore.yaml');
    writeFileSync(target, `${readFileSync(target, 'utf8')}\n# edited\n`);
    const again = compilePaths([dir], { protoCheck: false }, undefined, cache.parse);
    assert.is(cache.parsed, files + 1);
    assert.is(signature(again), signature(compilePaths([dir], { protoCheck: false })));
    rmSync(target);
    compilePaths([dir], { protoCheck: false }, undefined, cache.parse);
    assert.is(cache.size, files - 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cached documents are frozen: a later stage cannot edit what the next compile reuses', () => {
  const cache = new ParseCache();
  const docs = cache.parse([{ path: 'a.yaml', text: 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  namespace: ns\n' }], { report: () => {} });
  assert.is(docs.length, 1);
  assert.ok(Object.isFrozen(docs[0].value));
  assert.ok(Object.isFrozen(docs[0].value.metadata));
  assert.is(docs[0].origin.locate(['metadata', 'name']).line, 4);
});

test.run();
