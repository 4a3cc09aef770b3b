/**
 * Objects from the Kubernetes API (SourceObject) compile as the same objects in files do, with
 * diagnostics named by `Kind ns/name` and field path, and the memo rebuilds only the one that changed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { formatDiagnostic } from '../diagnostics/diagnostic.ts';
import type { SourceObject } from '../parser/source.ts';
import { compilePaths } from './compile.ts';
import { CompileMemo } from './compile-memo.ts';

const options = { protoCheck: false, stableObjects: true } as const;
const proxiesOf = (r: ReturnType<typeof compilePaths>): string => JSON.stringify(r.proxies);
const namesOf = (r: ReturnType<typeof compilePaths>): Record<string, string[]> =>
  Object.fromEntries(r.proxies.map((p) => [p.nodeId, Object.values(p.resources).flatMap((list) => (list ?? []).map((x: any) => String(x.name ?? x.cluster_name))).sort()]));

function objectsOf(dir: string): SourceObject[] {
  const out: SourceObject[] = [];
  for (const f of readdirSync(dir).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const value = d.toJS();
      if (!value) continue;
      const ns = value.metadata.namespace;
      out.push({ ref: `${value.kind} ${ns ? `${ns}/` : ''}${value.metadata.name}`, value });
    }
  }
  return out;
}

test('the bookstore fixture as API objects compiles to the same proxies as its files, with the same diagnostics named by object and field', () => {
  const files = compilePaths(['fixtures/bookstore'], options);
  const objects = compilePaths([], options, undefined, undefined, objectsOf('fixtures/bookstore'));
  assert.ok(objects.ok);
  assert.is(proxiesOf(objects), proxiesOf(files));
  assert.equal(objects.diagnostics.map((d) => d.code), files.diagnostics.map((d) => d.code));
  const warning = objects.diagnostics.find((d) => d.code === 'SMI3007')!;
  assert.equal(warning.source, { file: 'Service bookstore/bookstore', line: 0, column: 0, field: 'spec.ports[0].name' });
  assert.match(formatDiagnostic(warning), /^Service bookstore\/bookstore spec\.ports\[0\]\.name: warning SMI3007 /);
});

test('a schema error in an API object is located by its field path, and drops only that object', () => {
  const objects = objectsOf('fixtures/bookstore');
  const i = objects.findIndex((o) => o.value.kind === 'HTTPRouteGroup');
  const bad = structuredClone(objects[i].value) as any;
  bad.spec.matches[0].methods = 'GET';
  objects[i] = { ...objects[i], value: bad };
  const r = compilePaths([], options, undefined, undefined, objects);
  const errors = r.diagnostics.filter((d) => d.level === 'error').map(formatDiagnostic);
  assert.ok(errors.some((e) => /^HTTPRouteGroup bookstore\/bookstore-service-routes spec\.matches\[0\]\.methods: error SMI1002 /.test(e)), errors.join('\n'));
});

test('files and objects combine; the memo rebuilds only the object that changed (by identity), and compiles as a fresh compile does', () => {
  const objects = objectsOf('fixtures/bookstore').filter((o) => o.value.kind !== 'TrafficTarget');
  const memo = new CompileMemo();
  const policies = 'fixtures/bookstore/traffic-access-v1.yaml';
  const first = compilePaths([policies], options, undefined, memo, objects);
  // The same resources on every proxy as from the files alone (their order follows the input's).
  assert.equal(namesOf(first), namesOf(compilePaths(['fixtures/bookstore'], options)));
  const parsed = memo.parsed;
  const i = objects.findIndex((o) => o.ref === 'Service bookstore/bookstore-v1');
  const edited = structuredClone(objects[i].value) as any;
  edited.spec.ports[0].appProtocol = 'http';
  const next = objects.map((o, j) => (j === i ? { ...o, value: edited } : o));
  const again = compilePaths([policies], options, undefined, memo, next);
  assert.is(memo.parsed, parsed + 1, 'one object parsed again');
  assert.is(proxiesOf(again), proxiesOf(compilePaths([policies], options, undefined, undefined, next)));
  assert.is(again.diagnostics.filter((d) => d.code === 'SMI3007').length, first.diagnostics.filter((d) => d.code === 'SMI3007').length - 1);
});

test.run();
