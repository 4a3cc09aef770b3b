import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { exitCodeFor, parseFailOn } from './threshold.ts';

const error = diagnostic('split-zero-weight', { split: 's' });
const warning = diagnostic('route-group-without-matches', { kind: 'HTTPRouteGroup', namespace: 'n', name: 'g' });
const info = diagnostic('empty-document', {});

test('exit 1 at or above the threshold, 0 below', () => {
  assert.is(exitCodeFor([info, warning], 'error'), 0);
  assert.is(exitCodeFor([info, warning, error], 'error'), 1);
  assert.is(exitCodeFor([info], 'warning'), 0);
  assert.is(exitCodeFor([warning], 'warning'), 1);
  assert.is(exitCodeFor([error], 'warning'), 1);
  assert.is(exitCodeFor([info], 'info'), 1);
  assert.is(exitCodeFor([], 'info'), 0);
});

test('the default threshold is error', () => {
  assert.is(exitCodeFor([warning]), 0);
  assert.is(exitCodeFor([error]), 1);
});

test('parseFailOn accepts the three levels and rejects anything else', () => {
  assert.is(parseFailOn('warning'), 'warning');
  assert.throws(() => parseFailOn('warn'), /--fail-on must be one of error, warning, info/);
  assert.throws(() => parseFailOn('ERROR'), /not "ERROR"/);
});

test.run();
