/**
 * Property-based tests of the whole pipeline: for arbitrary damage to valid manifests,
 * `compile` never throws, every diagnostic points at a real place in a real input file, and
 * the CLI never touches its output tree when it reports an error.
 *
 * Bounded and reproducible: a fixed seed and a modest number of runs (FC_SEED and FC_RUNS
 * override them to explore; a failure prints the seed and the shrunk counterexample).
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, compilePaths } from '../../src/compiler/compile.ts';
import { readTree } from '../../src/compiler/output-tree.ts';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.ts';
import type { SourceFile } from '../../src/parser/source.ts';
import { runCli, tempTree } from '../cli-harness.ts';
import { hostileScenario, mutatedBytes, mutatedScenario, scenarios } from './mutations.ts';

const SEED = Number(process.env.FC_SEED ?? 20261122);
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : undefined;
const params = (numRuns: number) => ({ seed: SEED, numRuns: RUNS ?? numRuns, endOnFailure: true });

/** Diagnostics about command-line paths as a whole (docs/diagnostics.md): they have no line. */
const GLOBAL_CODES = new Set(['SMI1009', 'SMI1012']);

const SCENARIOS = scenarios();

/** Why a diagnostic's position is not a real place in the inputs, or undefined when it is. */
function badPosition(d: Diagnostic, files: readonly SourceFile[]): string | undefined {
  if (d.code.startsWith('SMI9')) return `internal error ${d.code}: ${d.message}`;
  if (!d.source) return GLOBAL_CODES.has(d.code) ? undefined : `${d.code} has no position: ${d.message}`;
  const { file, line, column } = d.source;
  const f = files.find((x) => x.path === file);
  if (!f) return `${d.code} names ${file}, not an input`;
  const lines = f.text.split('\n');
  if (!Number.isInteger(line) || line < 1 || line > lines.length) return `${d.code} at line ${line} of ${lines.length}`;
  // Column 1 past the end of a line is where a missing value would go.
  if (!Number.isInteger(column) || column < 1 || column > lines[line - 1].length + 1) return `${d.code} at ${line}:${column}, line is ${lines[line - 1].length} long`;
  return undefined;
}

test('every fixture compiles cleanly before it is damaged', () => {
  for (const files of SCENARIOS) assert.ok(compile(files).ok, files[0].path);
});

test('damaged manifests: compile never throws, and every diagnostic has a real file:line:column', () => {
  const arb = fc.oneof(...SCENARIOS.map((s) => mutatedScenario(s)));
  fc.assert(
    fc.property(arb, ({ files }) => {
      const result = compile(files);
      for (const d of result.diagnostics) {
        const bad = badPosition(d, files);
        if (bad) throw new Error(bad);
      }
      // `ok` means exactly "no error": it is what decides whether anything is written.
      assert.is(result.ok, !result.diagnostics.some((d) => d.level === 'error'));
    }),
    params(150),
  );
});

