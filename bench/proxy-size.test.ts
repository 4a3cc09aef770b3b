import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { distribution } from './proxy-size.ts';

test('distribution: nearest-rank min, median, p90, max', () => {
  const xs = Array.from({ length: 10 }, (_, i) => 10 - i); // 10..1, unsorted on purpose
  assert.equal(distribution(xs), { min: 1, median: 5, p90: 9, max: 10 });
  assert.equal(distribution([7]), { min: 7, median: 7, p90: 7, max: 7 });
  assert.equal(distribution([]), { min: 0, median: 0, p90: 0, max: 0 });
});

test.run();
