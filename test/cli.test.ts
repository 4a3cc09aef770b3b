import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, tempTree } from './cli-harness.ts';

const GOOD_SERVICE = `apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: web}]
`;

test('compile --static also writes bootstrap-static.yaml, which a later compile may replace', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE });
  const out = join(dir, 'out');
  const r = await runCli([join(dir, 'in'), '-o', out, '--static']);
  assert.is(r.code, 0, r.stderr);
  assert.ok(readdirSync(join(out, 'shop', 'web')).includes('bootstrap-static.yaml'));
  assert.match(readFileSync(join(out, 'shop', 'web', 'bootstrap-static.yaml'), 'utf8'), /^static_resources:\n  listeners:\n    - name: inbound-listener/m);
  const again = await runCli([join(dir, 'in'), '-o', out]);
  assert.is(again.code, 0, again.stderr);
  assert.not.ok(existsSync(join(out, 'shop', 'web', 'bootstrap-static.yaml')), 'the tree is replaced as a whole');
});

test('compile writes one directory per workload with the six files', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE });
  const out = join(dir, 'out');
  const r = await runCli([join(dir, 'in'), '-o', out]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(join(out, 'shop', 'web')).sort(), [
    'bootstrap.yaml', 'clusters.yaml', 'endpoints.yaml', 'listeners.yaml', 'routes.yaml', 'secrets.yaml',
  ]);
  assert.match(r.stderr, /wrote 1 proxy \(6 files/);
  rmSync(dir, { recursive: true, force: true });
});

test('the compile subcommand name is optional and --format json writes .json files', async () => {
  const dir = tempTree({ 'app.yaml': GOOD_SERVICE });
  const r = await runCli(['compile', join(dir, 'app.yaml'), '-o', join(dir, 'out'), '--format', 'json']);
  assert.is(r.code, 0, r.stderr);
  const listeners = JSON.parse(readFileSync(join(dir, 'out', 'shop', 'web', 'listeners.json'), 'utf8'));
  assert.is(listeners[0]['@type'], 'type.googleapis.com/envoy.config.listener.v3.Listener');
  rmSync(dir, { recursive: true, force: true });
});

test('malformed input: exit 1, file:line diagnostics, no stack trace, nothing written', async () => {
  const dir = tempTree({
    'routes.yaml': `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: routes
  namespace: shop
spec:
  matches:
  - name: get
    methods: GET
`,
    'misplaced.yaml': `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: misplaced
  namespace: shop
spec: {}
matches:
- name: all
  pathRegex: .*
`,
    'broken.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n',
    'app.yaml': GOOD_SERVICE,
  });
  const out = join(dir, 'out');
  const r = await runCli([dir, '-o', out]);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`${join(dir, 'routes.yaml')}:9:14: error SMI1002 `));
  assert.match(r.stderr, new RegExp(`${join(dir, 'misplaced.yaml')}:7:1: error SMI1003 `));
  assert.match(r.stderr, new RegExp(`${join(dir, 'broken.yaml')}:\\d+:\\d+: error SMI1001 `));
  assert.match(r.stderr, /nothing written/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.not.ok(existsSync(out), 'no output directory');
  rmSync(dir, { recursive: true, force: true });
});

test('a failed compile leaves the previous output untouched', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE });
  const out = join(dir, 'out');
  assert.is((await runCli([join(dir, 'in'), '-o', out])).code, 0);
  const before = readFileSync(join(out, 'shop', 'web', 'listeners.yaml'), 'utf8');
  writeFileSync(join(dir, 'in', 'bad.yaml'), 'kind: [\n');
  assert.is((await runCli([join(dir, 'in'), '-o', out])).code, 1);
  assert.is(readFileSync(join(out, 'shop', 'web', 'listeners.yaml'), 'utf8'), before);
  rmSync(dir, { recursive: true, force: true });
});

test('-o refuses to replace a directory holding files it did not write (exit 2)', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE, 'out/notes.txt': 'mine' });
  const r = await runCli([join(dir, 'in'), '-o', join(dir, 'out')]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /error SMI4003 refusing to replace/);
  assert.ok(existsSync(join(dir, 'out', 'notes.txt')));
  rmSync(dir, { recursive: true, force: true });
});

