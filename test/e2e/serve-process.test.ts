/**
 * `serve` as a process: JSON logs when stderr is not a terminal, and a graceful stop on SIGTERM
 * (streams told UNAVAILABLE so proxies reconnect elsewhere, exit code 0), even when the signal
 * comes while it is still starting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawAdsClient } from '../../src/serve/xds/raw-client.ts';
import { CDS } from '../../src/serve/xds/type-urls.ts';
import { within } from './support.ts';
import { collectLines, lineWritten } from '../hardening/spawn.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('SIGTERM: streams end with UNAVAILABLE, the process exits 0, every log line is JSON', async () => {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/e2e/fixtures/serve-child.ts'), join(ROOT, 'fixtures/bookstore')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = collectLines(child.stderr!);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let client: RawAdsClient | undefined;
  try {
    await within(15_000, 'server listening', lineWritten(child.stderr!, lines, (l) => l.includes('xDS server listening')));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const listen = records.find((r) => r.msg === 'xDS server listening')!;
    client = new RawAdsClient(`127.0.0.1:${listen.port}`);
    const s = client.sotw();
    s.send({ node: { id: 'bookbuyer/bookbuyer' }, typeUrl: CDS });
    await s.next(5000);
    child.kill('SIGTERM');
    const ended = await within(5000, 'stream end', s.ended());
    assert.is(ended?.code, 14);
    assert.is(await within(5000, 'exit', exited), 0);
    const all = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(all.some((r) => r.msg === 'shutting down' && r.signal === 'SIGTERM'));
    assert.ok(all.some((r) => r.msg === 'xDS server stopped'));
    assert.ok(all.every((r) => typeof r.time === 'string' && typeof r.level === 'string'));
  } finally {
    client?.close();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('SIGTERM while starting (after the first compile, before listening is done): a graceful stop, exit 0', async () => {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/e2e/fixtures/serve-child.ts'), join(ROOT, 'fixtures/bookstore')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = collectLines(child.stderr!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    // The first compile is served before the file watcher starts and before "listening".
    await within(15_000, 'first snapshot', lineWritten(child.stderr!, lines, (l) => l.includes('serving snapshot')));
    child.kill('SIGTERM');
    assert.equal(await within(15_000, 'exit', exited), { code: 0, signal: null });
    const all = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(all.some((r) => r.msg === 'shutting down' && r.signal === 'SIGTERM'));
    assert.ok(all.some((r) => r.msg === 'xDS server stopped'));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test.run();
