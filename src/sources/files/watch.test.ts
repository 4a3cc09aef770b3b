import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Logger } from '../../shared/logger.ts';
import { watchPaths } from './watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };

test('a burst of changes is one recompile, after a quiet period', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-watch-'));
  const calls: string[][] = [];
  const waiting: (() => void)[] = [];
  const nextCall = (): Promise<void> => new Promise((resolve) => waiting.push(resolve));
  const w = await watchPaths([dir], {
    debounceMs: 80,
    logger: silentLogger,
    onChange: (c) => {
      calls.push(c.filter((p) => /\.(yaml|txt)$/.test(p)));
      waiting.shift()?.();
    },
  });
  try {
    let call = nextCall();
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(dir, `m${i}.yaml`), `n: ${i}\n`);
      await sleep(10); // the input: five saves 10 ms apart, within the quiet period
    }
    await call;
    assert.is(calls[0].length, 5);
    // A later manifest save is the positive signal: had the burst been split, or had the text
    // file counted, the next call would carry more than the one file saved after it.
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    call = nextCall();
    writeFileSync(join(dir, 'later.yaml'), 'n: later\n');
    await call;
    assert.is(calls.length, 2);
    assert.equal(calls[1].map((p) => p.slice(dir.length + 1)), ['later.yaml'], 'non-manifest files do not trigger a recompile');
  } finally {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
