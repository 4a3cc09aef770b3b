/**
 * Every fixture compiles to its golden tree byte for byte, both packagings: the dynamic files and
 * `bootstrap-static.yaml` (`compile --static`), so a change to either shows in review, and
 * test/envoy/validate-static.test.ts has Envoy load the static one of every workload. `UPDATE_GOLDEN=1 npm test` (or
 * `npm run golden:update`) rewrites the goldens and deletes those no fixture produces;
 * review the resulting `git diff golden/` like code.
 *
 * Each golden carries the manifest every written tree has (`.smi-compile.sha256`, the proof that
 * smi-compile may replace it): comparisons leave it out, and this test holds it equal to the
 * files, so that `golden:update` and `--check golden/x --update` keep working on the goldens.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../src/compiler/compile.ts';
import { MANIFEST_FILE, readTree, renderTree, writeTree } from '../src/compiler/output-tree.ts';
import { diffTrees } from '../src/compiler/tree-diff.ts';
import { renderManifest } from '../src/compiler/tree-manifest.ts';
import { sha256Hex as sha256 } from '../src/shared/hash.ts';
import { formatDiagnostic } from '../src/diagnostics/diagnostic.ts';

const FIXTURES = 'fixtures';
const GOLDEN = 'golden';
const update = process.env.UPDATE_GOLDEN === '1';

const scenarios = readdirSync(FIXTURES)
  .filter((name) => statSync(join(FIXTURES, name)).isDirectory())
  .sort();

for (const scenario of scenarios) {
  test(`golden: ${scenario}`, () => {
    const result = compilePaths([join(FIXTURES, scenario)]);
    const errors = result.diagnostics.filter((d) => d.level === 'error');
    assert.equal(errors.map(formatDiagnostic), [], 'fixture compiles without errors');
    const tree = renderTree(result.proxies, 'yaml', { static: true });
    const goldenDir = join(GOLDEN, scenario);
    if (update) {
      writeTree(tree, goldenDir);
      return;
    }
    assert.ok(existsSync(goldenDir), `no golden for ${scenario}: run npm run golden:update`);
    const differences = diffTrees(readTree(goldenDir), tree);
    assert.equal(
      differences.map((d) => d.patch).join('\n'),
      '',
      `${scenario} differs from ${goldenDir}; if the change is intended run npm run golden:update and review git diff golden/`,
    );
    const manifest = renderManifest(new Map([...tree].map(([f, content]) => [f, sha256(content)])));
    assert.is(readFileSync(join(goldenDir, MANIFEST_FILE), 'utf8'), manifest, `${goldenDir}/${MANIFEST_FILE} does not list its files: run npm run golden:update`);
  });
}

test('golden: compiling twice gives the same bytes', () => {
  const a = renderTree(compilePaths([join(FIXTURES, 'bookstore')]).proxies, 'yaml', { static: true });
  const b = renderTree(compilePaths([join(FIXTURES, 'bookstore')]).proxies, 'yaml', { static: true });
  assert.equal([...a.entries()], [...b.entries()]);
});

test('golden: no golden without a fixture', () => {
  if (!existsSync(GOLDEN)) return;
  for (const name of readdirSync(GOLDEN)) {
    if (scenarios.includes(name)) continue;
    if (update) rmSync(join(GOLDEN, name), { recursive: true, force: true });
    else assert.unreachable(`golden/${name} has no fixture: run npm run golden:update to delete it`);
  }
});

test.run();
