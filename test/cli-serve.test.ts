/**
 * `smi-compile serve` through the real bin shim, and through the bundle the container image runs
 * (scripts/bundle.mjs): it starts, answers its admin port, and exits 0 on SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleCli } from '../scripts/bundle.mjs';
import { imageEnv } from '../scripts/image-env.mjs';
import { runServeChild } from './hardening/serve-child.ts';

const BIN = ['bin/smi-compile.js'];

async function startsAndStops(extraArgs: string[], cli = BIN, opts: { env?: Record<string, string>; whileServing?: (pid: number) => void } = {}): Promise<void> {
  const child = spawn(process.execPath, [...cli, 'serve', 'fixtures/bookstore', '--port', '0', '--admin-port', '0', '--log-format', 'json', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stderr = '';
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const listening = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        for (const line of stderr.split('\n')) {
          if (!line.includes('listening')) continue;
          const record = JSON.parse(line) as { port: number; adminPort: number };
          resolve(record);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited early with ${code}: ${stderr}`)));
    });
    assert.ok(listening.port > 0);
    const ready = await fetch(`http://127.0.0.1:${listening.adminPort}/readyz`);
    assert.is(ready.status, 200);
    opts.whileServing?.(child.pid!);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 0);
    for (const line of stderr.trim().split('\n')) JSON.parse(line); // every log line is JSON
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
}

test('serve starts on ephemeral ports, reports ready, and shuts down cleanly on SIGTERM', () => startsAndStops([]));

// The bundle sits in a scratch directory beside a link to node_modules (Node resolves its packages from where it is).
const scratch = mkdtempSync(join(tmpdir(), 'smi-compile-bundle-'));
symlinkSync(resolve('node_modules'), join(scratch, 'node_modules'));
const bundled = [join(scratch, 'smi-compile.mjs')];
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('the bundled CLI (no tsx) compiles the example to its goldens, and fails on bad input with a coded diagnostic and exit 1', async () => {
  await bundleCli(bundled[0]);
  const check = spawnSync(process.execPath, [...bundled, 'fixtures/bookstore', '--static', '--check', 'golden/bookstore'], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
  assert.match(check.stdout + check.stderr, /golden\/bookstore: up to date/);
  const bad = spawnSync(process.execPath, [...bundled, 'lint', '-'], { input: 'kind: Service\napiVersion: v1\nmetadata: {name: [x]}\n', encoding: 'utf8' });
  assert.is(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /<stdin>:3:\d+: error SMI\d{4}/);
  assert.not.match(bad.stdout + bad.stderr, /\n\s+at /); // no stack trace
  assert.is(spawnSync(process.execPath, [...bundled, '--no-such-flag']).status, 2);
});

test('the bundled CLI serves as the bin shim does, and finds what sits beside its sources (the compile worker)', async () => {
  await startsAndStops([], bundled);
  await startsAndStops(['--compile-worker', '--watch', '--compile-worker-idle', '100'], bundled);
});

test("the bundled CLI serves under the image's runtime settings: its allocator is loaded and its node options accepted", async () => {
  const env = imageEnv();
  assert.is(env.LD_PRELOAD, 'libjemalloc.so.2');
  assert.match(env.NODE_OPTIONS ?? '', /--max-semi-space-size=\d+/);
  // .ci/run installs Debian's libjemalloc2, as the image does; elsewhere it may be missing, and
  // the dynamic loader then ignores LD_PRELOAD with a warning: say so rather than pass quietly.
  const installed = spawnSync('sh', ['-c', '{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q libjemalloc.so.2']).status === 0;
  if (!installed && !process.env.SMI_REQUIRE_JEMALLOC) {
    console.warn('  (skipped: libjemalloc.so.2 is not installed here; `apt-get install libjemalloc2`, as .ci/run does)');
    return;
  }
  let mapped = false;
  await startsAndStops([], bundled, { env, whileServing: (pid) => (mapped = /libjemalloc\.so\.2/.test(readFileSync(`/proc/${pid}/maps`, 'utf8'))) });
  assert.ok(mapped, 'jemalloc is mapped into the serving process');
});

test('serve --compile-worker compiles in a worker thread and stops as cleanly', () => startsAndStops(['--compile-worker', '--watch', '--compile-worker-idle', '100']));

test('serve refuses stdin with a usage error (exit 2)', async () => {
  const child = spawn(process.execPath, ['bin/smi-compile.js', 'serve', '-'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.is(code, 2);
});

test('--compile-worker-idle without --compile-worker is a usage error (exit 2)', async () => {
  const child = spawn(process.execPath, ['bin/smi-compile.js', 'serve', 'fixtures/bookstore', '--compile-worker-idle', '100'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.is(code, 2);
});

test('smi-compile serve: --address moves the xDS port only; --debug-endpoints turns /debug on', async () => {
  const fixture = 'fixtures/bookstore';
  const plain = await runServeChild([fixture, '--address', '127.0.0.2']);
  try {
    assert.match(plain.logs(), '"adminAddress":"127.0.0.1"');
    assert.is((await plain.admin('/readyz')).status, 200);
    assert.is((await plain.admin('/metrics')).status, 200);
    assert.is((await plain.admin('/debug/config?node=bookbuyer/bookbuyer')).status, 404);
  } finally {
    assert.is(await plain.stop(), 0);
  }
  const debug = await runServeChild([fixture, '--debug-endpoints']);
  try {
    const res = await debug.admin('/debug/config?node=bookbuyer/bookbuyer');
    assert.is(res.status, 200);
    assert.match(await res.text(), 'bookstore');
  } finally {
    assert.is(await debug.stop(), 0);
  }
});

test.run();
