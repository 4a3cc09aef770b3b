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
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../src/compiler/compile.ts';
import { renderTree } from '../src/compiler/output-tree.ts';
import { formatDiagnostic } from '../src/diagnostics/diagnostic.ts';
import { checkGoldenTree, FIXTURES, pruneGoldens, scenarios } from './golden-layer.ts';

const GOLDEN = 'golden';

for (const scenario of scenarios) {
  test(`golden: ${scenario}`, () => {
    const result = compilePaths([join(FIXTURES, scenario)]);
    const errors = result.diagnostics.filter((d) => d.level === 'error');
    assert.equal(errors.map(formatDiagnostic), [], 'fixture compiles without errors');
    const tree = renderTree(result.proxies, 'yaml', { static: true });
    checkGoldenTree(tree, GOLDEN, scenario);
  });
}

test('golden: compiling twice gives the same bytes', () => {
  const a = renderTree(compilePaths([join(FIXTURES, 'bookstore')]).proxies, 'yaml', { static: true });
  const b = renderTree(compilePaths([join(FIXTURES, 'bookstore')]).proxies, 'yaml', { static: true });
  assert.equal([...a.entries()], [...b.entries()]);
});

test('golden: no golden without a fixture', () => pruneGoldens(GOLDEN));

test.run();
