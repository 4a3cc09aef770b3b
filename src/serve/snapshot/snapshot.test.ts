import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildSnapshot, diffSnapshots } from './snapshot.ts';
import { isSharedSetMap, resourceSet, retainedSet } from './resource-set.ts';
import { ResourceInterner } from './interner.ts';
import { setVersion } from '../../emit/versions.ts';
import { cla, cluster, proxy, simpleProxy } from '../testing.ts';
import { CDS, EDS } from '../xds/type-urls.ts';

test('identical resources of different proxies share one encoded buffer', () => {
  const interner = new ResourceInterner();
  const { snapshot } = buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 }), simpleProxy('ns/b', { 'ns/x|80': 100 })], interner);
  const a = snapshot!.proxies.get('ns/a')!.resources.get(CDS)!.get('ns/x|80')!;
  const b = snapshot!.proxies.get('ns/b')!.resources.get(CDS)!.get('ns/x|80')!;
  assert.ok(a === b, 'same object');
  assert.ok(a.any === b.any, 'same bytes');
  assert.is(snapshot!.stats.resources, 2 * 4);
  assert.is(snapshot!.stats.uniqueResources, 4);
  assert.is(snapshot!.proxies.get('ns/a')!.version, snapshot!.proxies.get('ns/b')!.version);
});

test('a recompile re-encodes only what changed (frozen objects are not even stringified)', () => {
  const interner = new ResourceInterner();
  buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 })], interner);
  const before = interner.encodeCount;
  buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 }, { 'ns/x|80': ['10.0.0.1:80'] })], interner);
  assert.is(interner.encodeCount - before, 1, 'only the changed ClusterLoadAssignment');
  const frozen = Object.freeze(cluster('ns/f|80'));
  const s1 = buildSnapshot([proxy('ns/a', { clusters: [frozen] })], interner).snapshot!;
  const s2 = buildSnapshot([proxy('ns/a', { clusters: [frozen] })], interner).snapshot!;
  assert.ok(s1.proxies.get('ns/a')!.resources.get(CDS)!.get('ns/f|80') === s2.proxies.get('ns/a')!.resources.get(CDS)!.get('ns/f|80'));
});

test('a proxy whose config is the same frozen object is carried over, and its resources stay live', () => {
  const interner = new ResourceInterner();
  const a = Object.freeze(simpleProxy('ns/a', { 'ns/x|80': 100 }));
  const s1 = buildSnapshot([a, simpleProxy('ns/b', { 'ns/y|80': 100 })], interner).snapshot!;
  const s2 = buildSnapshot([a, simpleProxy('ns/b', { 'ns/z|80': 100 })], interner).snapshot!;
  assert.ok(s2.proxies.get('ns/a') === s1.proxies.get('ns/a'), 'carried over');
  assert.ok(s2.proxies.get('ns/b') !== s1.proxies.get('ns/b'));
  assert.is(s2.stats.resources, s1.stats.resources);
  // The carried proxy's resources survived the rotation: a third build finds them without encoding.
  const before = interner.encodeCount;
  const fresh = buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 })], interner).snapshot!;
  assert.is(interner.encodeCount, before, 'nothing re-encoded');
  assert.is(fresh.proxies.get('ns/a')!.version, s1.proxies.get('ns/a')!.version);
  // A config that is not frozen is never trusted by identity.
  const c = simpleProxy('ns/c', { 'ns/x|80': 100 });
  const t1 = buildSnapshot([c], interner).snapshot!;
  assert.ok(buildSnapshot([c], interner).snapshot!.proxies.get('ns/c') !== t1.proxies.get('ns/c'));
});

