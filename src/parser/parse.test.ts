import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag, formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { parseSources, type ManifestDocument } from './parse.ts';
import { readInputs } from './read-inputs.ts';
import { keyPositionOf, positionOf } from './origin.ts';

function parse(text: string, path = 'm.yaml'): { docs: ManifestDocument[]; diags: Diagnostic[] } {
  const bag = new DiagnosticBag();
  const docs = parseSources([{ path, text }], bag);
  return { docs, diags: bag.items };
}

/** `line:column CODE` of each diagnostic, the part every test pins down exactly. */
function where(diags: Diagnostic[]): string[] {
  return diags.map((d) => `${d.source?.line}:${d.source?.column} ${d.code}`);
}

const yaml = (lines: string[]) => lines.join('\n') + '\n';

const ROUTE_GROUP_HEAD = [
  'apiVersion: specs.smi-spec.io/v1alpha4',
  'kind: HTTPRouteGroup',
  'metadata:',
  '  name: routes',
  '  namespace: shop',
];

// ── the corpus ──────────────────────────────────────────────────────────────

test('every OSM documentation sample parses without errors or warnings', () => {
  const bag = new DiagnosticBag();
  const files = readInputs([new URL('./testdata/osm-docs', import.meta.url).pathname], bag);
  const docs = parseSources(files, bag);
  assert.ok(files.length >= 20, `read ${files.length} files`);
  assert.equal(bag.items.filter((d) => d.level !== 'info').map(formatDiagnostic), []);
  assert.ok(docs.length >= 50);
  const kinds = new Set(docs.map((d) => d.kind));
  for (const k of ['Service', 'ServiceAccount', 'Deployment', 'StatefulSet', 'TrafficTarget', 'HTTPRouteGroup', 'TCPRoute', 'TrafficSplit', 'MeshConfig']) {
    assert.ok(kinds.has(k), `no ${k} parsed`);
  }
});

// ── origins ─────────────────────────────────────────────────────────────────

test('origin points at the document and locate at any field, in later documents too', () => {
  const { docs, diags } = parse(
    yaml([
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata: {name: a}',
      '---',
      '# a comment before the document',
      ...ROUTE_GROUP_HEAD,
      'spec:',
      '  matches:',
      '  - name: buy',
      '    pathRegex: /buy',
      '    headers:',
      '    - user-agent: ".*Android.*"',
      '    - "x-client": app',
    ]),
  );
  assert.equal(diags, []);
  const group = docs[1];
  assert.is(group.index, 1);
  assert.equal(positionOf(group.origin), { file: 'm.yaml', line: 6, column: 1 });
  assert.equal(positionOf(group.origin, ['spec', 'matches', 0, 'name']), { file: 'm.yaml', line: 13, column: 11 });
  assert.equal(positionOf(group.origin, ['spec', 'matches', 0, 'pathRegex']), { file: 'm.yaml', line: 14, column: 16 });
  assert.equal(positionOf(group.origin, ['spec', 'matches', 0, 'headers', 1, 'x-client']), { file: 'm.yaml', line: 17, column: 19 });
  // A path that does not exist falls back to its nearest existing ancestor.
  assert.equal(positionOf(group.origin, ['spec', 'matches', 0, 'methods', 3]), { file: 'm.yaml', line: 13, column: 5 });
  assert.equal(positionOf(group.origin, ['spec', 'matches', 7]), { file: 'm.yaml', line: 13, column: 3 });
  assert.equal(positionOf(docs[0].origin, ['metadata', 'name']), { file: 'm.yaml', line: 3, column: 18 });
  // locateKey: the `matches:` key rather than its first item.
  assert.equal(keyPositionOf(group.origin, ['spec', 'matches']), { file: 'm.yaml', line: 12, column: 3 });
  assert.equal(keyPositionOf(group.origin, ['spec', 'matches', 0]), { file: 'm.yaml', line: 13, column: 5 });
});

test('locate on a document starting mid-file after --- with content on later lines keeps columns', () => {
  const { docs } = parse(yaml(['--- # first', 'apiVersion: v1', 'kind: Namespace', 'metadata:', '    name: deep']));
  assert.equal(positionOf(docs[0].origin, ['metadata', 'name']), { file: 'm.yaml', line: 5, column: 11 });
});

test('JSON documents parse with positions', () => {
  const { docs, diags } = parse('{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {"name": "web"},\n  "spec": {"ports": [{"port": 80}]}\n}\n', 's.json');
  assert.equal(diags, []);
  assert.equal(positionOf(docs[0].origin, ['spec', 'ports', 0, 'port']), { file: 's.json', line: 5, column: 31 });
});

