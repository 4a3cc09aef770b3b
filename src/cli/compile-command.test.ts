/**
 * `compile -o` and `--check` stream the tree one proxy at a time: the bytes, the atomic
 * replacement and the golden diff must be what the whole-tree renderer gives.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh, writeMesh } from '../../bench/generate-mesh.ts';
import { compilePaths, startCompilePaths, type CompileSession } from '../compiler/compile.ts';
import { readTree, renderTree, treeFiles, writeTree } from '../compiler/output-tree.ts';
import { diffTrees } from '../compiler/tree-diff.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { BuiltinCa } from '../identity/index.ts';
import { runCompile, type CompileCommandOptions } from './compile-command.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-compile-command-'));
let n = 0;
const fresh = (): string => join(root, `case-${n++}`);
const leftovers = (dir: string): string[] => readdirSync(join(dir, '..')).filter((f) => /^\..*\.(tmp|old)-\d+$/.test(f));

async function run(
  paths: string[],
  opts: Partial<CompileCommandOptions>,
  start: typeof startCompilePaths = startCompilePaths,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCompile(paths, { format: 'yaml', ...opts }, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => '',
    cwd: process.cwd(),
    isTTY: false,
    env: {},
  }, start);
  return { code, stdout, stderr };
}

/** The permissive sample: every proxy calls every service. */
const mesh = join(root, 'mesh');
writeMesh(generateMesh({ services: 12, permissive: true, seed: 3 }), mesh);

test('-o writes the same bytes as rendering the whole tree (yaml and json)', async () => {
  for (const format of ['yaml', 'json'] as const) {
    for (const input of ['fixtures/bookstore', mesh]) {
      const out = fresh();
      const r = await run([input], { output: out, format });
      assert.is(r.code, 0, r.stderr);
      const expected = renderTree(compilePaths([input]).proxies, format);
      assert.equal(readTree(out), expected, `${input} ${format}`);
      const bytes = [...expected.values()].reduce((s, c) => s + Buffer.byteLength(c), 0);
      assert.match(r.stderr, new RegExp(`wrote \\d+ proxies \\(${expected.size} files, ${(bytes / 1024).toFixed(1)} KiB\\)`));
      assert.equal(leftovers(out), []);
    }
  }
});

test('an SMI9001 found mid-stream: exit 1, the old tree intact, no staging directory', async () => {
  const out = fresh();
  assert.is((await run(['fixtures/bookstore'], { output: out })).code, 0);
  const before = readTree(out);
  const broken = fresh();
  cpSync('fixtures/bookstore', broken, { recursive: true });
  const access = join(broken, 'traffic-access-v1.yaml');
  writeFileSync(access, readFileSync(access, 'utf8').replace('"client-app": "bookbuyer"', '"client-app": "book\\uD800buyer"'));
  // In path order bookbuyer/bookbuyer comes first and is fine (staged), bookstore/bookstore-v2 fails.
  const r = await run([broken], { output: out });
  assert.is(r.code, 1);
  assert.match(r.stderr, /SMI9001 .*proxy bookstore\/bookstore-v2/);
  assert.match(r.stderr, /SMI9001 .*proxy bookstore\/bookstore\)/, 'every problem is reported, not only the first');
  assert.match(r.stderr, /2 errors, \d+ warnings; nothing written/);
  assert.equal(readTree(out), before);
  assert.equal(leftovers(out), []);
  // Into a directory that did not exist: it still does not.
  const nowhere = fresh();
  assert.is((await run([broken], { output: nowhere })).code, 1);
  assert.not.ok(existsSync(nowhere));
  assert.equal(leftovers(nowhere), []);
});

