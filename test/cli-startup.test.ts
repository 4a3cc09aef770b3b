/**
 * How the CLI starts (issue 21): bin/smi-compile.js runs a bundle of the sources cached in
 * node_modules/.cache/smi-compile (bin/cli-bundle.js), never a stale one, and SMI_COMPILE_PROFILE
 * says where a run's time went. The cache tests run on a copy of the repository (its own
 * node_modules directory, linking the real packages), so the real cache is not touched.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const REPO = join(import.meta.dirname, '..');

/** A copy of what the CLI needs to run, with a node_modules of its own (links to the real packages). */
function copyOfRepo(): string {
  const root = mkdtempSync(join(tmpdir(), 'smi-startup-'));
  const notTests = (src: string) => !src.endsWith('.test.ts');
  for (const dir of ['bin', 'src', 'schemas']) cpSync(join(REPO, dir), join(root, dir), { recursive: true, filter: notTests });
  mkdirSync(join(root, 'scripts'));
  for (const file of ['scripts/bundle.mjs', 'tsconfig.json', 'package.json']) cpSync(join(REPO, file), join(root, file));
  mkdirSync(join(root, 'node_modules'));
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    if (name !== '.cache') symlinkSync(join(REPO, 'node_modules', name), join(root, 'node_modules', name));
  }
  return root;
}

function cli(root: string, args: string[], env: Record<string, string> = {}) {
  const { SMI_COMPILE_BUNDLE: _, SMI_COMPILE_PROFILE: __, ...rest } = process.env;
  return spawnSync(process.execPath, [join(root, 'bin', 'smi-compile.js'), ...args], { encoding: 'utf8', env: { ...rest, ...env }, cwd: root });
}

function manifest(root: string): { hash: string; inputs: string[] } {
  return JSON.parse(readFileSync(join(root, 'node_modules', '.cache', 'smi-compile', 'manifest.json'), 'utf8'));
}

test('the bundle is built on the first run, used while the sources are unchanged, and rebuilt after any edit', () => {
  const root = copyOfRepo();
  try {
    const first = cli(root, ['--version']);
    assert.is(first.status, 0, first.stderr);
    assert.is(first.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    const built = manifest(root);
    assert.ok(built.inputs.includes('src/cli/main.ts'));
    assert.ok(built.inputs.includes('src/cli/lint-command.ts'), 'modules imported on demand are inputs too');
    assert.ok(built.inputs.includes('tsconfig.json'));

    // The next run takes the cached bundle: a mark put into it shows.
    appendFileSync(join(root, 'node_modules', '.cache', 'smi-compile', built.hash, 'main.mjs'), `\nprocess.stderr.write('from the cached bundle\\n');\n`);
    const cached = cli(root, ['--version']);
    assert.is(cached.status, 0, cached.stderr);
    assert.match(cached.stderr, 'from the cached bundle');

    // A developer edits a source, even one loaded only on demand, and reruns: the edit runs.
    const lint = join(root, 'src', 'cli', 'lint-command.ts');
    writeFileSync(lint, readFileSync(lint, 'utf8').replace('export function runLint(paths: string[], opts: LintCommandOptions, io: CliIO): number {', "$&\n  io.stderr('edited lint\\n');"));
    const edited = cli(root, ['lint', join(REPO, 'fixtures', 'bookstore')]);
    assert.is(edited.status, 0, edited.stderr);
    assert.match(edited.stderr, 'edited lint');
    assert.not.match(edited.stderr, 'from the cached bundle');
    assert.is.not(manifest(root).hash, built.hash);

    // Sources esbuild rejects: no bundle; the sources run through tsx, which reports the error (exit 1, no stack).
    writeFileSync(lint, `${readFileSync(lint, 'utf8')}\nexport const broken = ;\n`);
    const broken = cli(root, ['lint', join(REPO, 'fixtures', 'bookstore')]);
    assert.is(broken.status, 1);
    assert.match(broken.stderr, 'smi-compile: internal error');

    // SMI_COMPILE_BUNDLE=0: always the sources through tsx.
    writeFileSync(lint, readFileSync(lint, 'utf8').replace('\nexport const broken = ;\n', '').replace("edited lint", 'edited again'));
    const viaTsx = cli(root, ['lint', join(REPO, 'fixtures', 'bookstore')], { SMI_COMPILE_BUNDLE: '0' });
    assert.is(viaTsx.status, 0, viaTsx.stderr);
    assert.match(viaTsx.stderr, 'edited again');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('SMI_COMPILE_PROFILE=1: one line on stderr with start-up, each phase, total and CPU', () => {
  const r = cli(REPO, ['lint', 'fixtures/bookstore'], { SMI_COMPILE_PROFILE: '1' });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('smi-compile profile: '));
  assert.is(lines.length, 1);
  const profile = JSON.parse(lines[0].slice('smi-compile profile: '.length)) as Record<string, number>;
  for (const key of ['node', 'load', 'import', 'importCpu', 'read', 'parse', 'build', 'passes', 'report', 'other', 'total', 'cpu', 'maxRssKiB']) {
    assert.type(profile[key], 'number', key);
  }
  const wall = ['node', 'load', 'import', 'read', 'parse', 'build', 'passes', 'report', 'other'].reduce((a, k) => a + profile[k], 0);
  assert.ok(Math.abs(wall - profile.total) <= 10, `the wall-clock phases add up to the total (${wall} vs ${profile.total})`);
  const without = cli(REPO, ['lint', 'fixtures/bookstore']);
  assert.not.match(without.stderr, 'smi-compile profile');
});

test.run();
