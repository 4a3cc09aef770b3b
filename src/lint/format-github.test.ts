import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { escapeData, escapeProperty, formatGithub, githubCommand } from './format-github.ts';
import { summarize } from './summary.ts';

const cwd = '/repo';

test('one workflow command per diagnostic, levels mapped to error/warning/notice', () => {
  const e = diagnostic('split-zero-weight', { split: 'default/s' }, { file: 'manifests/split.yaml', line: 4, column: 3 });
  const w = diagnostic('protocol-not-inferable', { namespace: 'ns', name: 'svc', port: 80 }, { file: '/repo/a/svc.yaml', line: 9, column: 7 });
  const i = diagnostic('unknown-kind', { apiVersion: 'v1', kind: 'ConfigMap' }, { file: 'cm.yaml', line: 1, column: 1 });
  assert.is(githubCommand(e, cwd), '::error file=manifests/split.yaml,line=4,col=3,title=SMI3002::TrafficSplit default/s backend weights sum to 0');
  assert.is(
    githubCommand(w, cwd),
    '::warning file=a/svc.yaml,line=9,col=7,title=SMI3007::Service ns/svc port 80 has no appProtocol and no protocol name prefix; assuming http',
  );
  assert.ok(githubCommand(i, cwd).startsWith('::notice file=cm.yaml,line=1,col=1,title=SMI1006::'));
});

test('GitHub escaping: %, CR, LF in data; also : and , in properties', () => {
  assert.is(escapeData('100% a\r\nb: c, d'), '100%25 a%0D%0Ab: c, d');
  assert.is(escapeProperty('dir,x/a:b%.yaml'), 'dir%2Cx/a%3Ab%25.yaml');
  const d = diagnostic('yaml-syntax', { detail: 'bad\nthing: 50%' }, { file: 'we,ird:name.yaml', line: 1, column: 2 });
  assert.is(githubCommand(d, cwd), '::error file=we%2Cird%3Aname.yaml,line=1,col=2,title=SMI1001::YAML syntax error: bad%0Athing: 50%25');
});

test('no file properties for a diagnostic without a real file', () => {
  const a = diagnostic('no-input', { path: 'x' });
  const b = diagnostic('yaml-syntax', { detail: 'x' }, { file: '<stdin>', line: 1, column: 1 });
  assert.is(githubCommand(a, cwd), '::warning title=SMI1012::no manifests found in x');
  assert.is(githubCommand(b, cwd), '::error title=SMI1001::YAML syntax error: x');
});

test('the summary closes the output as a plain log line', () => {
  const d = diagnostic('no-input', { path: 'x' });
  assert.is(formatGithub([d], summarize([d], 0), cwd), '::warning title=SMI1012::no manifests found in x\n1 problem (0 errors, 1 warning, 0 info)\n');
});

test.run();