test('random bytes in a file: read as a file, compiled, positions real, never a throw', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-hardening-bytes-'));
  const base = SCENARIOS[0];
  try {
    fc.assert(
      fc.property(fc.nat({ max: base.length - 1 }).chain((i) => mutatedBytes(base[i].text).map((bytes) => ({ i, bytes }))), ({ i, bytes }) => {
        const path = join(dir, 'damaged.yaml');
        writeFileSync(path, bytes);
        const others = base.filter((_, k) => k !== i).map((f) => {
          const p = join(dir, f.path.replace('/', '_'));
          writeFileSync(p, f.text);
          return p;
        });
        const result = compilePaths([path, ...others]);
        const texts: SourceFile[] = [{ path, text: bytes.toString('utf8') }, ...others.map((p, k) => ({ path: p, text: base.filter((_, j) => j !== i)[k].text }))];
        for (const d of result.diagnostics) {
          const bad = badPosition(d, texts);
          if (bad) throw new Error(bad);
        }
      }),
      params(60),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI leaves the previous output tree untouched whenever it reports an error', async () => {
  const base = SCENARIOS.find((s) => s[0].path.startsWith('bookstore/')) ?? SCENARIOS[0];
  const input = tempTree(Object.fromEntries(base.map((f) => [f.path.split('/')[1], f.text])));
  const out = join(mkdtempSync(join(tmpdir(), 'smi-hardening-out-')), 'out');
  try {
    assert.is((await runCli(['compile', input, '-o', out])).code, 0);
    const good = readTree(out);
    await fc.assert(
      fc.asyncProperty(mutatedScenario(base), async ({ files }) => {
        const dir = tempTree(Object.fromEntries(files.map((f) => [f.path.split('/')[1], f.text])));
        try {
          const run = await runCli(['compile', dir, '-o', out]);
          assert.ok([0, 1].includes(run.code), `exit ${run.code}: ${run.stderr}`);
          const errors = /: error SMI/.test(run.stderr);
          assert.is(errors, run.code === 1, run.stderr);
          if (run.code !== 0) {
            assert.match(run.stderr, 'nothing written');
            assert.equal(readTree(out), good);
          }
          // Put the reference tree back for the next case: a passing damaged input rewrote it.
          else await runCli(['compile', input, '-o', out]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      params(20),
    );
  } finally {
    rmSync(input, { recursive: true, force: true });
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
});

// ── Hostile names and numbers (issue 15) ───────────────────────────────────

/** Fails unless every changed line (`path:line`) has an error diagnostic of its own. */
function assertErrorAtEach(changed: readonly string[], diagnostics: readonly Diagnostic[]): void {
  const errors = new Set(diagnostics.filter((d) => d.level === 'error' && d.source).map((d) => `${d.source!.file}:${d.source!.line}`));
  for (const at of changed) if (!errors.has(at)) throw new Error(`no error at ${at}; got:\n${diagnostics.map((d) => `${d.source?.file}:${d.source?.line} ${d.code} ${d.message}`).join('\n')}`);
}

test('hostile names and out-of-range numbers: never a throw, real positions, and an error at the line of each (what lint reports)', () => {
  const arb = fc.oneof(...SCENARIOS.map((s) => hostileScenario(s, { numbers: true, max: 1 })));
  fc.assert(
    fc.property(arb, ({ files, changed }) => {
      const result = compile(files, { analyseOnly: true }); // what lint runs
      for (const d of result.diagnostics) {
        const bad = badPosition(d, files);
        if (bad) throw new Error(bad);
      }
      assertErrorAtEach(changed, result.diagnostics);
      assert.is(result.ok, false);
      // And compile (through emit) agrees: no internal error, nothing that could be written.
      const full = compile(files);
      assert.is(full.ok, false);
      assert.is(full.proxies.length === 0 || !full.ok, true);
      for (const d of full.diagnostics) if (d.code.startsWith('SMI9')) throw new Error(`${d.code}: ${d.message}`);
    }),
    params(150),
  );
});

test('several hostile names at once: each one is reported at its own line, in one run', () => {
  const arb = fc.oneof(...SCENARIOS.map((s) => hostileScenario(s, { numbers: false, max: 6 })));
  fc.assert(
    fc.property(arb, ({ files, changed }) => {
      const result = compile(files, { analyseOnly: true });
      assertErrorAtEach(changed, result.diagnostics);
    }),
    params(80),
  );
});

/** Every file and directory under `dir` (with file sizes): the filesystem around a run. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(e.isDirectory() ? `${relative(dir, p)}/` : `${relative(dir, p)} ${statSync(p).size}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

test('the CLI never writes outside its output directory, whatever the names (compile -o, four levels down)', async () => {
  const base = mkdtempSync(join(tmpdir(), 'smi-hardening-names-'));
  const out = join(base, 'a', 'b', 'c', 'd', 'out');
  try {
    const arb = fc.oneof(...SCENARIOS.map((s) => hostileScenario(s, { numbers: true, max: 3 })));
    await fc.assert(
      fc.asyncProperty(arb, async ({ files }) => {
        const input = tempTree(Object.fromEntries(files.map((f) => [f.path.replace('/', '_'), f.text])));
        try {
          const before = snapshot(base);
          const run = await runCli(['compile', input, '-o', out]);
          assert.is(run.code, 1, run.stderr);
          assert.match(run.stderr, 'nothing written');
          assert.not.match(run.stderr, /SMI9/);
          assert.equal(snapshot(base), before);
        } finally {
          rmSync(input, { recursive: true, force: true });
        }
      }),
      params(25),
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