test('kind: List items become documents whose origins point at items[i]', () => {
  const { docs, diags } = parse(
    yaml([
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: v1',
      '  kind: ServiceAccount',
      '  metadata: {name: a}',
      '- apiVersion: v1',
      '  kind: Service',
      '  metadata:',
      '    name: b',
      '  spec:',
      '    ports: [{port: 80}]',
    ]),
  );
  assert.equal(diags, []);
  assert.equal(docs.map((d) => d.kind), ['ServiceAccount', 'Service']);
  assert.equal(positionOf(docs[1].origin), { file: 'm.yaml', line: 7, column: 3 });
  assert.equal(positionOf(docs[1].origin, ['metadata', 'name']), { file: 'm.yaml', line: 10, column: 11 });
  assert.equal(positionOf(docs[1].origin, ['spec', 'ports', 0, 'port']), { file: 'm.yaml', line: 12, column: 20 });
});

test('items of a typed list (ServiceList) inherit apiVersion and kind', () => {
  const { docs, diags } = parse(
    yaml(['apiVersion: v1', 'kind: ServiceAccountList', 'items:', '- metadata: {name: a}', '- metadata: {name: b}']),
  );
  assert.equal(diags, []);
  assert.equal(docs.map((d) => [d.kind, d.apiVersion, (d.value.metadata as { name: string }).name]), [
    ['ServiceAccount', 'v1', 'a'],
    ['ServiceAccount', 'v1', 'b'],
  ]);
});

test('a List item that is not an object is SMI1010 at the item', () => {
  const { docs, diags } = parse(yaml(['apiVersion: v1', 'kind: List', 'items:', '- 42', '- apiVersion: v1', '  kind: Namespace', '  metadata: {name: x}']));
  assert.equal(where(diags), ['4:3 SMI1010']);
  assert.match(diags[0].message, 'integer');
  assert.is(docs.length, 1);
});

// ── YAML-level problems ─────────────────────────────────────────────────────

test('a syntax error is SMI1001 at the error; earlier documents survive, later ones in the file do not, other files go on', () => {
  const bag = new DiagnosticBag();
  const docs = parseSources(
    [
      { path: 'a.yaml', text: yaml(['apiVersion: v1', 'kind: Namespace', 'metadata: {name: ok}', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata: {name: [x}', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata: {name: after}']) },
      { path: 'b.yaml', text: yaml(['apiVersion: v1', 'kind: Namespace', 'metadata: {name: other}']) },
    ],
    bag,
  );
  assert.equal(where(bag.items), ['7:20 SMI1001']);
  assert.is(bag.items[0].source?.file, 'a.yaml');
  assert.equal(docs.map((d) => (d.value.metadata as { name: string }).name), ['ok', 'other']);
});

test('bad indentation is a syntax error at the start of the offending line', () => {
  const { diags } = parse(yaml(['apiVersion: v1', 'kind: Service', 'metadata:', '  name: a', ' namespace: b']));
  assert.equal(where(diags), ['5:1 SMI1001']);
  assert.is(diags[0].message, 'YAML syntax error: All mapping items must start at the same column');
});

test('a duplicate key is SMI1011 at the second key and the document is dropped', () => {
  const { docs, diags } = parse(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: a', '  name: b']));
  assert.equal(where(diags), ['5:3 SMI1011']);
  assert.match(diags[0].message, 'duplicate key name');
  assert.is(docs.length, 0);
});

test('an empty document is SMI1018 info, and the documents around it are kept', () => {
  const { docs, diags } = parse(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata: {name: a}', '---', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata: {name: b}']));
  assert.equal(where(diags), ['4:1 SMI1018']);
  assert.is(diags[0].level, 'info');
  assert.is(docs.length, 2);
});

test('exponential aliases are SMI1015', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd']]) {
    lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  const { diags } = parse(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata: {name: a}', ...lines]));
  assert.equal(where(diags), ['5:8 SMI1015']); // at the first alias, where the expansion starts
});