test('resources no proxy refers to any more leave the cache; shared ones stay while any proxy holds them', () => {
  const interner = new ResourceInterner();
  const a = Object.freeze(simpleProxy('ns/a', { 'ns/x|80': 100 }));
  const b = simpleProxy('ns/b', { 'ns/x|80': 50, 'ns/y|80': 50 });
  const s1 = buildSnapshot([a, b], interner).snapshot!;
  const withBoth = interner.size;
  const s2 = buildSnapshot([a], interner).snapshot!;
  assert.ok(interner.size < withBoth, 'what only b used is gone');
  assert.is(s2.stats.uniqueResources, interner.size);
  assert.ok(s2.stats.encodedBytes < s1.stats.encodedBytes);
  const before = interner.encodeCount;
  buildSnapshot([a, simpleProxy('ns/b', { 'ns/x|80': 50, 'ns/y|80': 50 })], interner);
  assert.ok(interner.encodeCount > before, 'b\'s own resources are encoded again');
  assert.is(interner.size, withBoth);
  // A failed snapshot changes nothing: the served one keeps its resources.
  const failed = buildSnapshot([proxy('ns/a', { clusters: [cluster('ns/x|80', { bogus: true })] })], interner);
  assert.is(failed.snapshot, undefined);
  assert.is(interner.size, withBoth);
});

test('versions depend on content only: two interners (two replicas) agree', () => {
  const input = () => [simpleProxy('ns/a', { 'ns/x|80': 80, 'ns/y|80': 20 })];
  const s1 = buildSnapshot(input(), new ResourceInterner()).snapshot!;
  const s2 = buildSnapshot(input(), new ResourceInterner()).snapshot!;
  assert.is(s1.version, s2.version);
  assert.is(s1.proxies.get('ns/a')!.resources.get(EDS)!.get('ns/y|80')!.version, s2.proxies.get('ns/a')!.resources.get(EDS)!.get('ns/y|80')!.version);
});

test('diff names exactly the proxies that changed, appeared or left', () => {
  const interner = new ResourceInterner();
  const s1 = buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 }), simpleProxy('ns/b', { 'ns/x|80': 100 }), simpleProxy('ns/c', { 'ns/x|80': 100 })], interner).snapshot!;
  const s2 = buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 }), simpleProxy('ns/b', { 'ns/x|80': 50, 'ns/y|80': 50 }), simpleProxy('ns/d', { 'ns/x|80': 100 })], interner).snapshot!;
  assert.equal(diffSnapshots(s1, s2), { changed: ['ns/b'], added: ['ns/d'], removed: ['ns/c'] });
  assert.equal(diffSnapshots(undefined, s1).added, ['ns/a', 'ns/b', 'ns/c']);
});

test('a retained set is the set plus what was held outside it, built once per pair and shared', () => {
  const interner = new ResourceInterner();
  const before = buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 50, 'ns/y|80': 50 })], interner).snapshot!;
  const after = buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 })], interner).snapshot!;
  const held = resourceSet(before.proxies.get('ns/a')!.resources.get(CDS)!);
  const set = resourceSet(after.proxies.get('ns/a')!.resources.get(CDS)!);
  const union = retainedSet(set, held.resources);
  assert.equal([...union.resources.keys()].sort(), ['ns/x|80', 'ns/y|80']);
  assert.ok(union.resources.get('ns/x|80') === set.resources.get('ns/x|80'), "the new set's resource wins a name both have");
  assert.is(union.version, setVersion(union.sorted));
  assert.is.not(union.version, set.version);
  assert.ok(retainedSet(set, held.resources) === union, 'one per (set, held) pair');
  assert.ok(isSharedSetMap(union.resources) && isSharedSetMap(set.resources));
  assert.not.ok(isSharedSetMap(new Map()));
});

test('a resource that does not encode fails the snapshot with SMI9001 and leaves the cache as it was', () => {
  const interner = new ResourceInterner();
  buildSnapshot([simpleProxy('ns/a', { 'ns/x|80': 100 })], interner);
  const size = interner.size;
  const r = buildSnapshot([proxy('ns/a', { clusters: [cluster('ns/x|80', { bogus: true })], endpoints: [cla('ns/x|80')] })], interner);
  assert.is(r.snapshot, undefined);
  assert.is(r.diagnostics[0].code, 'SMI9001');
  assert.match(r.diagnostics[0].message, /Cluster ns\/x\|80 does not encode/);
  assert.is(interner.size, size);
});

test.run();
