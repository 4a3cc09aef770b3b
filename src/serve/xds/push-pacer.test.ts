import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PushPacer, type PacerTimers, type Pushable } from './push-pacer.ts';

/** Timers run by hand: `turn()` runs what was due on the next turn, `elapse()` what waited. */
function manualTimers(): PacerTimers & { turn(): void; elapse(): void; readonly pending: number } {
  let soon: (() => void)[] = [];
  let after: (() => void)[] = [];
  const add = (list: () => (() => void)[], fn: () => void): (() => void) => {
    list().push(fn);
    return () => {
      const l = list();
      const i = l.indexOf(fn);
      if (i >= 0) l.splice(i, 1);
    };
  };
  return {
    soon: (fn) => add(() => soon, fn),
    after: (_ms, fn) => add(() => after, fn),
    turn() {
      const run = soon;
      soon = [];
      for (const fn of run) fn();
    },
    elapse() {
      const run = after;
      after = [];
      for (const fn of run) fn();
    },
    get pending() {
      return soon.length + after.length;
    },
  };
}

/** Streams that record their evaluation and, like a stream sending a response, start waiting for an ACK. */
function streams(n: number, pacer: () => PushPacer, evaluated: number[]): Pushable[] {
  return Array.from({ length: n }, (_, i) => ({
    onSnapshot() {
      evaluated.push(i);
      pacer().awaiting(true);
    },
  }));
}

test('the first batch goes at once, the rest a batch per turn of the event loop', () => {
  const timers = manualTimers();
  const evaluated: number[] = [];
  const pacer = new PushPacer({ streams: 1000, waitMs: 100 }, 3, timers);
  pacer.push(streams(7, () => pacer, evaluated));
  assert.equal(evaluated, [0, 1, 2]);
  timers.turn();
  assert.equal(evaluated, [0, 1, 2, 3, 4, 5]);
  timers.turn();
  assert.equal(evaluated, [0, 1, 2, 3, 4, 5, 6]);
  assert.is(pacer.queued, 0);
  assert.is(timers.pending, 0, 'nothing scheduled once the queue is empty');
});

test('a full window stops the push; ACKs open it again', () => {
  const timers = manualTimers();
  const evaluated: number[] = [];
  const pacer = new PushPacer({ streams: 2, waitMs: 100 }, 10, timers);
  pacer.push(streams(5, () => pacer, evaluated));
  assert.equal(evaluated, [0, 1], 'two wait for an ACK: the window is full');
  assert.is(pacer.waiting, 2);
  timers.turn();
  assert.equal(evaluated, [0, 1], 'a full window waits for the timer, not the next turn');
  pacer.awaiting(false); // an ACK
  timers.turn();
  assert.equal(evaluated, [0, 1, 2]);
  pacer.awaiting(false);
  pacer.awaiting(false);
  timers.turn();
  assert.equal(evaluated, [0, 1, 2, 3, 4]);
});

test('clients that never ACK cannot stall the others: after the wait, a tenth of the window goes anyway', () => {
  const timers = manualTimers();
  const evaluated: number[] = [];
  const pacer = new PushPacer({ streams: 20, waitMs: 100 }, 500, timers);
  pacer.push(streams(25, () => pacer, evaluated));
  assert.is(evaluated.length, 20);
  timers.elapse();
  assert.is(evaluated.length, 22, 'a tenth of 20');
  timers.elapse();
  assert.is(evaluated.length, 24);
  timers.elapse();
  assert.is(evaluated.length, 25);
});

test('a stream queued twice is evaluated once; close drops the queue and the timer', () => {
  const timers = manualTimers();
  const evaluated: number[] = [];
  const pacer = new PushPacer({ streams: 1, waitMs: 100 }, 10, timers);
  const s = streams(3, () => pacer, evaluated);
  pacer.push(s);
  pacer.push([s[1], s[2]]);
  assert.equal(evaluated, [0]);
  assert.is(pacer.queued, 2);
  pacer.close();
  assert.is(pacer.queued, 0);
  assert.is(timers.pending, 0);
  pacer.push(s);
  assert.equal(evaluated, [0], 'nothing after close');
});

test.run();
