import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { ResourceInterner } from './snapshot/interner.ts';
import { memoryLogger } from './ops/logger.ts';
import { XdsMetrics } from './ops/metrics.ts';
import { Recompiler, type Compiler } from './recompile.ts';
import { simpleProxy } from './testing.ts';

/** A recompiler over a compiler that returns whatever `next` holds (or throws it). */
function recompiler(first: ProxyConfig[]) {
  let next: { proxies: readonly ProxyConfig[]; diagnostics: readonly Diagnostic[] } | Error = { proxies: first, diagnostics: [] };
  const pushes: string[][] = [];
  const served: string[] = [];
  const logger = memoryLogger('debug');
  const compiler: Compiler = () => {
    if (next instanceof Error) throw next;
    return next;
  };
  const r = new Recompiler({
    paths: ['manifests/'],
    compileOptions: {},
    logger,
    metrics: new XdsMetrics({ processMetrics: false }),
    interner: new ResourceInterner(),
    compiler,
    served: (s) => served.push(s.version),
    push: (changed) => (pushes.push([...changed].sort()), changed.size),
    stopped: () => false,
  });
  return {
    r,
    pushes,
    served,
    logger,
    set(v: typeof next) {
      next = v;
    },
  };
}

const a = (clusters: Record<string, number>) => simpleProxy('ns/a', clusters);
const b = simpleProxy('ns/b', { 'ns/x|80': 100 });

test('a compile is served: swapped in, the changed nodes pushed, the outcome says which', async () => {
  const t = recompiler([a({ 'ns/x|80': 100 }), b]);
  const first = await t.r.recompile();
  assert.ok(first.ok);
  assert.equal([...first.changed].sort(), ['ns/a', 'ns/b']);
  assert.is(t.r.current?.version, first.version);
  t.set({ proxies: [a({ 'ns/x|80': 50, 'ns/y|80': 50 }), b], diagnostics: [] });
  const second = await t.r.recompile();
  assert.equal(second.changed, ['ns/a']);
  assert.equal(t.pushes, [['ns/a', 'ns/b'], ['ns/a']]);
  assert.equal(t.served, [first.version, second.version]);
  assert.is(second.timings.streams, 1);
  assert.ok(t.logger.records.some((r) => r.msg === 'serving snapshot' && r.version === second.version));
});

test('errors keep the last good snapshot; an exception in the compiler is SMI9002, not a crash', async () => {
  const t = recompiler([b]);
  const good = await t.r.recompile();
  t.set({ proxies: [], diagnostics: [diagnostic('internal-error', { detail: 'an error-level diagnostic' })] });
  const bad = await t.r.recompile();
  assert.not.ok(bad.ok);
  assert.is(t.r.current?.version, good.version);
  assert.ok(t.logger.records.some((r) => r.code === 'SMI5001'), 'serve-keeps-last-good logged');
  t.set(new Error('boom'));
  const thrown = await t.r.recompile();
  assert.not.ok(thrown.ok);
  assert.ok(thrown.diagnostics.some((d) => d.code === 'SMI9002' && /boom/.test(d.message)));
  assert.is(t.r.current?.version, good.version);
  assert.equal(t.pushes.length, 1, 'nothing pushed for a compile that was not served');
});

test('manifests that vanished are not an empty mesh to push', async () => {
  const t = recompiler([b]);
  const good = await t.r.recompile();
  t.set({ proxies: [], diagnostics: [diagnostic('no-input', { path: 'manifests/' })] });
  const vanished = await t.r.recompile();
  assert.not.ok(vanished.ok);
  assert.is(t.r.current?.version, good.version);
  assert.ok(t.logger.records.some((r) => r.code === 'SMI5003'), 'serve-input-vanished logged');
});

test.run();
