/**
 * Long invalid regexes through the whole pipeline: each is reported at its own line with a
 * clipped quote, and checking it costs a bounded number of RE2 compiles (counted, not timed).
 * An invalid regex of N characters used to cost N compiles of growing prefixes: O(N²), 84 s of
 * `lint` for 20,000 characters, and `serve --watch` blocked for as long.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../src/compiler/compile.ts';
import { MAX_REGEX_LENGTH, QUOTE_LENGTH } from '../../src/passes/validate-regex.ts';
import { invalidRegex, scenarios } from './mutations.ts';
import { countingCompiles } from '../../src/passes/re2-testing.ts';

const SEED = Number(process.env.FC_SEED ?? 20261207);
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : undefined;

/** Scenarios with a `pathRegex` line, and where those lines are. */
const TARGETS = scenarios().flatMap((files) =>
  files.flatMap((f, which) =>
    f.text
      .split('\n')
      .map((line, i) => ({ line, i }))
      .filter(({ line }) => /^\s+pathRegex: /.test(line))
      .map(({ i }) => ({ files, which, lineIndex: i })),
  ),
);


test('fixtures have pathRegex lines to damage', () => {
  assert.ok(TARGETS.length >= 5, `${TARGETS.length}`);
});

test('a long invalid regex in a real manifest: one diagnostic at its line, clipped, bounded compiles', () => {
  fc.assert(
    fc.property(fc.nat({ max: TARGETS.length - 1 }), invalidRegex(1200), (t, regex) => {
      const { files, which, lineIndex } = TARGETS[t]!;
      const lines = files[which]!.text.split('\n');
      lines[lineIndex] = lines[lineIndex]!.replace(/pathRegex: .*$/, `pathRegex: ${JSON.stringify(regex)}`);
      const damaged = files.map((f, k) => (k === which ? { path: f.path, text: lines.join('\n') } : f));
      const { result, compiles } = countingCompiles(() => compile(damaged));
      const mine = result.diagnostics.filter((d) => d.source?.file === files[which]!.path && d.source.line === lineIndex + 1);
      const expected = regex.length > MAX_REGEX_LENGTH ? 'SMI3023' : 'SMI3009';
      assert.equal(mine.map((d) => d.code), [expected], `${regex.length} characters: ${result.diagnostics.map((d) => d.message).join('\n')}`);
      assert.ok(mine[0]!.message.length < QUOTE_LENGTH * 2 + 150, mine[0]!.message);
      assert.ok(!result.diagnostics.some((d) => d.code.startsWith('SMI9')), 'no internal error');
      // The other regexes of a fixture are a handful; the long one costs 1 + ⌈log2(tokens)⌉ ≤ 12.
      assert.ok(compiles <= 12 + 10, `${compiles} compiles`);
    }),
    { seed: SEED, numRuns: RUNS ?? 60, endOnFailure: true },
  );
});

test.run();
