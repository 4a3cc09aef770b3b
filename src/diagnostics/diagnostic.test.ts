import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic, formatDiagnostic, compareDiagnostics } from './diagnostic.ts';
import { CATALOGUE } from './catalogue.ts';

test('diagnostic fills the catalogue template and keeps the default level', () => {
  const d = diagnostic('yaml-syntax', { detail: 'bad indentation' }, { file: 'a.yaml', line: 3, column: 5 });
  assert.is(d.code, 'SMI1001');
  assert.is(d.level, 'error');
  assert.is(formatDiagnostic(d), 'a.yaml:3:5: error SMI1001 YAML syntax error: bad indentation');
});

test('a diagnostic is named, and its template arguments are the checked ones (npx tsc checks the lines marked)', () => {
  // @ts-expect-error: codes are for users; the code names a diagnostic
  assert.throws(() => diagnostic('SMI1001', { detail: 'x' }), /not in the catalogue/);
  // @ts-expect-error: no such diagnostic
  assert.throws(() => diagnostic('yaml-sintax', { detail: 'x' }), /not in the catalogue/);
  // @ts-expect-error: yaml-syntax's template has {detail}, not {details}
  assert.is(diagnostic('yaml-syntax', { details: 'x' }).message, 'YAML syntax error: {detail}');
  // @ts-expect-error: a retired diagnostic is reported no more
  assert.is(diagnostic('unknown-rule-kind', { target: 't', kind: 'k' }).code, 'SMI2010');
  assert.is(diagnostic('alias-limit', { limit: 100 }).code, 'SMI1015');
});

test('catalogue codes and names are unique and well formed', () => {
  const codes = new Set<string>();
  const names = new Set<string>();
  for (const e of CATALOGUE) {
    assert.ok(/^SMI\d{4}$/.test(e.code), e.code);
    assert.ok(/^[a-z0-9-]+$/.test(e.name), e.name);
    assert.not.ok(codes.has(e.code), `duplicate code ${e.code}`);
    assert.not.ok(names.has(e.name), `duplicate name ${e.name}`);
    assert.ok(e.explanation.length > 20, `${e.code} needs an explanation`);
    codes.add(e.code);
    names.add(e.name);
  }
});

test('diagnostics sort by file, line, column', () => {
  const a = diagnostic('yaml-syntax', { detail: 'x' }, { file: 'a', line: 2, column: 1 });
  const b = diagnostic('yaml-syntax', { detail: 'x' }, { file: 'a', line: 10, column: 1 });
  assert.equal([b, a].sort(compareDiagnostics), [a, b]);
});

test.run();
