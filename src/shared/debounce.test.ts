import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { debounce } from './debounce.ts';

/** Resolves when `fire` runs, with how many triggers had come by then. */
function fired(): { fire: () => void; done: Promise<void> } {
  let fire!: () => void;
  const done = new Promise<void>((resolve) => (fire = resolve));
  return { fire, done };
}

test('a burst of triggers fires once, after it is quiet', async () => {
  let n = 0;
  const f = fired();
  const d = debounce(() => {
    n += 1;
    f.fire();
  }, { quietMs: 5, maxWaitMs: 10_000 });
  for (let i = 0; i < 20; i++) d.trigger();
  assert.ok(d.pending);
  await f.done;
  assert.is(n, 1);
  assert.not.ok(d.pending);
});

test('triggers that never pause still fire at the bound', async () => {
  const f = fired();
  const d = debounce(f.fire, { quietMs: 60_000, maxWaitMs: 5 });
  // A trigger on every turn of the event loop: never quiet for a minute, yet the bound fires.
  let stop = false;
  const churn = (): void => {
    if (stop) return;
    d.trigger();
    setImmediate(churn);
  };
  churn();
  await f.done;
  stop = true;
  d.cancel();
  assert.not.ok(d.pending);
});

test('cancel drops what is pending', async () => {
  let n = 0;
  const d = debounce(() => (n += 1), { quietMs: 1, maxWaitMs: 1 });
  d.trigger();
  d.cancel();
  // A second debouncer with the same delay, armed later, fires after the cancelled one would have.
  const f = fired();
  debounce(f.fire, { quietMs: 1, maxWaitMs: 1 }).trigger();
  await f.done;
  assert.is(n, 0);
});

test.run();