test('--check streams the comparison: same diff and exit codes as diffTrees, missing files included', async () => {
  const golden = fresh();
  const expected = renderTree(compilePaths([mesh]).proxies, 'yaml');
  writeTree(expected, golden);
  const same = await run([mesh], { check: golden });
  assert.is(same.code, 0, same.stderr);
  assert.match(same.stderr, new RegExp(`up to date \\(${expected.size} files, \\d+ proxies`));
  assert.is(same.stdout, '');

  // Edit the golden: one file changed, one workload the compile does not produce, one file gone.
  const files = [...expected.keys()];
  const edited = new Map(expected);
  edited.set(files[3], `${expected.get(files[3])}# edited\n`);
  edited.set('aaa/gone/listeners.yaml', '[]\n');
  edited.set('zzz/gone/listeners.yaml', '[]\n');
  edited.delete(files[10]);
  writeTree(edited, golden);
  const spools = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('smi-compile-check-'));
  const spooledBefore = spools();
  const differ = await run([mesh], { check: golden });
  assert.is(differ.code, 1);
  assert.equal(spools(), spooledBefore, 'the patches spooled to a temporary file, which is gone');
  const differences = diffTrees(edited, expected);
  assert.equal(differences.map((d) => d.kind).sort(), ['changed', 'missing', 'missing', 'unexpected']);
  assert.is(differ.stdout, differences.map((d) => d.patch).join(''));
  assert.match(differ.stderr, /4 files differ \(missing, changed, unexpected\)/);

  const update = await run([mesh], { check: golden, update: true });
  assert.is(update.code, 0, update.stderr);
  assert.match(update.stderr, /updated 4 files/);
  assert.equal(readTree(golden), expected);
  assert.equal(leftovers(golden), []);
  assert.is((await run([mesh], { check: golden })).code, 0);
});

test('--format config-dump: the yaml tree plus config_dump.json per workload, with -o, --check and --emit-secrets (no key in the dump)', async () => {
  const out = fresh();
  const r = await run(['fixtures/bookstore'], { output: out, format: 'config-dump' });
  assert.is(r.code, 0, r.stderr);
  const proxies = compilePaths(['fixtures/bookstore']).proxies;
  const written = readTree(out);
  const yaml = renderTree(proxies, 'yaml');
  assert.equal(new Map([...written].filter(([f]) => !f.endsWith('/config_dump.json'))), yaml);
  assert.equal([...written.keys()].filter((f) => f.endsWith('/config_dump.json')), proxies.map((p) => `${p.namespace}/${p.workload}/config_dump.json`).sort());
  assert.equal(written, renderTree(proxies, 'yaml', { configDump: true }));
  assert.is((await run(['fixtures/bookstore'], { check: out, format: 'config-dump' })).code, 0);
  // A yaml golden lacks the dumps: --check says so.
  const yamlGolden = fresh();
  writeTree(yaml, yamlGolden);
  const differ = await run(['fixtures/bookstore'], { check: yamlGolden, format: 'config-dump' });
  assert.is(differ.code, 1);
  assert.match(differ.stdout, /config_dump\.json/);

  const ca = fresh();
  await BuiltinCa.init(ca);
  const withKeys = fresh();
  const s = await run(['fixtures/bookstore'], { output: withKeys, format: 'config-dump', ca, emitSecrets: true });
  assert.is(s.code, 0, s.stderr);
  const dump = readFileSync(join(withKeys, 'bookbuyer', 'bookbuyer', 'config_dump.json'), 'utf8');
  assert.match(dump, /"private_key": \{\s*"filename": "\[redacted\]"/);
  assert.match(dump, /BEGIN CERTIFICATE|tls\.crt/);
  assert.not.match(dump, /PRIVATE KEY|tls\.key/);
});

test('--check --update with nothing to update leaves the golden tree untouched', async () => {
  const golden = fresh();
  writeTree(renderTree(compilePaths(['fixtures/bookstore']).proxies, 'yaml'), golden);
  const inode = statSync(golden).ino;
  const r = await run(['fixtures/bookstore'], { check: golden, update: true });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /up to date/);
  assert.is(statSync(golden).ino, inode, 'not replaced by a staged copy');
  assert.equal(leftovers(golden), []);
});

test('errors before emit: nothing written, no staging directory', async () => {
  const out = fresh();
  const r = await run([join(root, 'no-such-input')], { output: out });
  assert.is(r.code, 1);
  assert.match(r.stderr, /nothing written/);
  assert.not.ok(existsSync(out));
  assert.equal(leftovers(out), []);
});

