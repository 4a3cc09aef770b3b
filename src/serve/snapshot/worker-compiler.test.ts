import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../../compiler/compile.ts';
import { lazyProxylessMesh } from '../../emit/proxyless/index.ts';
import { memoryLogger } from '../ops/logger.ts';
import { startServer, type ServerHandle } from '../server.ts';
import { buildSnapshot } from './snapshot.ts';
import { ResourceInterner } from './interner.ts';
import type { Snapshot } from './snapshot-types.ts';
import { CDS, EDS } from '../xds/type-urls.ts';

const FIXTURE = new URL('../../../fixtures/canary', import.meta.url).pathname;

/** What the same input gives compiled and encoded in this thread. */
function inThread(dir: string): Snapshot {
  const result = compilePaths([dir], { protoCheck: false });
  const { snapshot } = buildSnapshot(result.proxies, new ResourceInterner(), lazyProxylessMesh(result.mesh));
  return snapshot!;
}

/** Same version, proxies, names, versions and bytes. */
function assertSame(actual: Snapshot, expected: Snapshot): void {
  assert.is(actual.version, expected.version);
  assert.equal([...actual.proxies.keys()], [...expected.proxies.keys()]);
  for (const [id, p] of expected.proxies) {
    const q = actual.proxies.get(id)!;
    assert.is(q.version, p.version, id);
    assert.equal(q.identity, p.identity);
    assert.equal([...q.resources.keys()], [...p.resources.keys()]);
    for (const [typeUrl, byName] of p.resources) {
      const got = q.resources.get(typeUrl)!;
      assert.equal([...got.keys()], [...byName.keys()], `${id} ${typeUrl}`);
      for (const [name, r] of byName) {
        const g = got.get(name)!;
        assert.is(g.version, r.version);
        assert.is(g.typeUrl, r.typeUrl);
        assert.equal(Buffer.from(g.any), Buffer.from(r.any), `${id} ${name} bytes`);
        assert.equal(g.json, r.json, `${id} ${name} json`);
      }
    }
  }
  assert.equal(actual.stats, expected.stats);
  assert.ok(expected.proxyless, 'the compile made the proxyless mesh');
  assert.equal(actual.proxyless!(), expected.proxyless!(), 'the worker hands over the same proxyless mesh');
}

async function withServer(fn: (h: ServerHandle, dir: string, logger: ReturnType<typeof memoryLogger>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smi-worker-'));
  cpSync(FIXTURE, dir, { recursive: true });
  const logger = memoryLogger('debug');
  // No watcher events matter here: recompile() is called directly.
  const h = await startServer({ paths: [dir], port: 0, adminPort: 0, watch: true, debounceMs: 10_000, compileInWorker: true, workerIdleMs: 300, logger, processMetrics: false });
  try {
    await fn(h, dir, logger);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the compile worker serves exactly the snapshot an in-thread compile makes, and hands over only what the server lacks', () =>
  withServer(async (h, dir) => {
    const first = h.snapshot()!;
    assertSame(first, inThread(dir));

    const split = join(dir, 'httpbin-split.yaml');
    writeFileSync(split, readFileSync(split, 'utf8').replace('weight: 50', 'weight: 80').replace('weight: 50', 'weight: 20'));
    const outcome = await h.recompile();
    assert.ok(outcome.ok);
    assert.ok(outcome.changed.length > 0, 'a weight change reaches the callers');
    const second = h.snapshot()!;
    assert.is.not(second.version, first.version);
    assertSame(second, inThread(dir));
    assert.ok(outcome.handedOver! > 0 && outcome.handedOver! < second.stats.uniqueResources, `handed over ${outcome.handedOver} of ${second.stats.uniqueResources}`);
    // Unchanged resources are the very objects the server held (their bytes shared, not copied).
    for (const [id, p] of second.proxies) {
      for (const typeUrl of [CDS, EDS]) {
        for (const [name, r] of p.resources.get(typeUrl) ?? []) {
          const old = first.proxies.get(id)?.resources.get(typeUrl)?.get(name);
          if (old?.version === r.version) assert.ok(old === r, `${id} ${name} shared`);
        }
      }
    }

    const same = await h.recompile();
    assert.ok(same.ok);
    assert.is(same.handedOver, 0, 'nothing new: nothing handed over');
  }),
);

test('a retired worker is replaced by one told what the server holds', () =>
  withServer(async (h, dir, logger) => {
    const before = h.snapshot()!;
    await logger.waitFor((r) => r.msg === 'compile worker retired', 0); // after workerIdleMs without a compile
    const again = await h.recompile();
    assert.ok(again.ok);
    assert.is(again.handedOver, 0, 'the new worker knew what the server holds');
    assert.is(h.snapshot()!.version, before.version);
    assertSame(h.snapshot()!, inThread(dir));

    // Input that does not compile: the last good snapshot stays.
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: [unclosed\n');
    const bad = await h.recompile();
    assert.not.ok(bad.ok);
    assert.is(h.snapshot()!.version, before.version);
    assert.ok(logger.records.some((r) => r.code === 'SMI5001'), 'keeps the last good snapshot');
    rmSync(join(dir, 'broken.yaml'));
    const fixed = await h.recompile();
    assert.ok(fixed.ok);
    assert.is(fixed.handedOver, 0);
    assertSame(h.snapshot()!, inThread(dir));
  }),
);

test('calls made while a compile runs share the next one', () =>
  withServer(async (h) => {
    const a = h.recompile();
    const b = h.recompile();
    const c = h.recompile();
    assert.ok(b === c, 'one compile queued behind the running one');
    assert.ok((await a).ok && (await b).ok);
  }),
);

test.run();
