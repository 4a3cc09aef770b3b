import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clearShared, inputKey, recordProof, shared, sharedProof, sweepShared } from './shared.ts';

const make = (n: number) => () => ({ n });

test('the same key gives the same frozen object', () => {
  clearShared();
  const a = shared('t', 'k', make(1));
  assert.is(shared('t', 'k', make(2)), a);
  assert.ok(Object.isFrozen(a));
});

test('an object asked for in consecutive compiles survives sweeps; one not asked for is forgotten after two', () => {
  clearShared();
  const kept = shared('t', 'kept', make(1));
  const dropped = shared('t', 'dropped', make(2));
  sweepShared(); // compile 1 done
  assert.is(shared('t', 'kept', make(3)), kept);
  sweepShared(); // compile 2 done: 'dropped' was not used in it
  assert.is(shared('t', 'kept', make(4)), kept);
  const again = shared('t', 'dropped', make(5));
  assert.is.not(again, dropped);
  assert.equal(again, { n: 5 });
});

test('what the proto check proved is kept for shared objects only, one type or several', () => {
  clearShared();
  const own = { n: 0 };
  assert.is(sharedProof(own), undefined);
  recordProof(own, '.T');
  assert.is(sharedProof(own), undefined);
  const a = shared('t', 'proof', make(1));
  assert.is(sharedProof(a), '');
  recordProof(a, '.T');
  recordProof(a, '.T');
  assert.is(sharedProof(a), '.T');
  recordProof(a, '.U');
  const both = sharedProof(a);
  assert.ok(typeof both === 'object' && both.has('.T') && both.has('.U') && both.size === 2);
});

test('an input object\'s key is made once and is the same string after', () => {
  const keys = new WeakMap<object, string>();
  const input = { a: 1 };
  let made = 0;
  const make = (o: { a: number }) => (made++, `k${o.a}`);
  assert.is(inputKey(keys, input, make), 'k1');
  assert.is(inputKey(keys, input, make), 'k1');
  assert.is(made, 1);
  assert.is(inputKey(keys, { a: 1 }, make), 'k1'); // an equal object: its own entry, the same content key
  assert.is(made, 2);
});

test.run();