/** A session whose proxies pass through `watch` on their way to the command. */
function watched(watch: (proxy: ProxyConfig, index: number) => void): typeof startCompilePaths {
  return (...args) => {
    const session = startCompilePaths(...args);
    return {
      ...session,
      *proxies(order) {
        let i = 0;
        for (const proxy of session.proxies(order)) {
          watch(proxy, i++);
          yield proxy;
        }
      },
    } satisfies CompileSession;
  };
}

test('--ca and --emit-secrets stream: each proxy is written before the next ones are emitted, and dropped', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const ca = join(root, 'ca');
  await BuiltinCa.init(ca);
  for (const emitSecrets of [false, true]) {
    const out = fresh();
    const staging = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
    const dirs: string[] = [];
    const refs: WeakRef<object>[] = [];
    let stagedBehind = 0;
    let maxAlive = 0;
    const r = await run([mesh], { output: out, ca, emitSecrets }, watched((proxy, i) => {
      dirs.push(`${proxy.namespace}/${proxy.workload}`);
      // The directory two proxies back is on disk already (the last one may wait for a namesake).
      if (i >= 2 && existsSync(join(staging, dirs[i - 2], 'secrets.yaml'))) stagedBehind++;
      if (emitSecrets) {
        // Issuing a certificate awaits key generation: jobs end between proxies, so what the
        // command dropped can be collected here (WeakRefs keep their targets to the end of a job).
        gc();
        maxAlive = Math.max(maxAlive, refs.slice(0, Math.max(0, i - 2)).filter((ref) => ref.deref() !== undefined).length);
      }
      refs.push(new WeakRef(proxy.resources.clusters));
    }));
    assert.is(r.code, 0, r.stderr);
    assert.ok(dirs.length > 12);
    assert.is(stagedBehind, dirs.length - 2, `written as they come (--emit-secrets: ${emitSecrets})`);
    if (emitSecrets) assert.ok(maxAlive <= 1, `${maxAlive} of the proxies handed out before still reachable`);
    assert.equal(treeFiles(out).length, dirs.length * (emitSecrets ? 8 : 6));
  }
});

/** A session whose proxies are renamed on their way out: names the parser would refuse, as if it had let them through. */
function renamed(rename: (proxy: ProxyConfig) => Partial<ProxyConfig>): typeof startCompilePaths {
  return (...args) => {
    const session = startCompilePaths(...args);
    return {
      ...session,
      *proxies(order) {
        for (const proxy of session.proxies(order)) yield { ...proxy, ...rename(proxy) };
      },
    } satisfies CompileSession;
  };
}

test('names that would leave the output directory: SMI4001, exit 1, nothing written anywhere (with and without --emit-secrets)', async () => {
  const ca = join(root, 'ca-hostile');
  await BuiltinCa.init(ca);
  const hostile: Partial<ProxyConfig>[] = [
    { namespace: '../../../../victim' },
    { namespace: '..', workload: '..' },
    { workload: '/tmp/absolute' },
    { namespace: 'a\\..\\..', workload: 'w' },
    { namespace: 'ns', workload: 'w\u0000' },
    { namespace: '' },
  ];
  for (const names of hostile) {
    for (const emitSecrets of [false, true]) {
      const base = fresh();
      const out = join(base, 'deep', 'out');
      let n = 0;
      // The second proxy in path order gets the names: the first is already staged when it comes.
      const r = await run(['fixtures/bookstore'], { output: out, ...(emitSecrets ? { ca, emitSecrets } : {}) }, renamed(() => (n++ === 1 ? names : {})));
      assert.is(r.code, 1, `${JSON.stringify(names)}: ${r.stderr}`);
      assert.match(r.stderr, /error SMI4001 refusing to write ".*": .*; nothing written/);
      assert.not.match(r.stderr, /internal error|\n\s+at /);
      assert.not.ok(existsSync(base), `${JSON.stringify(names)}: nothing written, not even the parent directories`);
      assert.not.ok(existsSync(join(root, 'victim')));
      assert.not.ok(existsSync(join(root, '..', 'victim')));
    }
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