test('absurd nesting is SMI1016', () => {
  const deep = '['.repeat(150) + ']'.repeat(150);
  const { diags } = parse(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata: {name: a}', `x: ${deep}`]));
  assert.equal(where(diags), ['1:1 SMI1016']);
});

test('an unresolved custom tag is a SMI1017 warning at the tag', () => {
  const { docs, diags } = parse(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: !custom a']));
  assert.equal(where(diags), ['4:9 SMI1017']);
  assert.is(diags[0].level, 'warning');
  assert.is(docs.length, 1);
});

test('a document that is a list or a scalar is SMI1010', () => {
  const { diags } = parse(yaml(['- a', '- b', '---', 'just text']));
  assert.equal(where(diags), ['1:1 SMI1010', '4:1 SMI1010']);
  assert.match(diags[0].message, 'document is a array');
});

// ── type meta ───────────────────────────────────────────────────────────────

test('missing apiVersion or kind is SMI1008 at the document', () => {
  const { diags } = parse(yaml(['kind: Service', 'metadata: {name: a}', '---', 'apiVersion: v1', 'metadata: {name: a}', '---', 'metadata: {name: a}']));
  assert.equal(where(diags), ['1:1 SMI1008', '4:1 SMI1008', '7:1 SMI1008']);
  assert.match(diags[0].message, 'no apiVersion');
  assert.match(diags[1].message, 'no kind');
  assert.match(diags[2].message, 'no apiVersion or kind');
});

test('a kind or apiVersion of the wrong type is SMI1002 at the value; List items that are not a list too', () => {
  const { diags } = parse(yaml(['apiVersion: v1', 'kind: 5', 'metadata: {name: a}', '---', 'apiVersion: v1', 'kind: List', 'items: {a: 1}', '---', 'apiVersion: v1', 'kind: List']));
  assert.equal(where(diags), ['2:7 SMI1002', '7:8 SMI1002']);
  assert.is(diags[0].message, 'document field kind must be string, not integer');
  assert.is(diags[1].message, 'List field items must be array, not object');
});

test('an unknown kind is SMI1006 info at kind, skipped; a same-named kind of another group too', () => {
  const { docs, diags } = parse(
    yaml([
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: c}',
      '---',
      'apiVersion: serving.knative.dev/v1',
      'kind: Service',
      'metadata: {name: k}',
    ]),
  );
  assert.equal(where(diags), ['2:7 SMI1006', '6:7 SMI1006']);
  assert.ok(diags.every((d) => d.level === 'info'));
  assert.equal(diags[0].resource, { kind: 'ConfigMap', name: 'c' });
  assert.is(docs.length, 0);
});

test('a known kind at an unpublished version is SMI1007 at apiVersion', () => {
  const { docs, diags } = parse(
    yaml([
      'apiVersion: access.smi-spec.io/v1alpha4',
      'kind: TrafficTarget',
      'metadata: {name: t}',
      '---',
      'apiVersion: extensions/v1beta1',
      'kind: Deployment',
      'metadata: {name: d}',
    ]),
  );
  assert.equal(where(diags), ['1:13 SMI1007', '5:13 SMI1007']);
  assert.match(diags[0].message, 'use one of access.smi-spec.io/v1alpha1, access.smi-spec.io/v1alpha2, access.smi-spec.io/v1alpha3');
  assert.match(diags[1].message, 'use one of apps/v1');
  assert.is(docs.length, 0);
});

// ── schema errors ───────────────────────────────────────────────────────────

test('methods: GET is SMI1002 "must be array, not string" at the value', () => {
  const { docs, diags } = parse(yaml([...ROUTE_GROUP_HEAD, 'spec:', '  matches:', '  - name: buy', '    methods: GET']));
  assert.equal(where(diags), ['9:14 SMI1002']);
  assert.is(diags[0].message, 'HTTPRouteGroup field spec.matches[0].methods must be array, not string');
  assert.equal(diags[0].resource, { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'routes' });
  assert.is(docs.length, 0);
});

test('an SMI object without the spec its fields live in is SMI1004 at the document', () => {
  const { diags } = parse(yaml(['apiVersion: split.smi-spec.io/v1alpha4', 'kind: TrafficSplit', 'metadata:', '  name: s']));
  assert.equal(where(diags), ['1:1 SMI1004']);
  assert.is(diags[0].message, 'TrafficSplit document is missing required field spec');
});

test('matches beside spec is SMI1003 at the key, with a did-you-mean hint', () => {
  const { diags } = parse(yaml([...ROUTE_GROUP_HEAD, 'spec: {}', 'matches:', '- name: buy']));
  assert.equal(where(diags), ['6:1 SMI1004', '7:1 SMI1003']);
  assert.is(diags[0].message, 'HTTPRouteGroup spec is missing required field matches');
  assert.is(diags[1].message, 'HTTPRouteGroup has no field matches (did you mean spec.matches?)');
});

test('a misspelt field is SMI1003 at the key, suggesting the sibling', () => {
  const { diags } = parse(yaml([...ROUTE_GROUP_HEAD, 'spec:', '  matches:', '  - name: buy', '    pathregex: /x']));
  assert.equal(where(diags), ['9:5 SMI1003']);
  assert.is(diags[0].message, 'HTTPRouteGroup has no field spec.matches[0].pathregex (did you mean spec.matches[0].pathRegex?)');
});

test('an unknown field with no near miss has no hint', () => {
  const { diags } = parse(yaml([...ROUTE_GROUP_HEAD, 'spec:', '  matches: []', '  priority: 3']));
  assert.equal(where(diags), ['8:3 SMI1003']);
  assert.is(diags[0].message, 'HTTPRouteGroup has no field spec.priority');
});

test('a missing required field is SMI1004 at the parent object', () => {
  const { diags } = parse(
    yaml([
      'apiVersion: access.smi-spec.io/v1alpha3',
      'kind: TrafficTarget',
      'metadata: {name: t, namespace: shop}',
      'spec:',
      '  destination:',
      '    name: shop',
      '  rules:',
      '  - kind: HTTPRouteGroup',
      '  sources: []',
    ]),
  );
  assert.equal(where(diags), ['5:3 SMI1004', '8:5 SMI1004']);
  assert.is(diags[0].message, 'TrafficTarget spec.destination is missing required field kind');
  assert.is(diags[1].message, 'TrafficTarget spec.rules[0] is missing required field name');
});

test('a document without metadata, or metadata without name, is SMI1004', () => {
  const { diags } = parse(yaml(['apiVersion: v1', 'kind: Namespace', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata:', '  labels: {a: b}']));
  assert.equal(where(diags), ['1:1 SMI1004', '6:1 SMI1004']);
  assert.is(diags[0].message, 'Namespace document is missing required field metadata');
  assert.is(diags[1].message, 'Namespace metadata is missing required field name');
});

test('a value outside an enum is SMI1005 at the value', () => {
  const { diags } = parse(yaml([...ROUTE_GROUP_HEAD, 'spec:', '  matches:', '  - name: buy', '    methods: [GET, FETCH]']));
  assert.equal(where(diags), ['9:20 SMI1005']);
  assert.match(diags[0].message, 'spec.matches[0].methods[1] must be one of "*", "GET"');
  assert.match(diags[0].message, 'got "FETCH"');
});

test('a port out of range is SMI1005 at the value', () => {
  const { diags } = parse(yaml(['apiVersion: v1', 'kind: Service', 'metadata: {name: s}', 'spec:', '  ports:', '  - port: 70000']));
  assert.equal(where(diags), ['6:11 SMI1005']);
  assert.is(diags[0].message, 'Service field spec.ports[0].port must be <= 65535; got 70000');
});

test('a v1alpha1 TrafficSplit weight that is not a quantity is SMI1005', () => {
  const { diags } = parse(
    yaml(['apiVersion: split.smi-spec.io/v1alpha1', 'kind: TrafficSplit', 'metadata: {name: s}', 'spec:', '  service: a', '  backends:', '  - service: b', '    weight: lots']),
  );
  assert.equal(where(diags), ['8:13 SMI1005']);
});

test('label values must be strings: SMI1002 names the label with its dots', () => {
  const { diags } = parse(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: a', '  labels:', '    app.kubernetes.io/version: 2']));
  assert.equal(where(diags), ['6:32 SMI1002']);
  assert.is(diags[0].message, 'Namespace field metadata.labels["app.kubernetes.io/version"] must be string, not integer');
});

test('every problem of a document is reported, and a valid neighbour is still returned', () => {
  const { docs, diags } = parse(
    yaml([
      ...ROUTE_GROUP_HEAD,
      'spec:',
      '  matches:',
      '  - name: a',
      '    methods: GET',
      '  - pathRegex: 3',
      '---',
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata: {name: fine}',
    ]),
  );
  // In source order, whatever order the schema checks them in.
  assert.equal(where(diags), ['9:14 SMI1002', '10:5 SMI1004', '10:16 SMI1002']);
  assert.equal(docs.map((d) => d.kind), ['ServiceAccount']);
});

test('core kinds accept fields smi-compile does not model', () => {
  const { diags } = parse(
    yaml([
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: d, uid: x, creationTimestamp: null}',
      'spec:',
      '  replicas: 2',
      '  strategy: {type: RollingUpdate}',
      '  selector: {matchLabels: {app: d}}',
      '  template:',
      '    metadata: {labels: {app: d}}',
      '    spec:',
      '      containers: [{name: c, image: x, resources: {limits: {cpu: 1}}}]',
      'status: {replicas: 2}',
    ]),
  );
  assert.equal(diags, []);
});

test.run();
