import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh } from '../../bench/generate-mesh.ts';
import { compilePaths, startCompile, startCompilePaths } from './compile.ts';

const root = mkdtempSync(join(tmpdir(), 'smi-compile-session-'));
const dirOf = (p: { namespace: string; workload: string }): string => `${p.namespace}/${p.workload}/`;

/** bookstore with a header match holding a lone UTF-16 surrogate: the Envoy protos reject it (SMI9001) on the proxies that serve the route. */
function brokenBookstore(): string {
  const dir = join(root, 'broken');
  cpSync('fixtures/bookstore', dir, { recursive: true });
  const file = join(dir, 'traffic-access-v1.yaml');
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes('"client-app": "bookbuyer"'));
  writeFileSync(file, text.replace('"client-app": "bookbuyer"', '"client-app": "book\\uD800buyer"'));
  return dir;
}

test('a session hands out what compile() returns, one proxy at a time', () => {
  const whole = compilePaths(['fixtures/bookstore']);
  const session = startCompilePaths(['fixtures/bookstore']);
  assert.ok(session.ok());
  assert.is(session.proxyCount, whole.proxies.length);
  const streamed = [...session.proxies('plan')];
  assert.is(JSON.stringify(streamed), JSON.stringify(whole.proxies));
  const result = session.result();
  assert.equal(result.proxies, []);
  assert.equal(result.diagnostics, whole.diagnostics);
  assert.ok(result.ok);
  assert.ok((result.timings.emit ?? 0) > 0 && (result.timings.protoCheck ?? 0) > 0);
  assert.throws(() => [...session.proxies()], /once/);
});

test("path order: by `<namespace>/<workload>/`, the order of the output tree's files", () => {
  const session = startCompilePaths(['fixtures/bookstore']);
  const dirs = [...session.proxies('path')].map(dirOf);
  assert.equal(dirs, [...dirs].sort());
  assert.equal(new Set(dirs), new Set(compilePaths(['fixtures/bookstore']).proxies.map(dirOf)));
});

test('errors of the passes are known before anything is emitted', () => {
  const session = startCompilePaths([join(root, 'does-not-exist')]);
  assert.not.ok(session.ok());
  assert.is(session.result().diagnostics[0].code, 'SMI1009');
});

test('a proto failure turns ok() false from the proxy that has it on; compile() still checks every proxy', () => {
  const dir = brokenBookstore();
  const session = startCompilePaths([dir]);
  assert.ok(session.ok(), 'the passes accept it: only the Envoy protos do not');
  const okAfter: [string, boolean][] = [];
  for (const proxy of session.proxies('path')) okAfter.push([dirOf(proxy), session.ok()]);
  assert.equal(okAfter[0], ['bookbuyer/bookbuyer/', true], 'the first proxy is fine: the failure comes mid-stream');
  assert.equal(okAfter.find(([, ok]) => !ok)?.[0], 'bookstore/bookstore-v2/'); // `-` sorts before `/`
  const whole = compilePaths([dir]);
  assert.not.ok(whole.ok);
  const failures = whole.diagnostics.filter((d) => d.code === 'SMI9001').map((d) => d.message);
  assert.is(failures.length, 2, failures.join('\n'));
  assert.equal(session.result().diagnostics, whole.diagnostics);
});

test('a session keeps no proxy it handed out: what the caller drops can be collected', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const session = startCompile(generateMesh({ services: 30, permissive: true, seed: 2 }).files);
  // Each proxy's own cluster list (the clusters themselves may be kept for the proxy's service account).
  const lists: WeakRef<object>[] = [];
  for (const proxy of session.proxies('path')) lists.push(new WeakRef(proxy.resources.clusters));
  assert.ok(session.ok() && lists.length > 30);
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const alive = lists.filter((r) => r.deref() !== undefined).length;
  assert.ok(alive <= 1, `${alive} of ${lists.length} proxies' cluster lists still reachable`);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
