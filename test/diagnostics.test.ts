/**
 * One small fixture per diagnostic (test/diagnostics/*.yaml): each is compiled on its own and
 * must report exactly the diagnostics its caret comments expect, at the exact line and column.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/compiler/compile.ts';
import { formatDiagnostic, type Diagnostic } from '../src/diagnostics/diagnostic.ts';
import { CATALOGUE } from '../src/diagnostics/catalogue.ts';

const DIR = join('test', 'diagnostics');
const CARET = /^#(\s*)\^\s+(error|warning|info)\s+(SMI\d{4})\s*$/;
const ALLOW = /#\s*allow:\s*(SMI\d{4})/g;

interface Expectation {
  line: number;
  column: number;
  level: string;
  code: string;
}

function expectations(file: string, text: string): { expected: string[]; allowed: Set<string> } {
  const lines = text.split('\n');
  const expected: Expectation[] = [];
  let target = 0; // 1-based number of the last line that is not an expectation
  lines.forEach((line, i) => {
    const m = CARET.exec(line);
    if (!m) {
      target = i + 1;
      return;
    }
    expected.push({ line: target, column: line.indexOf('^') + 1, level: m[2], code: m[3] });
  });
  const allowed = new Set([...text.matchAll(ALLOW)].map((m) => m[1]));
  return { expected: expected.map((e) => `${file}:${e.line}:${e.column}: ${e.level} ${e.code}`), allowed };
}

const key = (d: Diagnostic) => `${d.source?.file}:${d.source?.line}:${d.source?.column}: ${d.level} ${d.code}`;

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

for (const name of files) {
  test(name, () => {
    const file = join(DIR, name);
    const text = readFileSync(file, 'utf8');
    const { expected, allowed } = expectations(file, text);
    assert.ok(expected.length > 0, 'the fixture expects something');
    const expectedCodes = new Set(expected.map((e) => e.split(' ').pop()));
    const result = compile([{ path: file, text }]);
    const reported = result.diagnostics.filter(
      (d) => (d.level !== 'info' || expectedCodes.has(d.code)) && !allowed.has(d.code),
    );
    assert.equal(
      reported.map(key).sort(),
      [...expected].sort(),
      `reported:\n${result.diagnostics.map(formatDiagnostic).join('\n')}`,
    );
  });
}

test('every live diagnostic that input can trigger has a fixture', () => {
  const covered = new Set(files.map((f) => f.slice(0, 7)));
  // Covered elsewhere: parser and schema codes (src/parser/*.test.ts), regex and match checks
  // (src/passes/validate-*.test.ts), output-tree codes (src/compiler/tree-*.test.ts, test/cli.test.ts),
  // server codes (src/serve), certificate codes (src/identity), Envoy's verdicts
  // (src/cli/verify-envoy.test.ts), Kubernetes source codes (src/sources/kubernetes, test/kube),
  // internal errors (src/emit).
  const elsewhere = /^SMI(1|4|5|6|7|8|9)|^SMI30(05|09|10|11)$/;
  const missing = CATALOGUE.filter((e) => !e.retired && !elsewhere.test(e.code) && !covered.has(e.code)).map((e) => e.code);
  assert.equal(missing, []);
});

test.run();
