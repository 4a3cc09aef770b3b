import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EmitSession } from './session.ts';

const make = (n: number) => () => ({ n });

test('the same key gives the same frozen object', () => {
  const session = new EmitSession();
  const a = session.shared('t', 'k', make(1));
  assert.is(session.shared('t', 'k', make(2)), a);
  assert.ok(Object.isFrozen(a));
});

test('sessions share nothing: another session builds its own object', () => {
  const a = new EmitSession().shared('t', 'k', make(1));
  const b = new EmitSession().shared('t', 'k', make(1));
  assert.is.not(a, b);
  assert.equal(a, b);
});

test('an object asked for in consecutive compiles survives sweeps; one not asked for is forgotten after two', () => {
  const session = new EmitSession();
  const kept = session.shared('t', 'kept', make(1));
  const dropped = session.shared('t', 'dropped', make(2));
  session.sweep(); // compile 1 done
  assert.is(session.shared('t', 'kept', make(3)), kept);
  session.sweep(); // compile 2 done: 'dropped' was not used in it
  assert.is(session.shared('t', 'kept', make(4)), kept);
  const again = session.shared('t', 'dropped', make(5));
  assert.is.not(again, dropped);
  assert.equal(again, { n: 5 });
});

test('what the proto check proved is kept for shared objects only, one type or several', () => {
  const session = new EmitSession();
  const own = { n: 0 };
  assert.is(session.sharedProof(own), undefined);
  session.recordProof(own, '.T');
  assert.is(session.sharedProof(own), undefined);
  const a = session.shared('t', 'proof', make(1));
  assert.is(session.sharedProof(a), '');
  session.recordProof(a, '.T');
  session.recordProof(a, '.T');
  assert.is(session.sharedProof(a), '.T');
  session.recordProof(a, '.U');
  const both = session.sharedProof(a);
  assert.ok(typeof both === 'object' && both.has('.T') && both.has('.U') && both.size === 2);
});

test('a constant handed out again after it was swept away keeps what the check proved of it', () => {
  const session = new EmitSession();
  const constant = Object.freeze({ n: 1 });
  assert.is(session.shared('c', 'k', () => constant), constant);
  session.recordProof(constant, '.T');
  session.sweep();
  session.sweep();
  assert.is(session.shared('c', 'k', () => constant), constant);
  assert.is(session.sharedProof(constant), '.T');
});

test("an input object's key is made once and is the same string after", () => {
  const session = new EmitSession();
  const keys = new WeakMap<object, string>();
  const input = { a: 1 };
  let made = 0;
  const key = (o: { a: number }) => (made++, `k${o.a}`);
  assert.is(session.keyOf(keys, input, key), 'k1');
  assert.is(session.keyOf(keys, input, key), 'k1');
  assert.is(made, 1);
  assert.is(session.keyOf(keys, { a: 1 }, key), 'k1'); // an equal object: its own entry, the same content key
  assert.is(made, 2);
});

test.run();
