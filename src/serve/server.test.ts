import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { memoryLogger } from './ops/logger.ts';
import { RawAdsClient } from './xds/raw-client.ts';
import { startServer } from './server.ts';
import { cluster, proxy, simpleProxy, testServer } from './testing.ts';
import { CDS, LDS } from './xds/type-urls.ts';

const broken: Diagnostic = { code: 'SMI1001', level: 'error', message: 'YAML syntax error: x', source: { file: 'a.yaml', line: 1, column: 1 } };

test('without --watch, input that does not compile is a startup error', async () => {
  try {
    await startServer({ paths: [], port: 0, adminPort: 0, logger: memoryLogger(), processMetrics: false, compiler: () => ({ proxies: [], diagnostics: [broken] }) });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.match(String(err), /do not compile \(1 error/);
  }
});

test('with --watch, the server starts unready and refuses streams until a compile succeeds', async () => {
  let result: { proxies: ProxyConfig[]; diagnostics: Diagnostic[] } = { proxies: [], diagnostics: [broken] };
  const h = await startServer({ paths: [], port: 0, adminPort: 0, watch: false, logger: memoryLogger(), processMetrics: false, compiler: () => result }).catch(() => undefined);
  assert.is(h, undefined, 'watch: false throws (checked above); now with watch');
  const w = await startServer({ paths: [], port: 0, adminPort: 0, watch: true, logger: memoryLogger(), processMetrics: false, compiler: () => result });
  const client = new RawAdsClient(`127.0.0.1:${w.port}`);
  try {
    const ready = await fetch(`http://127.0.0.1:${w.adminPort}/readyz`);
    assert.is(ready.status, 503);
    assert.match(await ready.text(), /no snapshot compiled yet/);
    assert.is((await fetch(`http://127.0.0.1:${w.adminPort}/healthz`)).status, 200);
    const s = client.sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    assert.is((await s.ended())?.code, 14); // UNAVAILABLE: retry later
    result = { proxies: [simpleProxy('ns/a', { 'ns/x|80': 100 })], diagnostics: [] };
    w.recompile();
    assert.is((await fetch(`http://127.0.0.1:${w.adminPort}/readyz`)).status, 200);
  } finally {
    client.close();
    await w.close();
  }
});

test('stream gauges go back to zero, also for a stream that turned proxyless after it opened', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  try {
    const s = srv.client().sotw();
    s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
    await s.next();
    s.send({ typeUrl: LDS, resourceNames: ['svc.ns.svc.cluster.local:80'] });
    await s.next();
    const from = srv.logger.records.length;
    s.close();
    // The server sees the stream end when the client's cancel arrives.
    await srv.logger.waitFor((r) => r.msg === 'stream closed', from);
    const values = (await srv.handle.metrics.streams.get()).values;
    assert.ok(values.every((v) => v.value === 0), JSON.stringify(values));
    assert.is((await srv.handle.metrics.proxies.get()).values[0].value, 0);
  } finally {
    await srv.close();
  }
});

test('shutdown ends open streams with UNAVAILABLE so proxies reconnect elsewhere', async () => {
  const srv = await testServer([simpleProxy('ns/a', { 'ns/x|80': 100 })]);
  const s = srv.client().delta();
  s.send({ node: { id: 'ns/a' }, typeUrl: CDS });
  await s.next();
  const closing = srv.close();
  const ended = await s.ended();
  await closing;
  assert.is(ended?.code, 14);
  assert.match(ended!.details, /shutting down/);
});

/** The indexes of the first `n` of `promises` to resolve. */
function firstResolved(promises: readonly Promise<unknown>[], n: number): Promise<number[]> {
  const done: number[] = [];
  return new Promise((resolve, reject) =>
    promises.forEach((p, i) =>
      p.then(() => {
        done.push(i);
        if (done.length === n) resolve([...done]);
      }, reject),
    ),
  );
}

test('pushes are paced by a window of streams awaiting an ACK; ACKs, or the window wait, let the rest through', async () => {
  const ids = ['ns/a', 'ns/b', 'ns/c', 'ns/d'];
  const configs = (timeout: string) => ids.map((id) => proxy(id, { clusters: [cluster('ns/x|80', { connect_timeout: timeout })] }));
  const srv = await testServer(configs('1s'), { pushWindow: { streams: 2, waitMs: 1500 } });
  try {
    const streams = ids.map((id) => {
      const s = srv.client().sotw();
      s.send({ node: { id }, typeUrl: CDS });
      return s;
    });
    const acked = srv.logger.records.length;
    for (const s of streams) {
      const r = await s.next();
      s.send({ typeUrl: CDS, versionInfo: r.versionInfo, responseNonce: r.nonce });
    }
    // Every initial response ACKed: the window is empty.
    let acks = 0;
    await srv.logger.waitFor((r) => r.msg === 'ACK' && ++acks === streams.length, acked);
    srv.publish(configs('5s')); // the first batch is written when this returns
    assert.is(await srv.responses(), 4 + 2, 'two streams pushed; two wait for the window');
    const next = streams.map((s) => s.next(10_000));
    const pushed = await firstResolved(next, 2);
    // ACKing one response opens the window for one more stream.
    const [i] = pushed;
    const r1 = await next[i];
    const answered = srv.logger.records.length;
    streams[i].send({ typeUrl: CDS, versionInfo: r1.versionInfo, responseNonce: r1.nonce });
    await srv.logger.waitFor((r) => r.msg === 'push', answered); // on the pacer's next turn
    assert.is(await srv.responses(), 4 + 3, 'one ACK, one more stream');
    // Nobody ACKs any more: after the window wait the last one goes anyway.
    await Promise.all(next);
    assert.is(await srv.responses(), 4 + 4, 'a full window does not stall a push for good');
  } finally {
    await srv.close();
  }
});

test('incremental recompiles serve exactly what a fresh server would, edit after edit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-serve-incremental-'));
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  try {
    cpSync('fixtures/bookstore', dir, { recursive: true });
    const opts = { paths: [dir], port: 0, adminPort: 0, logger: memoryLogger(), processMetrics: false };
    const live = await startServer({ ...opts, watch: true, debounceMs: 60_000 }); // recompiled by hand below
    servers.push(live);
    const file = join(dir, readdirSync(dir).find((f) => /\.ya?ml$/.test(f) && /TrafficSplit/.test(readFileSync(join(dir, f), 'utf8')))!);
    const edits = [
      (t: string) => t.replace(/weight: (\d+)/, (_, w) => `weight: ${Number(w) + 5}`),
      (t: string) => `# moved down\n\n${t}`,
      (t: string) => t.replace(/weight: (\d+)/, (_, w) => `weight: ${Number(w) - 5}`),
    ];
    for (const edit of edits) {
      writeFileSync(file, edit(readFileSync(file, 'utf8')));
      const outcome = await live.recompile();
      assert.ok(outcome.ok);
      const fresh = await startServer(opts);
      servers.push(fresh);
      assert.is(live.snapshot()!.version, fresh.snapshot()!.version, 'same content, same version');
      await fresh.close();
      servers.pop();
    }
  } finally {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
