/** `smi-compile serve` through the real bin shim: it starts, answers its admin port, and exits 0 on SIGTERM. */
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

async function startsAndStops(extraArgs: string[]): Promise<void> {
  const child = spawn(process.execPath, ['bin/smi-compile.js', 'serve', 'fixtures/bookstore', '--port', '0', '--admin-port', '0', '--log-format', 'json', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
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

test.run();
