/** scripts/image-env.mjs reads deploy/Dockerfile's ENV as Docker does: the benchmarks' `--image` and cli-serve.test.ts rely on it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageEnv } from '../scripts/image-env.mjs';

test('bare and quoted values, continued lines, several ENV instructions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-image-env-'));
  try {
    const file = join(dir, 'Dockerfile');
    writeFileSync(
      file,
      ['FROM node:20-slim', 'ENV A=1', '# ENV NOT=this', 'ENV B=two \\', '    C="three and four" \\', '    D="a \\"quoted\\" word"', 'RUN echo ENV E=5'].join('\n'),
    );
    assert.equal(imageEnv(file), { A: '1', B: 'two', C: 'three and four', D: 'a "quoted" word' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the image's own settings", () => {
  const env = imageEnv();
  assert.is(env.LD_PRELOAD, 'libjemalloc.so.2');
  assert.match(env.MALLOC_CONF, /tcache_max:65536/);
  assert.is(env.NODE_OPTIONS, '--max-semi-space-size=8');
});

test.run();
