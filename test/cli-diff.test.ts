/**
 * `smi-compile diff`: the bookstore fixture against a copy with one TrafficTarget source added,
 * the split reweighted and one HTTPRouteGroup match removed (review-diff-fixture.ts) gives
 * exactly those statements: test/golden-review/bookstore-diff.md, rewritten by UPDATE_GOLDEN=1.
 * `--base <ref>` in a temp git checkout; the exit codes.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../src/cli/main.ts';
import { runCli } from './cli-harness.ts';
import { editedBookstore } from './review-diff-fixture.ts';

const GOLDEN = 'test/golden-review/bookstore-diff.md';
const update = process.env.UPDATE_GOLDEN === '1';

let tmp = '';
let edited = '';
test.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'smi-diff-'));
  edited = join(tmp, 'edited');
  editedBookstore(edited);
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI with `cwd` as the job's working directory (github annotations are relative to it). */
async function runIn(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stdin: () => '', cwd, isTTY: false, env: {} });
  return { code, stdout, stderr };
}

test('markdown (the default): exactly the three edits, as statements, matching the golden', async () => {
  const r = await runCli(['diff', 'fixtures/bookstore', '--', edited]);
  assert.is(r.code, 0, r.stderr);
  const text = r.stdout.replaceAll(edited, '<edited>');
  console.log(text.replace(/^/gm, '  '));
  if (update) writeFileSync(GOLDEN, text);
  assert.ok(existsSync(GOLDEN), `no ${GOLDEN}: run UPDATE_GOLDEN=1 node --import tsx test/cli-diff.test.ts`);
  assert.fixture(text, readFileSync(GOLDEN, 'utf8'));
});

test('json: the access statements name the added source and the removed match; the split moved 50 → 25 and 50 → 75', async () => {
  const r = await runCli(['diff', '--output', 'json', 'fixtures/bookstore', '--', edited]);
  assert.is(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.access.map((c: { text: string }) => c.text), [
    'bookthief/bookthief may now call bookstore/bookstore GET .*a-book.*new (only at bookstore/bookstore-v2)',
    'bookthief/bookthief may now call bookstore/bookstore-v2 GET .*a-book.*new',
    'bookbuyer/bookbuyer can no longer call bookstore/bookstore GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer}',
    'bookbuyer/bookbuyer can no longer call bookstore/bookstore-v1 GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer}',
    'bookbuyer/bookbuyer can no longer call bookstore/bookstore-v2 GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer}',
  ]);
  assert.equal(d.splits.map((c: { text: string }) => c.text), ['split bookstore/bookstore: bookstore-v1 50 → 25, bookstore-v2 50 → 75']);
  assert.equal(d.splits[0].backends, [
    { service: 'bookstore/bookstore-v1', before: 50, after: 25 },
    { service: 'bookstore/bookstore-v2', before: 50, after: 75 },
  ]);
  assert.ok(d.proxies.some((p: { text: string }) => p.text === 'proxy bookstore/bookstore-v2: 2 resources change'));
});

test('github: one annotation per change at the policy line that caused it, relative to the working directory', async () => {
  const r = await runIn(tmp, ['diff', '--output', 'github', join(process.cwd(), 'fixtures/bookstore'), '--', edited]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  console.log(lines.map((l) => `  ${l}`).join('\n'));
  // The added source entry, the group's `matches:` that lost one, the first weight that moved.
  assert.ok(lines.includes('::warning file=edited/bookstore-v2.yaml,line=87,col=5,title=smi-compile diff::bookthief/bookthief may now call bookstore/bookstore-v2 GET .*a-book.*new'), r.stdout);
  assert.ok(lines.includes('::notice file=edited/traffic-access-v1.yaml,line=27,col=3,title=smi-compile diff::bookbuyer/bookbuyer can no longer call bookstore/bookstore-v1 GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer}'), r.stdout);
  assert.ok(lines.some((l) => l.startsWith('::notice file=edited/traffic-split-50-50.yaml,line=10,') && l.endsWith('::split bookstore/bookstore: bookstore-v1 50 → 25, bookstore-v2 50 → 75')), r.stdout);
  assert.ok(lines.includes('::notice title=smi-compile diff::proxy bookstore/bookstore-v2: 2 resources change'), r.stdout);
});

test('--fail-on-new-access: exit 1 when an edge was added; 0 when only access was removed or nothing changed', async () => {
  assert.is((await runCli(['diff', '--fail-on-new-access', 'fixtures/bookstore', '--', edited])).code, 1);
  const same = await runCli(['diff', '--fail-on-new-access', 'fixtures/bookstore', '--', 'fixtures/bookstore']);
  assert.is(same.code, 0);
  assert.is(same.stdout, '### smi-compile diff\n\nNo change in access, splits or Envoy configuration.\n');
  // Only removals: the edited copy without bookthief's new source, against the fixture.
  const fewer = join(tmp, 'fewer');
  editedBookstore(fewer);
  const v2 = join(fewer, 'bookstore-v2.yaml');
  writeFileSync(v2, readFileSync(v2, 'utf8').replace('  - kind: ServiceAccount\n    name: bookthief\n    namespace: bookthief\n', ''));
  const removed = await runCli(['diff', '--fail-on-new-access', '--output', 'json', 'fixtures/bookstore', '--', fewer]);
  assert.is(removed.code, 0, removed.stdout);
  assert.ok(JSON.parse(removed.stdout).access.every((c: { change: string }) => c.change === 'removed'));
});

test('--base HEAD compares the working tree with the last commit, in a git checkout', async () => {
  const repo = join(tmp, 'repo');
  cpSync('fixtures/bookstore', join(repo, 'mesh'), { recursive: true });
  const git = (...args: string[]) => {
    const g = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, encoding: 'utf8' });
    assert.is(g.status, 0, g.stderr);
  };
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'bookstore');
  const unchanged = await runIn(repo, ['diff', join(repo, 'mesh'), '--base', 'HEAD']);
  assert.is(unchanged.code, 0, unchanged.stderr);
  assert.match(unchanged.stdout, 'No change');
  rmSync(join(repo, 'mesh'), { recursive: true });
  editedBookstore(join(repo, 'mesh'));
  const r = await runIn(repo, ['diff', join(repo, 'mesh'), '--base', 'HEAD', '--fail-on-new-access']);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, readFileSync(GOLDEN, 'utf8').replaceAll('<edited>', 'mesh'));
  const bad = await runIn(repo, ['diff', join(repo, 'mesh'), '--base', 'no-such-ref']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, '--base no-such-ref: no such commit');
});

test('usage: no -- and no --base, both, or an empty side exit 2; a side with errors exits 1', async () => {
  assert.is((await runCli(['diff', 'fixtures/bookstore'])).code, 2);
  assert.is((await runCli(['diff', 'fixtures/bookstore', '--base', 'HEAD', '--', 'fixtures/bookstore'])).code, 2);
  assert.is((await runCli(['diff', '--', 'fixtures/bookstore'])).code, 2);
  const broken = join(tmp, 'broken.yaml');
  writeFileSync(broken, 'apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: s, namespace: a}\nspec:\n  service: nope\n  backends: [{service: x, weight: 1}]\n');
  const r = await runCli(['diff', 'fixtures/bookstore', '--', broken]);
  assert.is(r.code, 1);
  assert.match(r.stderr, 'the new manifests have errors');
});

test.run();
