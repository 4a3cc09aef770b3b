import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { View } from './flavour.ts';
import { type HeldBytes } from '../ops/limits.ts';
import { desiredState, routingSynced } from './make-before-break.ts';
import { resourceSet } from '../snapshot/resource-set.ts';
import type { EncodedResource } from '../snapshot/snapshot-types.ts';
import { TypeState } from './type-state.ts';
import { CDS, EDS, LDS, RDS } from './type-urls.ts';

const held: HeldBytes = { hold() {}, release() {} };

function res(typeUrl: string, name: string, version = `${name}@1`): EncodedResource {
  return { name, typeUrl, version, any: new Uint8Array(), json: { '@type': typeUrl, name } };
}

/** A view of per-type maps; `shared` offers them as shared sets, as the sidecar view does. */
function view(byType: Record<string, EncodedResource[]>, shared = false): View {
  const maps = new Map(Object.entries(byType).map(([t, rs]) => [t, new Map(rs.map((r) => [r.name, r]))]));
  return {
    get: (t, n) => maps.get(t)?.get(n),
    all: (t) => maps.get(t)?.values() ?? [],
    ...(shared ? { set: (t: string) => (maps.has(t) ? resourceSet(maps.get(t)!) : undefined) } : {}),
  };
}

function wildcard(typeUrl: string, sent: EncodedResource[] = []): TypeState {
  const s = new TypeState(typeUrl);
  s.subscribed = true;
  s.wildcard = true;
  if (sent.length > 0) s.sent = new Map(sent.map((r) => [r.name, r]));
  return s;
}

function named(typeUrl: string, names: string[], sent: EncodedResource[] = []): TypeState {
  const s = new TypeState(typeUrl);
  s.subscribed = true;
  s.setNames(names, held);
  for (const r of sent) s.recordSent(r, held);
  return s;
}

const never = (): boolean => {
  throw new Error('routingSynced asked where nothing depends on it');
};

test('a named subscription gets what exists and lists what does not', () => {
  const a = res(EDS, 'a');
  const d = desiredState(named(EDS, ['a', 'b']), view({ [EDS]: [a] }), never);
  assert.equal([...d.resources.values()], [a]);
  assert.equal(d.missing, ['b']);
  assert.not.ok(d.retaining);
});

test('a removed cluster stays with a wildcard proxy until its listeners and routes are synced', () => {
  const kept = res(CDS, 'kept');
  const gone = res(CDS, 'gone');
  const state = wildcard(CDS, [kept, gone]);
  const v = view({ [CDS]: [kept] });
  const before = desiredState(state, v, () => false);
  assert.equal([...before.resources.keys()], ['kept', 'gone'], 'the break waits for the make');
  assert.ok(before.retaining, 'an ACK of routes may change this');
  const after = desiredState(state, v, () => true);
  assert.equal([...after.resources.keys()], ['kept']);
  assert.ok(after.retaining, 'it still depended on routing');
});

test('a removed cluster the proxy still names stays, and is not reported missing', () => {
  const gone = res(CDS, 'gone');
  const d = desiredState(named(CDS, ['gone'], [gone]), view({ [CDS]: [] }), never);
  assert.equal([...d.resources.values()], [gone]);
  assert.equal(d.missing, []);
});

test('a named cluster the proxy no longer names goes at once', () => {
  const gone = res(CDS, 'gone');
  const d = desiredState(named(CDS, ['other'], [gone]), view({ [CDS]: [] }), never);
  assert.equal([...d.resources.keys()], []);
  assert.equal(d.missing, ['other']);
});

test('listeners and routes are replaced, never held back', () => {
  const old = res(LDS, 'old');
  const d = desiredState(wildcard(LDS, [old]), view({ [LDS]: [res(LDS, 'new')] }), never);
  assert.equal([...d.resources.keys()], ['new']);
  assert.not.ok(d.retaining);
});

test('a wildcard proxy holding its shared set gets the new shared set, or the set and what is held back', () => {
  const kept = res(CDS, 'kept');
  const gone = res(CDS, 'gone');
  const v = view({ [CDS]: [kept] }, true);
  const fresh = desiredState(wildcard(CDS), v, never);
  assert.is(fresh.set, v.set!(CDS), 'the shared set itself: no copy per stream');
  const state = wildcard(CDS);
  state.sent = resourceSet(new Map([['kept', kept], ['gone', gone]])).resources;
  const held = desiredState(state, v, () => false);
  assert.equal([...held.resources.keys()].sort(), ['gone', 'kept']);
  assert.ok(held.retaining);
  assert.is(desiredState(state, v, () => false).set, held.set, 'the union is shared too');
  const released = desiredState(state, v, () => true);
  assert.is(released.set, v.set!(CDS));
});

test('routing is synced when no listener or route type is in flight, NACKed, or has a change to send', () => {
  const lds = named(LDS, ['l']);
  const rds = named(RDS, ['r']);
  const states = new Map([
    [LDS, lds],
    [RDS, rds],
  ]);
  const stateOf = (t: string): TypeState | undefined => states.get(t);
  assert.ok(routingSynced(stateOf, () => false));
  assert.not.ok(routingSynced(stateOf, (s) => s === rds), 'a route change still to send');
  lds.inFlight = true;
  assert.not.ok(routingSynced(stateOf, () => false));
  lds.inFlight = false;
  lds.nacked = true;
  assert.not.ok(routingSynced(stateOf, () => false), 'the proxy rejected its listeners: it may still route to the old cluster');
  lds.subscribed = false;
  assert.ok(routingSynced(stateOf, () => false), 'types the proxy does not ask for do not count');
  assert.ok(routingSynced(() => undefined, () => true));
});

test.run();
