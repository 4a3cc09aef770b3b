import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { formatText, useColor } from './format-text.ts';
import { summarize } from './summary.ts';

const d = diagnostic('invalid-regex', { regex: '(?=a)', detail: 'lookahead' }, { file: 'm/routes.yaml', line: 7, column: 20 });
const w = diagnostic('empty-method-list', { match: 'm', group: 'default/g' }, { file: 'm/routes.yaml', line: 9, column: 7 });

test('plain text: file:line:col: level CODE message, then a summary line', () => {
  const text = formatText([d, w], summarize([d, w], 0), { stream: { isTTY: false }, env: {} });
  assert.is(
    text,
    'm/routes.yaml:7:20: error SMI3009 invalid RE2 regular expression (?=a): lookahead\n' +
      'm/routes.yaml:9:7: warning SMI3011 match m of default/g has an empty method list and matches no request\n' +
      '2 problems (1 error, 1 warning, 0 info)\n',
  );
});

test('summary counts suppressed diagnostics and says when there is nothing', () => {
  assert.is(formatText([], summarize([], 0), {}), 'no problems\n');
  assert.is(formatText([], summarize([], 2), {}), 'no problems, 2 suppressed\n');
});

test('colour only on a TTY, and never with NO_COLOR or TERM=dumb', () => {
  assert.is(useColor({ stream: { isTTY: true }, env: {} }), true);
  assert.is(useColor({ stream: { isTTY: false }, env: {} }), false);
  assert.is(useColor({ stream: undefined, env: {} }), false);
  assert.is(useColor({ stream: { isTTY: true }, env: { NO_COLOR: '1' } }), false);
  // no-color.org: an empty NO_COLOR does not count.
  assert.is(useColor({ stream: { isTTY: true }, env: { NO_COLOR: '' } }), true);
  assert.is(useColor({ stream: { isTTY: true }, env: { TERM: 'dumb' } }), false);
});

test('coloured text keeps the same words once escape codes are stripped', () => {
  const coloured = formatText([d], summarize([d], 0), { stream: { isTTY: true }, env: {} });
  assert.ok(coloured.includes('\x1b[31merror\x1b[0m'), 'level is red');
  const plain = formatText([d], summarize([d], 0), { stream: { isTTY: false }, env: {} });
  assert.is(coloured.replace(/\x1b\[\d+m/g, ''), plain);
});

test('a diagnostic without a source has no location prefix', () => {
  const g = diagnostic('no-input', { path: 'empty/' });
  assert.is(formatText([g], summarize([g], 0), {}), 'warning SMI1012 no manifests found in empty/\n1 problem (0 errors, 1 warning, 0 info)\n');
});

test.run();
