/**
 * What the golden layers (golden/, golden-ir/, golden-proxyless/) share: the fixtures they are
 * made from, checking or rewriting one tree, and deleting goldens no fixture makes any more.
 * `UPDATE_GOLDEN=1` (npm run golden:update) rewrites instead of checking.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { MANIFEST_FILE, readTree, writeTree, type OutputTree } from '../src/compiler/output-tree.ts';
import { diffTrees } from '../src/compiler/tree-diff.ts';
import { renderManifest } from '../src/compiler/tree-manifest.ts';
import { sha256Hex } from '../src/shared/hash.ts';

export const FIXTURES = 'fixtures';
export const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Every fixture directory, sorted. */
export const scenarios: readonly string[] = readdirSync(FIXTURES)
  .filter((name) => statSync(join(FIXTURES, name)).isDirectory())
  .sort();

/** Rewrites `goldenDir` with `tree` (update), or checks it holds exactly `tree` and its manifest. */
export function checkGoldenTree(tree: OutputTree, layer: string, scenario: string): void {
  const goldenDir = join(layer, scenario);
  if (UPDATE) {
    writeTree(tree, goldenDir);
    return;
  }
  assert.ok(existsSync(goldenDir), `no golden for ${scenario}: run npm run golden:update`);
  const differences = diffTrees(readTree(goldenDir), tree);
  assert.equal(
    differences.map((d) => d.patch).join('\n'),
    '',
    `${scenario} differs from ${goldenDir}; if the change is intended run npm run golden:update and review git diff ${layer}/`,
  );
  const manifest = renderManifest(new Map([...tree].map(([f, content]) => [f, sha256Hex(content)])));
  assert.is(readFileSync(join(goldenDir, MANIFEST_FILE), 'utf8'), manifest, `${goldenDir}/${MANIFEST_FILE} does not list its files: run npm run golden:update`);
}

/** Entries of `layer` whose fixture is gone (`scenarioOf` maps an entry to its fixture): deleted on update, an error otherwise. */
export function pruneGoldens(layer: string, scenarioOf: (entry: string) => string = (entry) => entry): void {
  if (!existsSync(layer)) return;
  for (const name of readdirSync(layer)) {
    if (scenarios.includes(scenarioOf(name))) continue;
    if (UPDATE) rmSync(join(layer, name), { recursive: true, force: true });
    else assert.unreachable(`${layer}/${name} has no fixture: run npm run golden:update to delete it`);
  }
}
