/**
 * `serve --watch` converges: what is served is what is on disk, whatever events the watcher
 * (watch.ts) merged or dropped.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryLogger } from './ops/logger.ts';
import { startServer, type ServeOptions } from './server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** False after `ms`, without keeping the process alive: the bound on a wait that should end sooner. */
const deadline = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms).unref());

// ── Convergence: what is served is what is on disk, whatever events the watcher merged ──

const ACCESS = 'traffic-access-v1.yaml';
const SEED = Number(process.env.FC_SEED ?? 20261207);

/** The bookstore with its route `/books-bought` renamed `/b-<n>`: every edit the same size. */
const routeAs = (text: string, n: number) => text.replace(/pathRegex: \/\S+/, `pathRegex: /b-${String(n).padStart(6, '0')}`);

/** A served manifest tree in a scratch directory, its server, and what a fresh server serves for the tree as it is now. */
async function servedTree(extra: Partial<ServeOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'smi-watch-converge-'));
  cpSync('fixtures/bookstore', dir, { recursive: true });
  const access = join(dir, ACCESS);
  const original = readFileSync(access, 'utf8');
  const logger = memoryLogger();
  const base = { paths: [dir], port: 0, adminPort: 0, processMetrics: false };
  const server = await startServer({ ...base, watch: true, logger, ...extra });
  const freshVersion = async (): Promise<string | undefined> => {
    const fresh = await startServer({ ...base, logger: memoryLogger() });
    try {
      return fresh.snapshot()?.version;
    } finally {
      await fresh.close();
    }
  };
  /** Resolves once the live server serves `version` (it logs every snapshot it serves); fails after 10 s. */
  const converges = async (version: string | undefined, what: string): Promise<void> => {
    if (server.snapshot()?.version === version) return;
    const served = logger.waitFor((r) => r.msg === 'serving snapshot' && r.version === version);
    const ok = await Promise.race([served.then(() => true), deadline(10_000)]);
    if (!ok) assert.unreachable(`${what}: still serving ${server.snapshot()?.version}, the disk compiles to ${version}`);
  };
  return {
    dir,
    access,
    original,
    logger,
    server,
    freshVersion,
    converges,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('property: two saves 0–100 ms apart, the second is served (chokidar drops a change within 50 ms)', async () => {
  const t = await servedTree();
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 100 }), async (gap) => {
        writeFileSync(t.access, routeAs(t.original, ++n));
        await sleep(gap); // the input: how far apart the two saves are
        writeFileSync(t.access, routeAs(t.original, ++n));
        await t.converges(await t.freshVersion(), `second save ${gap} ms after the first`);
      }),
      { seed: SEED, numRuns: 10, endOnFailure: true, examples: [[35], [0], [45]] },
    );
  } finally {
    await t.close();
  }
});

test('a save that raised its event is compiled once: the settle check finds the disk as compiled', async () => {
  const t = await servedTree();
  try {
    const checked = () => t.logger.records.filter((r) => r.msg === 'manifests are as last compiled').length;
    const before = { checked: checked(), compiles: t.logger.records.filter((r) => r.msg === 'manifests changed; recompiling').length, at: t.logger.records.length };
    writeFileSync(t.access, routeAs(t.original, 1));
    await t.converges(await t.freshVersion(), 'one save');
    await t.logger.waitFor((r) => r.msg === 'manifests are as last compiled' || /differ from what was last compiled/.test(r.msg), before.at);
    assert.is(checked(), before.checked + 1, 'the settle check ran');
    assert.not.ok(t.logger.records.some((r) => /differ from what was last compiled/.test(r.msg)));
    assert.is(t.logger.records.filter((r) => r.msg === 'manifests changed; recompiling').length, before.compiles + 1);
  } finally {
    await t.close();
  }
});

test('a broken save 30 ms after a good one is reported, and the good one stays served', async () => {
  const t = await servedTree();
  try {
    writeFileSync(t.access, routeAs(t.original, 1));
    const good = await t.freshVersion();
    await t.converges(good, 'the good save');
    const before = t.logger.records.length;
    writeFileSync(t.access, routeAs(t.original, 2));
    await sleep(30); // the input: the broken save 30 ms after the good one
    writeFileSync(t.access, t.original.replace(/pathRegex: \/\S+/, 'pathRegex: /b(?=x)'));
    const refused = t.logger.waitFor((r) => r.code === 'SMI5001', before).then(() => true);
    assert.ok(await Promise.race([refused, deadline(10_000)]), 'the broken save is compiled and refused (SMI5001), not lost');
    writeFileSync(t.access, routeAs(t.original, 3));
    await t.converges(await t.freshVersion(), 'the repair');
  } finally {
    await t.close();
  }
});

test("editors' rename-into-place: atomic write-and-rename, and vim's backup-and-rename, saves 20 ms apart", async () => {
  const t = await servedTree();
  try {
    // Odd saves write a temporary file and rename it over the manifest; even ones move the
    // manifest to a backup, write it anew and delete the backup. The last is 20 ms after the one before.
    for (let n = 1; n <= 5; n++) {
      if (n % 2) {
        const tmp = join(t.dir, `.${ACCESS}.${n}.tmp`);
        writeFileSync(tmp, routeAs(t.original, n));
        renameSync(tmp, t.access);
      } else {
        const backup = `${t.access}~`;
        renameSync(t.access, backup);
        writeFileSync(t.access, routeAs(t.original, n));
        unlinkSync(backup);
      }
      await sleep(20);
    }
    await t.converges(await t.freshVersion(), 'the last of five renamed-in saves');
  } finally {
    await t.close();
  }
});

test('a checkout of many files at once, twice within 30 ms, with files added and removed, in the compile worker', async () => {
  const t = await servedTree({ compileInWorker: true });
  try {
    const group = (i: number, v: number) =>
      `apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: g${i}, namespace: bookstore}\nspec:\n  matches:\n  - {name: m, pathRegex: /g${i}-v${v}}\n`;
    for (let i = 0; i < 60; i++) writeFileSync(join(t.dir, `g${i}.yaml`), group(i, 0));
    writeFileSync(t.access, routeAs(t.original, 1));
    await t.converges(await t.freshVersion(), 'the first checkout');
    // A checkout that removes files, then one that adds some, then 30 ms later one that rewrites them all.
    for (let i = 50; i < 60; i++) unlinkSync(join(t.dir, `g${i}.yaml`));
    writeFileSync(t.access, routeAs(t.original, 2));
    await t.converges(await t.freshVersion(), 'files removed');
    for (const v of [1, 2]) {
      for (let i = 0; i < (v === 1 ? 65 : 50); i++) writeFileSync(join(t.dir, `g${i}.yaml`), group(i, v));
      writeFileSync(t.access, routeAs(t.original, 2 + v));
      await sleep(30);
    }
    await t.converges(await t.freshVersion(), 'the last checkout');
  } finally {
    await t.close();
  }
});

test.run();
