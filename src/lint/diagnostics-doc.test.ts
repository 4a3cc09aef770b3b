import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CATALOGUE } from '../diagnostics/catalogue.ts';
import { DIAGNOSTICS_DOC_PATH, REGENERATE_COMMAND, diagnosticsDocAnchor, renderDiagnosticsDoc } from './diagnostics-doc.ts';

const docUrl = new URL(`../../${DIAGNOSTICS_DOC_PATH}`, import.meta.url);

test('docs/diagnostics.md is generated from the catalogue and up to date', () => {
  let current = '';
  try {
    current = readFileSync(docUrl, 'utf8');
  } catch {
    // missing: reported below like any other staleness
  }
  if (current !== renderDiagnosticsDoc()) {
    assert.unreachable(`${DIAGNOSTICS_DOC_PATH} is stale; regenerate it with: ${REGENERATE_COMMAND}`);
  }
});

test('every code has a table row, an anchor, its level, template and explanation', () => {
  const doc = renderDiagnosticsDoc();
  for (const e of CATALOGUE) {
    const anchor = diagnosticsDocAnchor(e.code);
    assert.ok(doc.includes(`| [${e.code}](#${anchor}) | ${e.name} | ${e.level}`), `${e.code} table row`);
    const at = doc.indexOf(`<a id="${anchor}"></a>\n### ${e.code} ${e.name}\n`);
    assert.ok(at >= 0, `${e.code} section`);
    const sectionText = doc.slice(at, doc.indexOf('<a id=', at + 1) >>> 0);
    assert.ok(sectionText.includes(`**Level:** ${e.level}`), `${e.code} level`);
    assert.ok(sectionText.includes(e.message), `${e.code} template`);
    assert.ok(sectionText.includes(e.explanation), `${e.code} explanation`);
  }
});

test('a | in a template cannot break the table', () => {
  const doc = renderDiagnosticsDoc([{ code: 'SMI0001', name: 'x', level: 'info', message: 'a | b', explanation: 'explained at length here' }]);
  assert.ok(doc.includes('| a \\| b |'));
});

test.run();
