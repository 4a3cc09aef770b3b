import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { lintReport } from './index.ts';
import { SuppressSpecError } from './suppress.ts';

const g = { kind: 'HTTPRouteGroup', namespace: 'default', name: 'g' };
const err = diagnostic('invalid-regex', { regex: '(?=x)', detail: 'lookahead' }, { file: 'b.yaml', line: 3, column: 9 }, g);
const warn = diagnostic('route-shadowed', { match: 'b', group: 'default/g', earlier: 'a' }, { file: 'a.yaml', line: 10, column: 5 }, g);
const info = diagnostic('unknown-kind', { apiVersion: 'v1', kind: 'ConfigMap' }, { file: 'a.yaml', line: 1, column: 1 });

test('text by default: sorted by file/line/column, summary, exit code from --fail-on', () => {
  const r = lintReport([err, warn, info], { stream: { isTTY: false } });
  assert.is(
    r.text,
    'a.yaml:1:1: info SMI1006 skipping v1 ConfigMap: not a kind smi-compile reads\n' +
      'a.yaml:10:5: warning SMI3010 match b of default/g can never be reached: a matches first\n' +
      'b.yaml:3:9: error SMI3009 invalid RE2 regular expression (?=x): lookahead\n' +
      '3 problems (1 error, 1 warning, 1 info)\n',
  );
  assert.is(r.exitCode, 1);
  assert.is(lintReport([warn, info]).exitCode, 0);
  assert.is(lintReport([warn, info], { failOn: 'warning' }).exitCode, 1);
  assert.is(lintReport([info], { failOn: 'info' }).exitCode, 1);
});

test('suppressed diagnostics neither print nor fail the run', () => {
  const r = lintReport([err, warn], { suppress: ['SMI3009'], failOn: 'error' });
  assert.is(r.exitCode, 0);
  assert.not.ok(r.text.includes('SMI3009'));
  assert.ok(r.text.endsWith('1 problem (0 errors, 1 warning, 0 info), 1 suppressed\n'));
  const a = lintReport([err, warn], { annotationsOf: () => ({ 'smi-compile.io/suppress': 'SMI3009,SMI3010' }) });
  assert.is(a.exitCode, 0);
  assert.is(a.summary.suppressed, 2);
});

test('a malformed --suppress throws SuppressSpecError for the CLI to turn into exit 2', () => {
  assert.throws(() => lintReport([], { suppress: ['NOPE'] }), (e: unknown) => e instanceof SuppressSpecError);
});

test('the same finding reported twice is shown once', () => {
  const r = lintReport([err, { ...err }], { format: 'json' });
  assert.is(JSON.parse(r.text).diagnostics.length, 1);
});

test('every format renders the same, sorted diagnostics', () => {
  const json = JSON.parse(lintReport([err, warn], { format: 'json' }).text);
  assert.equal(json.diagnostics.map((d: { code: string }) => d.code), ['SMI3010', 'SMI3009']);
  const sarif = JSON.parse(lintReport([err, warn], { format: 'sarif', cwd: '/repo' }).text);
  assert.equal(sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId), ['SMI3010', 'SMI3009']);
  const gh = lintReport([err, warn], { format: 'github', cwd: '/repo' }).text.split('\n');
  assert.ok(gh[0]!.startsWith('::warning file=a.yaml,line=10,col=5,title=SMI3010::'));
  assert.ok(gh[1]!.startsWith('::error file=b.yaml,line=3,col=9,title=SMI3009::'));
});

test.run();
