/**
 * `smi-compile inject` golden: each file of test/inject/fixtures/ injected with the default flags
 * is test/inject/golden/<same name> byte for byte (a separate folder: fixtures/ holds compile
 * scenarios, each compiled by golden.test.ts). `UPDATE_GOLDEN=1` (or `npm run golden:update`)
 * rewrites them; review `git diff test/inject/golden` like code. Injecting a golden again gives
 * it back unchanged (a pod is never injected twice).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from './cli-harness.ts';

const FIXTURES = 'test/inject/fixtures';
const GOLDEN = 'test/inject/golden';
const update = process.env.UPDATE_GOLDEN === '1';
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort();

for (const file of files) {
  test(`inject golden: ${file}`, async () => {
    const r = await runCli(['inject', '-f', join(FIXTURES, file)]);
    assert.is(r.code, 0, r.stderr);
    const golden = join(GOLDEN, file);
    if (update) {
      writeFileSync(golden, r.stdout);
      return;
    }
    assert.ok(existsSync(golden), `no golden for ${file}: run npm run golden:update`);
    assert.fixture(r.stdout, readFileSync(golden, 'utf8'));
    const again = await runCli(['inject', '-f', '-'], r.stdout);
    assert.is(again.code, 0, again.stderr);
    assert.is(again.stdout, r.stdout, 'injecting an injected file changes nothing');
  });
}

test('inject golden: no golden without a fixture', () => {
  for (const name of readdirSync(GOLDEN)) {
    if (files.includes(name)) continue;
    if (update) rmSync(join(GOLDEN, name));
    else assert.unreachable(`${GOLDEN}/${name} has no fixture`);
  }
});

test.run();
