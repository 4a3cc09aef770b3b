import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quantiles, tail, type TailRun } from './serve-kit.ts';

const run = (ms: number): TailRun => ({ writeToConfigMs: ms, watchMs: 30, compileMs: ms - 40, snapshotMs: 3, diffMs: 1, pushMs: 2, deliveryMs: 4, gcMs: 0, gcMaxMs: 0, pushed: 3 });

test('quantiles: nearest rank, p99 of 100 values is the 100th', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(quantiles(xs), { n: 100, min: 1, p50: 51, p90: 91, p99: 100, max: 100 });
});

test('tail: counts the runs over the limit and lists the first five and every slow one', () => {
  const runs = [60, 61, 62, 63, 64, 65, 150, 66, 101, 67].map(run);
  const text = tail(runs, 100);
  assert.match(text, /over 100 ms: 2 of 10 runs/);
  const listed = text.split('\n').slice(2).map((l) => l.split(/\s+/)[0]);
  assert.equal(listed, ['1', '2', '3', '4', '5', '7', '9']);
  // A run whose time is unknown (no response seen) is a miss, not a pass.
  assert.match(tail([run(NaN)], 100), /over 100 ms: 1 of 1 runs/);
});

test.run();
