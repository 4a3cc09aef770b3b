import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic, type ResourceRef } from '../diagnostics/diagnostic.ts';
import { annotationCodes, applySuppressions, parseSuppressRule, SuppressSpecError } from './suppress.ts';

const group = (ns: string, name: string): ResourceRef => ({ kind: 'HTTPRouteGroup', namespace: ns, name });
const shadowed = (ns: string, name: string) => diagnostic('route-shadowed', { match: 'b', group: `${ns}/${name}`, earlier: 'a' }, undefined, group(ns, name));
const regex = (ns: string, name: string) => diagnostic('invalid-regex', { regex: '(?=', detail: 'x' }, undefined, group(ns, name));

test('parse: CODE, name, lower case, CODE=Kind/ns/name and CODE=Kind/name', () => {
  assert.equal(parseSuppressRule('SMI3010'), { code: 'SMI3010' });
  assert.equal(parseSuppressRule('smi3010'), { code: 'SMI3010' });
  assert.equal(parseSuppressRule('route-shadowed'), { code: 'SMI3010' });
  assert.equal(parseSuppressRule('SMI3010=HTTPRouteGroup/default/g'), { code: 'SMI3010', resource: { kind: 'HTTPRouteGroup', namespace: 'default', name: 'g' } });
  assert.equal(parseSuppressRule('SMI3014=MeshConfig/osm'), { code: 'SMI3014', resource: { kind: 'MeshConfig', name: 'osm' } });
});

test('parse: unknown codes and malformed resources are usage errors', () => {
  assert.throws(() => parseSuppressRule('SMI3999'), (e: unknown) => e instanceof SuppressSpecError && /not a diagnostic code or name/.test(e.message));
  assert.throws(() => parseSuppressRule('SMI3010='), (e: unknown) => e instanceof SuppressSpecError);
  assert.throws(() => parseSuppressRule('SMI3010=HTTPRouteGroup'), (e: unknown) => e instanceof SuppressSpecError);
  assert.throws(() => parseSuppressRule('SMI3010=a/b/c/d'), (e: unknown) => e instanceof SuppressSpecError);
  assert.throws(() => parseSuppressRule('SMI3010=HTTPRouteGroup//g'), (e: unknown) => e instanceof SuppressSpecError);
});

test('--suppress CODE drops that code everywhere', () => {
  const ds = [shadowed('a', 'g'), shadowed('b', 'h'), regex('a', 'g')];
  const { kept, suppressed } = applySuppressions(ds, { rules: [parseSuppressRule('SMI3010')] });
  assert.equal(kept, [ds[2]]);
  assert.is(suppressed.length, 2);
});

test('--suppress CODE=Kind/ns/name drops it for that resource only; * matches any segment', () => {
  const ds = [shadowed('a', 'g'), shadowed('b', 'g'), regex('a', 'g')];
  let r = applySuppressions(ds, { rules: [parseSuppressRule('SMI3010=HTTPRouteGroup/a/g')] });
  assert.equal(r.kept, [ds[1], ds[2]]);
  r = applySuppressions(ds, { rules: [parseSuppressRule('SMI3010=httproutegroup/*/g')] });
  assert.equal(r.kept, [ds[2]], 'kind is matched case-insensitively, * matches any namespace');
  r = applySuppressions(ds, { rules: [parseSuppressRule('SMI3010=TCPRoute/a/g')] });
  assert.is(r.kept.length, 3);
});

test('a resource rule never matches a diagnostic that names no resource', () => {
  const d = diagnostic('route-shadowed', { match: 'b', group: 'g', earlier: 'a' });
  assert.is(applySuppressions([d], { rules: [parseSuppressRule('SMI3010=HTTPRouteGroup/*/*')] }).kept.length, 1);
});

test('annotation smi-compile.io/suppress on the resource itself', () => {
  const ds = [shadowed('a', 'g'), regex('a', 'g'), shadowed('a', 'other')];
  const annotations: Record<string, Record<string, string>> = {
    'HTTPRouteGroup/a/g': { 'smi-compile.io/suppress': 'SMI3010, invalid-regex' },
  };
  const lookups: string[] = [];
  const { kept, suppressed } = applySuppressions(ds, {
    annotationsOf: (r) => {
      lookups.push(r.name);
      return annotations[`${r.kind}/${r.namespace}/${r.name}`];
    },
  });
  assert.equal(kept, [ds[2]]);
  assert.is(suppressed.length, 2);
  assert.equal(lookups, ['g', 'other'], 'each resource is looked up once');
});

test('annotation values: comma or space separated, unknown entries ignored', () => {
  assert.equal([...annotationCodes({ 'smi-compile.io/suppress': 'SMI3010,SMI3011' })], ['SMI3010', 'SMI3011']);
  assert.equal([...annotationCodes({ 'smi-compile.io/suppress': ' smi3010  bogus ,, ' })], ['SMI3010']);
  assert.equal([...annotationCodes({ other: 'SMI3010' })], []);
  assert.equal([...annotationCodes(undefined)], []);
});

test.run();