test('--check: 0 when up to date, 1 with a unified diff when not, --update fixes it', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE });
  const golden = join(dir, 'golden');
  assert.is((await runCli([join(dir, 'in'), '-o', golden])).code, 0);
  assert.is((await runCli([join(dir, 'in'), '--check', golden])).code, 0);
  writeFileSync(join(dir, 'in', 'app.yaml'), GOOD_SERVICE.replace('port: 80,', 'port: 81,'));
  const changed = await runCli([join(dir, 'in'), '--check', golden]);
  assert.is(changed.code, 1);
  assert.match(changed.stdout, /^--- golden\/shop\/web\/routes\.yaml/m);
  assert.match(changed.stdout, /^\+\+\+ compiled\/shop\/web\/routes\.yaml/m);
  assert.match(changed.stdout, /^-.*rds-inbound\.8080|^[-+].*:80\b|^[-+].*:81\b/m);
  assert.match(changed.stderr, /differ/);
  assert.is((await runCli([join(dir, 'in'), '--check', golden, '--update'])).code, 0);
  assert.is((await runCli([join(dir, 'in'), '--check', golden])).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

/** Every file below `dir` with its content: what must not change when smi-compile refuses. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[`${r}/`] = '';
        walk(p, r);
      } else if (e.isSymbolicLink()) out[r] = `-> ${readlinkSync(p)}`;
      else out[r] = readFileSync(p, 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

test('--check DIR --update refuses a directory holding files it did not write (README, src/, .git/): exit 2, SMI4003, nothing touched', async () => {
  const dir = tempTree({
    'in/app.yaml': GOOD_SERVICE,
    'repo/README.md': '# mine\n',
    'repo/src/main.c': 'int main() {}\n',
    'repo/.git/HEAD': 'ref: refs/heads/main\n',
  });
  const before = snapshot(dir);
  const r = await runCli([join(dir, 'in'), '--check', join(dir, 'repo'), '--update']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /error SMI4003 refusing to replace .*repo: it has no \.smi-compile\.sha256/);
  assert.match(r.stderr, /"\.git\/", "README\.md", "src\/"/);
  assert.equal(snapshot(dir), before);
  rmSync(dir, { recursive: true, force: true });
});

test('--check . --update in a working tree: refused, nothing deleted', () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE, 'README.md': '# mine\n', 'src/x.ts': 'x\n' });
  const before = snapshot(dir);
  // A child process in the directory: `.` must mean the temporary directory, never this checkout.
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/smi-compile.js'), 'in', '--check', '.', '--update'], { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /SMI4003 refusing to replace \./);
  assert.equal(snapshot(dir), before);
  rmSync(dir, { recursive: true, force: true });
});

test('-o: a file is not replaced by a directory; look-alike output, empty directories and edited files are not deleted', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE, 'file.txt': 'mine\n', 'lookalike/prod/app/routes.yaml': '# mine\n' });
  const before = snapshot(dir);
  const file = await runCli([join(dir, 'in'), '-o', join(dir, 'file.txt')]);
  assert.is(file.code, 2);
  assert.match(file.stderr, /error SMI4005 .*file\.txt is a file, not a directory/);
  const lookalike = await runCli([join(dir, 'in'), '-o', join(dir, 'lookalike')]);
  assert.is(lookalike.code, 2);
  assert.match(lookalike.stderr, /error SMI4003 /);
  assert.equal(snapshot(dir), before);

  // A tree smi-compile wrote, then touched by a user.
  const out = join(dir, 'out');
  assert.is((await runCli([join(dir, 'in'), '-o', out])).code, 0);
  for (const [touch, shown] of [
    [() => mkdirSync(join(out, 'shop', 'empty')), /"shop\/empty\/"/],
    [() => writeFileSync(join(out, 'shop', 'web', 'routes.yaml'), '# my edit\n'), /"shop\/web\/routes\.yaml" \(changed since smi-compile wrote it\)/],
    [() => (mkdirSync(join(out, 'prod', 'app'), { recursive: true }), writeFileSync(join(out, 'prod', 'app', 'routes.yaml'), '# mine\n')), /"prod\/app\/routes\.yaml"/],
    [() => symlinkSync(join(out, 'nowhere'), join(out, 'shop', 'dangling')), /"shop\/dangling" \(a symbolic link\)/],
    [() => (symlinkSync(join(out, 'l2'), join(out, 'l1')), symlinkSync(join(out, 'l1'), join(out, 'l2'))), /"l1" \(a symbolic link\)/],
  ] as [() => void, RegExp][]) {
    touch();
    const snap = snapshot(out);
    const r = await runCli([join(dir, 'in'), '-o', out]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /error SMI4002 refusing to replace /);
    assert.match(r.stderr, shown);
    assert.not.match(r.stderr, /internal error|\n\s+at /);
    assert.equal(snapshot(out), snap);
    rmSync(out, { recursive: true, force: true });
    assert.is((await runCli([join(dir, 'in'), '-o', out])).code, 0);
  }
  // An empty directory is taken.
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.is((await runCli([join(dir, 'in'), '-o', empty])).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

test('--check: a missing golden directory is SMI4006 (exit 2); --update creates it; a symbolic link inside a golden is SMI4008', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE });
  const golden = join(dir, 'golden');
  const missing = await runCli([join(dir, 'in'), '--check', golden]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /error SMI4006 golden directory .*golden does not exist; create it with --check .* --update/);
  assert.not.ok(existsSync(golden));
  assert.is((await runCli([join(dir, 'in'), '--check', golden, '--update'])).code, 0);
  assert.is((await runCli([join(dir, 'in'), '--check', golden])).code, 0);
  symlinkSync(join(golden, 'nowhere'), join(golden, 'shop', 'dangling'));
  const link = await runCli([join(dir, 'in'), '--check', golden]);
  assert.is(link.code, 2);
  assert.match(link.stderr, /error SMI4008 cannot read the tree .*golden: "shop\/dangling" is a symbolic link/);
  rmSync(dir, { recursive: true, force: true });
});

test('a golden written before manifests: --check still compares it; --update says how to adopt it, and adopting works', async () => {
  const dir = tempTree({ 'in/app.yaml': GOOD_SERVICE });
  const golden = join(dir, 'golden');
  assert.is((await runCli([join(dir, 'in'), '-o', golden])).code, 0);
  rmSync(join(golden, '.smi-compile.sha256')); // what an older smi-compile left
  assert.is((await runCli([join(dir, 'in'), '--check', golden])).code, 0, 'the manifest is not part of the comparison');
  const update = await runCli([join(dir, 'in'), '--check', golden, '--update']);
  assert.is(update.code, 2);
  assert.match(update.stderr, /SMI4003 .*if an older smi-compile wrote it, remove it \(git rm -r -q/);
  rmSync(golden, { recursive: true });
  assert.is((await runCli([join(dir, 'in'), '--check', golden, '--update'])).code, 0);
  assert.ok(existsSync(join(golden, '.smi-compile.sha256')));
  rmSync(dir, { recursive: true, force: true });
});

test('a mistyped command is a usage error naming the command, unless the word is a path', async () => {
  const typo = await runCli(['lnit', 'base']);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, /unknown command 'lnit' \(did you mean lint\?\)/);
  assert.match((await runCli(['comple', 'x'])).stderr, /did you mean compile\?/);
  assert.match((await runCli(['serv', 'x'])).stderr, /did you mean serve\?/);
  assert.match((await runCli(['--debug', 'lnit'])).stderr, /did you mean lint\?/);
  assert.match((await runCli(['-o', join(tmpdir(), 'serv'), 'no-such-input'])).stderr, /SMI1009 cannot read no-such-input/, 'an option\'s value is not a command');
  const far = await runCli(['nothing-like-a-command']);
  assert.is(far.code, 1);
  assert.match(far.stderr, /SMI1009/);
  const dir = tempTree({ 'lnit/app.yaml': GOOD_SERVICE });
  const asPath = spawnSync(process.execPath, [join(process.cwd(), 'bin/smi-compile.js'), 'lnit'], { cwd: dir, encoding: 'utf8' });
  assert.is(asPath.status, 0, asPath.stderr);
  assert.match(asPath.stderr, /compiled 1 proxy/);
  rmSync(dir, { recursive: true, force: true });
});

test('stdin with -', async () => {
  const dir = tempTree({});
  const r = await runCli(['-', '-o', join(dir, 'out')], GOOD_SERVICE);
  assert.is(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'out', 'shop', 'web', 'listeners.yaml')));
  rmSync(dir, { recursive: true, force: true });
});

test('usage errors exit 2; --help exits 0', async () => {
  assert.is((await runCli([])).code, 2);
  assert.is((await runCli(['compile', 'x', '--format', 'toml'])).code, 2);
  assert.is((await runCli(['compile', 'x', '--update'])).code, 2);
  assert.is((await runCli(['lint', 'x', '--fail-on', 'fatal'])).code, 2);
  assert.is((await runCli(['lint', 'x', '--suppress', 'NOPE9999'])).code, 2);
  const help = await runCli(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /compile/);
  assert.match(help.stdout, /lint/);
});

test('a missing input path is a diagnostic, not a crash', async () => {
  const r = await runCli(['does/not/exist', '-o', '/tmp/never-written-smi']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /SMI1009/);
});

test('lint: text by default, exit by --fail-on, suppressions', async () => {
  const dir = tempTree({ 'app.yaml': GOOD_SERVICE.replace('name: http, ', 'name: web, ') });
  const plain = await runCli(['lint', dir]);
  assert.is(plain.code, 0);
  assert.match(plain.stdout, /app\.yaml:11:\d+: warning SMI3007 /);
  assert.is((await runCli(['lint', dir, '--fail-on', 'warning'])).code, 1);
  const suppressed = await runCli(['lint', dir, '--fail-on', 'warning', '--suppress', 'SMI3007']);
  assert.is(suppressed.code, 0);
  assert.not.match(suppressed.stdout, /SMI3007/);
  const json = JSON.parse((await runCli(['lint', dir, '--output', 'json'])).stdout);
  assert.ok(JSON.stringify(json).includes('SMI3007'));
  rmSync(dir, { recursive: true, force: true });
});

test('npx smi-compile --help works through the bin shim (no build step)', () => {
  const r = spawnSync(process.execPath, ['bin/smi-compile.js', '--help'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: smi-compile/);
});

test.run();
