import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { formatJson } from './format-json.ts';
import { summarize } from './summary.ts';

test('json: version, diagnostics as held, and the counts', () => {
  const d = diagnostic(
    'route-shadowed',
    { match: 'b', group: 'default/g', earlier: 'a' },
    { file: 'r.yaml', line: 12, column: 5 },
    { kind: 'HTTPRouteGroup', namespace: 'default', name: 'g' },
  );
  const parsed = JSON.parse(formatJson([d], summarize([d], 1)));
  assert.equal(parsed, {
    version: 1,
    diagnostics: [
      {
        code: 'SMI3010',
        level: 'warning',
        message: 'match b of default/g can never be reached: a matches first',
        source: { file: 'r.yaml', line: 12, column: 5 },
        resource: { kind: 'HTTPRouteGroup', namespace: 'default', name: 'g' },
      },
    ],
    summary: { error: 0, warning: 1, info: 0, suppressed: 1 },
  });
});

test('json key order is fixed whatever order the diagnostic was built in', () => {
  const a = { message: 'm', level: 'info' as const, code: 'SMI1006' as const, source: { column: 1, line: 2, file: 'f' } };
  const text = formatJson([a], summarize([a], 0));
  assert.ok(text.indexOf('"code"') < text.indexOf('"level"') && text.indexOf('"level"') < text.indexOf('"message"'));
  assert.ok(text.indexOf('"file"') < text.indexOf('"line"') && text.indexOf('"line"') < text.indexOf('"column"'));
  assert.ok(text.endsWith('}\n'));
});

test.run();
