/**
 * `serve --watch` as a process, seen by a proxy: saves in quick succession (0–60 ms apart, the
 * file watcher drops a second change within 50 ms), each pair's last save must reach the proxy.
 * The assertion is on what the proxy receives over ADS, awaited response by response.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawAdsClient } from '../../src/serve/xds/raw-client.ts';
import { RDS } from '../../src/serve/xds/type-urls.ts';
import { within } from '../e2e/support.ts';
import { collectLines, lineWritten } from './spawn.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Same-size saves: `/books-bought` becomes `/b-<n>`. */
const routeAs = (text: string, n: number) => text.replace(/pathRegex: \/\S+/, `pathRegex: /b-${String(n).padStart(6, '0')}`);

test('pairs of saves 0–60 ms apart: the proxy always ends with the second', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-rapid-saves-'));
  cpSync('fixtures/bookstore', dir, { recursive: true });
  const access = join(dir, 'traffic-access-v1.yaml');
  const original = readFileSync(access, 'utf8');
  const child = spawn(process.execPath, ['bin/smi-compile.js', 'serve', dir, '--watch', '--port', '0', '--admin-port', '0', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = collectLines(child.stderr!);
  let client: RawAdsClient | undefined;
  try {
    await within(20_000, 'server listening', lineWritten(child.stderr!, lines, (l) => l.includes('xDS server listening')));
    const listening = lines.map((l) => JSON.parse(l) as { msg: string; port?: number }).find((r) => r.msg === 'xDS server listening')!;
    client = new RawAdsClient(`127.0.0.1:${listening.port}`);
    const s = client.sotw();
    const request = { node: { id: 'bookstore/bookstore' }, typeUrl: RDS, resourceNames: ['rds-inbound.14001'] };
    s.send(request);
    /** Reads (and ACKs) responses until one carries the route `/b-<n>`; a bounded number of them. */
    const receives = async (n: number): Promise<void> => {
      const marker = `/b-${String(n).padStart(6, '0')}`;
      for (let i = 0; i < 20; i++) {
        const r = await s.next(5000);
        s.send({ ...request, versionInfo: r.versionInfo, responseNonce: r.nonce });
        if (r.resources.some((res) => Buffer.from(res.value).toString('latin1').includes(marker))) return;
      }
      assert.unreachable(`the proxy never received ${marker}`);
    };
    await s.next(5000).then((r) => s.send({ ...request, versionInfo: r.versionInfo, responseNonce: r.nonce }));
    let n = 0;
    for (const gap of [35, 0, 20, 45, 10, 30, 60]) {
      writeFileSync(access, routeAs(original, ++n));
      await sleep(gap); // the input: how far apart the two saves are
      writeFileSync(access, routeAs(original, ++n));
      await receives(n);
    }
  } finally {
    client?.close();
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
