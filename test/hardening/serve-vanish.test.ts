/**
 * `serve --watch` while the manifests go away: the directory removed, emptied, or made
 * unreadable. Each time the server logs what happened with file and code, keeps serving the
 * last good snapshot (connected proxies notice nothing), and recompiles once the manifests
 * are back.
 */
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryLogger, startServer } from '../../src/serve/index.ts';
import { RawAdsClient } from '../../src/serve/xds/raw-client.ts';
import { CDS } from '../../src/serve/xds/type-urls.ts';
import { metric } from './xds-clients.ts';
import { runServeChild } from './serve-child.ts';

const FIXTURE = new URL('../../fixtures/bookstore/', import.meta.url).pathname;
const PERMISSIVE = new URL('../../fixtures/bookstore-permissive/', import.meta.url).pathname;

test('removed, then emptied: the last good snapshot stays, each is logged, and recompiles resume', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smi-hardening-vanish-'));
  const dir = join(root, 'manifests');
  cpSync(FIXTURE, dir, { recursive: true });
  const logger = memoryLogger('debug'); // debug: the probe's 'stale nonce' line
  const server = await startServer({ paths: [dir], port: 0, adminPort: 0, watch: true, debounceMs: 50, logger, processMetrics: false });
  const client = new RawAdsClient(`127.0.0.1:${server.port}`);
  const logged = (text: string) => logger.records.filter((r) => String(r.msg).includes(text));
  const served = (version: (v: unknown) => boolean, from = 0) => logger.waitFor((r) => r.msg === 'serving snapshot' && version(r.version), from);
  try {
    const good = server.snapshot()!.version;
    const s = client.sotw();
    s.send({ node: { id: 'bookbuyer/bookbuyer' }, typeUrl: CDS });
    const r = await s.next();
    s.send({ typeUrl: CDS, versionInfo: r.versionInfo, responseNonce: r.nonce });

    rmSync(dir, { recursive: true, force: true });
    await logger.waitFor((r) => String(r.msg).includes('SMI5001'), 0);
    assert.match(String(logged('SMI1009')[0]?.msg), `cannot read ${dir}: no such file or directory`);
    assert.is(server.snapshot()!.version, good);

    // Back, with a change: the watcher still follows the path, and the proxy gets the new state.
    // (Permissive mode: bookbuyer may now call every service, so its clusters change.)
    cpSync(PERMISSIVE, dir, { recursive: true });
    await served((v) => v !== good);
    const pushed = await s.next(3000);
    assert.is(pushed.typeUrl, CDS);
    s.send({ typeUrl: CDS, versionInfo: pushed.versionInfo, responseNonce: pushed.nonce });
    const back = server.snapshot()!.version;

    // Emptied (a checkout half done, a volume mid-update): not an empty mesh to serve.
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
    await logger.waitFor((r) => String(r.msg).includes('SMI5003'), 0);
    assert.is(server.snapshot()!.version, back);
    // A probe the stream handles (a nonce never sent, logged as stale) proves it is still open and
    // that the server is done with it: then it has written exactly what the client has read.
    const from = logger.records.length;
    s.send({ typeUrl: CDS, responseNonce: 'probe' });
    await logger.waitFor((r) => r.msg === 'stale nonce' && r.nonce === 'probe', from);
    assert.is(await metric(server, 'responses'), client.received, 'the connected proxy was sent something');

    const beforeBack = logger.records.length;
    cpSync(FIXTURE, dir, { recursive: true });
    await served((v) => v === good, beforeBack);
    s.close();
  } finally {
    client.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('unreadable (permission denied): logged with SMI1009 and SMI5001, still serving and ready', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smi-hardening-unreadable-'));
  chmodSync(root, 0o755);
  const dir = join(root, 'manifests');
  cpSync(FIXTURE, dir, { recursive: true });
  // Root reads anything: the server then runs as nobody, so that permissions mean something.
  const serve = await runServeChild([dir, '--watch', '--debounce', '50', '--debug-endpoints'], { asNobody: process.getuid?.() === 0 });
  try {
    const before = await serve.snapshotVersion();
    chmodSync(dir, 0o000);
    // A write into the directory (we may, as its owner) is what makes the watcher recompile.
    writeFileSync(join(dir, 'touch.yaml'), '# touched\n');
    await serve.waitForLog('SMI5001');
    assert.match(serve.logs(), /SMI1009 cannot read [^ ]*manifests: permission denied/);
    assert.is(await serve.snapshotVersion(), before);
    assert.is((await serve.admin('/readyz')).status, 200);
    chmodSync(dir, 0o755);
    rmSync(join(dir, 'touch.yaml'));
    await serve.waitForLog('recompiled: no change');
  } finally {
    chmodSync(dir, 0o755);
    await serve.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
