import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import type * as Sarif from 'sarif';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { CATALOGUE } from '../diagnostics/catalogue.ts';
import schema from './testdata/sarif-2.1.0-rtm.5.json' with { type: 'json' };
import { artifactUri, buildSarif, docsUriFromRepository, formatSarif } from './format-sarif.ts';

// See testdata/README.md for where the schema comes from and why unicodeRegExp is off.
// Both packages are CommonJS with `exports.default`; under NodeNext that is where the types are.
const ajv = new ajvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
ajvFormats.default(ajv);
const validate = ajv.compile(schema);

const cwd = '/repo';
const docsUri = 'https://github.com/example/smi-compile/blob/main/docs/diagnostics.md';
const diags = [
  diagnostic('invalid-regex', { regex: '/a(?=b)', detail: 'lookahead' }, { file: 'manifests/routes.yaml', line: 8, column: 19 }, { kind: 'HTTPRouteGroup', namespace: 'default', name: 'g' }),
  diagnostic('route-shadowed', { match: 'b', group: 'default/g', earlier: 'a' }, { file: '/repo/dir with space/r#1.yaml', line: 3, column: 5 }),
  diagnostic('unknown-kind', { apiVersion: 'v1', kind: 'ConfigMap' }, { file: '/elsewhere/cm.yaml', line: 1, column: 1 }),
  diagnostic('permissive-mode-ignores-targets', { count: 2 }),
  diagnostic('yaml-syntax', { detail: 'x' }, { file: '<stdin>', line: 2, column: 1 }),
];

function assertValid(log: unknown): void {
  if (!validate(log)) assert.unreachable(`SARIF does not validate:\n${JSON.stringify(validate.errors, null, 2)}`);
}

test('the log validates against the SARIF 2.1.0 schema, with and without a docs URL', () => {
  assertValid(buildSarif(diags, { cwd, docsUri }));
  assertValid(buildSarif(diags, { cwd, docsUri: undefined }));
  assertValid(buildSarif([], { cwd, docsUri }));
});

test('a relative helpUri is rejected by the schema, so the test above is not vacuous', () => {
  const log = buildSarif([], { cwd, docsUri });
  log.runs[0]!.tool.driver.rules![0]!.helpUri = 'docs/diagnostics.md#smi1001';
  assert.not.ok(validate(log));
});

test('errata01 rules that rtm.5 lacks: every region has startLine; levels are strings', () => {
  const log = buildSarif(diags, { cwd, docsUri });
  for (const r of log.runs[0]!.results!) {
    assert.type(r.level, 'string');
    for (const l of r.locations ?? []) if (l.physicalLocation?.region) assert.type(l.physicalLocation.region.startLine, 'number');
  }
});

test('rules come from the catalogue: id, name, descriptions, helpUri, default level', () => {
  const log = buildSarif(diags, { cwd, docsUri });
  const rules = log.runs[0]!.tool.driver.rules!;
  assert.is(rules.length, CATALOGUE.filter((e) => !e.retired).length);
  const r = rules.find((x) => x.id === 'SMI3009')!;
  const entry = CATALOGUE.find((e) => e.code === 'SMI3009')!;
  assert.is(r.name, 'invalid-regex');
  assert.is(r.shortDescription!.text, 'Invalid regex');
  assert.is(r.fullDescription!.text, entry.explanation);
  assert.is(r.helpUri, `${docsUri}#smi3009`);
  assert.equal(r.defaultConfiguration, { level: 'error' });
  assert.equal(rules.find((x) => x.id === 'SMI1006')!.defaultConfiguration, { level: 'note' });
  assert.is(log.runs[0]!.tool.driver.name, 'smi-compile');
});

test('results: ruleId, ruleIndex, level, message, relative artifact URI, 1-based region', () => {
  const log = buildSarif(diags, { cwd, docsUri });
  const run = log.runs[0]!;
  const [regex, shadowed, kind, permissive, stdin] = run.results! as Sarif.Result[];
  assert.equal(regex, {
    ruleId: 'SMI3009',
    ruleIndex: run.tool.driver.rules!.findIndex((x) => x.id === 'SMI3009'),
    level: 'error',
    message: { text: 'invalid RE2 regular expression /a(?=b): lookahead' },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: 'manifests/routes.yaml' }, region: { startLine: 8, startColumn: 19 } },
        logicalLocations: [{ fullyQualifiedName: 'HTTPRouteGroup/default/g', kind: 'resource' }],
      },
    ],
  });
  assert.is(shadowed!.level, 'warning');
  assert.is(shadowed!.locations![0]!.physicalLocation!.artifactLocation!.uri, 'dir%20with%20space/r%231.yaml');
  assert.is(kind!.level, 'note');
  assert.is(kind!.locations![0]!.physicalLocation!.artifactLocation!.uri, 'file:///elsewhere/cm.yaml');
  assert.is(permissive!.locations, undefined, 'no location to give');
  assert.is(stdin!.locations, undefined, 'stdin is not an artifact GitHub can show');
  assert.is(run.columnKind, 'utf16CodeUnits');
});

test('output is deterministic and carries no absolute path of the machine', () => {
  const a = formatSarif(diags, { cwd, docsUri });
  const b = formatSarif(diags, { cwd, docsUri });
  assert.is(a, b);
  assert.not.ok(a.includes('/repo/'));
  assert.not.ok(/\d{4}-\d\d-\d\dT/.test(a), 'no timestamps');
});

test('artifact URIs and docs URLs', () => {
  assert.is(artifactUri('a/b.yaml', '/repo'), 'a/b.yaml');
  assert.is(artifactUri('/repo/a/b.yaml', '/repo'), 'a/b.yaml');
  assert.is(artifactUri('../x.yaml', '/repo/sub'), 'file:///repo/x.yaml');
  assert.is(docsUriFromRepository({ type: 'git', url: 'git+https://github.com/o/r.git' }), 'https://github.com/o/r/blob/main/docs/diagnostics.md');
  assert.is(docsUriFromRepository('github:o/r'), 'https://github.com/o/r/blob/main/docs/diagnostics.md');
  assert.is(docsUriFromRepository(undefined), undefined);
});

test.run();
