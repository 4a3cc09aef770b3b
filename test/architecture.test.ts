/**
 * The import rule of src/ (issue 20), checked with dependency-cruiser as configured in
 * .dependency-cruiser.cjs: each stage imports only from the stages below it, no module imports
 * in a cycle, and src/shared imports nothing else from src. A failure prints dependency-cruiser's
 * list of the offending imports.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = new URL('../', import.meta.url).pathname;
/** The CLI as installed (the package's exports do not include its bin). */
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function depcruise(): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

test('src imports follow the stage order, without cycles', () => {
  const { status, output } = depcruise();
  // It must have read the TypeScript sources: a cruise of nothing passes every rule.
  const modules = Number(/(\d+) modules/.exec(output)?.[1] ?? 0);
  assert.ok(modules > 200, `dependency-cruiser read ${modules} modules:\n${output}`);
  assert.is(status, 0, output);
});

test.run();
