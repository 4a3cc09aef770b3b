import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag, formatDiagnostic } from '../../diagnostics/diagnostic.ts';
import { parseSources } from '../../parser/parse.ts';
import type { Mesh } from '../types.ts';
import { buildMesh } from './index.ts';

function build(text: string): { mesh: Mesh; diags: string[] } {
  const bag = new DiagnosticBag();
  const mesh = buildMesh(parseSources([{ path: 'm.yaml', text }], bag, { keepRefused: true }), bag, {});
  return { mesh, diags: bag.items.map(formatDiagnostic) };
}
const yaml = (lines: string[]) => lines.join('\n') + '\n';

const DEPLOYMENT = (meta: string, sa = 'app') =>
  yaml(['apiVersion: apps/v1', 'kind: Deployment', `metadata: ${meta}`, 'spec:', '  selector: {matchLabels: {app: a}}', '  template:', '    metadata: {labels: {app: a}}', '    spec:', `      serviceAccountName: ${sa}`, '      containers: [{name: c}]']);

test('the issue: a namespace that climbs out of the output directory is refused at its line, nothing built', () => {
  const { mesh, diags } = build(DEPLOYMENT('{name: app, namespace: ../../../../elsewhere/victim}'));
  assert.equal(diags, ['m.yaml:3:34: error SMI1022 Deployment metadata.namespace "../../../../elsewhere/victim" is not a valid namespace (RFC 1123 label): it contains "/"']);
  assert.is(mesh.workloads.length, 0);
  assert.equal(mesh.invalidObjects.map((o) => [o.objectKind, o.meta.name, o.problem.code]), [['Deployment', 'app', 'SMI1022']]);
});

test('every name of a workload: its name, namespace and serviceAccountName', () => {
  const cases: [string, string, RegExp][] = [
    ['{name: "../x"}', 'app', /3:18: error SMI1022 Deployment metadata.name "..\/x" is not a valid Deployment name \(RFC 1123 subdomain\): it contains "\/"/],
    ['{name: App}', 'app', /error SMI1022 .*"App".*uppercase/],
    [`{name: ${'a'.repeat(254)}}`, 'app', /error SMI1022 .*\(254 characters\).*more than 253/],
    ['{name: app, namespace: ""}', 'app', /3:34: error SMI1022 Deployment metadata.namespace "" .*it is empty/],
    [`{name: app, namespace: ${'n'.repeat(64)}}`, 'app', /more than 63/],
    ['{name: app}', '../../etc', /9:27: error SMI1023 Deployment spec.template.spec.serviceAccountName "..\/..\/etc" cannot name a ServiceAccount \(RFC 1123 subdomain\)/],
    ['{name: app}', 'Ünïcode', /error SMI1023 .*non-ASCII/],
  ];
  for (const [meta, sa, expected] of cases) {
    const { mesh, diags } = build(DEPLOYMENT(meta, sa));
    assert.is(diags.length, 1, diags.join('\n'));
    assert.match(diags[0], expected);
    assert.is(mesh.workloads.length, 0);
    assert.is(mesh.invalidObjects.length, 1);
  }
});

test('absent namespaces default to default; serviceAccountName "" is unset, as in Kubernetes', () => {
  const { mesh, diags } = build(DEPLOYMENT('{name: app}', '""'));
  assert.equal(diags, []);
  assert.is(mesh.workloads[0].meta.namespace, 'default');
  assert.is(mesh.workloads[0].serviceAccount, 'default');
  assert.is(mesh.workloads[0].serviceAccountPath, undefined);
});

test('each kind by its own rule: Service an RFC 1035 label, Namespace an RFC 1123 label, the rest subdomains', () => {
  const svc = build(yaml(['apiVersion: v1', 'kind: Service', 'metadata: {name: 1web}', 'spec: {ports: [{port: 80}]}']));
  assert.match(svc.diags[0], /SMI1022 Service metadata.name "1web" is not a valid Service name \(RFC 1035 label\): it must start with a lowercase letter/);
  const ns = build(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata: {name: a.b}']));
  assert.match(ns.diags[0], /SMI1022 Namespace metadata.name "a.b" is not a valid Namespace name \(RFC 1123 label\): it contains "."/);
  const sa = build(yaml(['apiVersion: v1', 'kind: ServiceAccount', 'metadata: {name: a.b, namespace: x}']));
  assert.equal(sa.diags, []);
  for (const head of [['apiVersion: specs.smi-spec.io/v1alpha4', 'kind: HTTPRouteGroup'], ['apiVersion: config.openservicemesh.io/v1alpha2', 'kind: MeshConfig']]) {
    const r = build(yaml([...head, 'metadata: {name: A_B}', 'spec: {}']));
    assert.match(r.diags.join('\n'), /SMI1022 .* metadata.name "A_B" is not a valid \w+ name \(RFC 1123 subdomain\)/);
  }
});

test('TrafficTarget: destination, sources and rule names, each at its field; written namespaces too', () => {
  const { mesh, diags } = build(
    yaml([
      'apiVersion: access.smi-spec.io/v1alpha3',
      'kind: TrafficTarget',
      'metadata: {name: t, namespace: shop}',
      'spec:',
      '  destination: {kind: ServiceAccount, name: "a/b"}',
      '  sources:',
      '  - {kind: ServiceAccount, name: ok, namespace: "../x"}',
      '  - {kind: ServiceAccount, name: ok, namespace: ""}',
      '  rules: [{kind: HTTPRouteGroup, name: "R"}]',
    ]),
  );
  assert.equal(
    diags.map((d) => d.replace(/ is not .*| cannot name .*/, '')),
    [
      'm.yaml:5:45: error SMI1023 TrafficTarget spec.destination.name "a/b"',
      'm.yaml:7:49: error SMI1023 TrafficTarget spec.sources[0].namespace "../x"',
      'm.yaml:8:49: error SMI1023 TrafficTarget spec.sources[1].namespace ""',
      'm.yaml:9:40: error SMI1023 TrafficTarget spec.rules[0].name "R"',
    ],
  );
  assert.is(mesh.trafficTargets.length, 0);
});

test('TrafficSplit: apex, backends and matches', () => {
  const { diags } = build(
    yaml([
      'apiVersion: split.smi-spec.io/v1alpha4',
      'kind: TrafficSplit',
      'metadata: {name: s}',
      'spec:',
      '  service: web.../x',
      '  matches: [{kind: HTTPRouteGroup, name: "Canary"}]',
      '  backends:',
      '  - {service: web-v1.shop.svc.cluster.local, weight: 1}',
      '  - {service: 2web, weight: 1}',
    ]),
  );
  assert.equal(
    diags.map((d) => d.replace(/ cannot name .*/, '')),
    ['m.yaml:5:12: error SMI1023 TrafficSplit spec.service "web.../x"', 'm.yaml:9:15: error SMI1023 TrafficSplit spec.backends[1].service "2web"', 'm.yaml:6:42: error SMI1023 TrafficSplit spec.matches[0].name "Canary"'],
  );
});

test('EndpointSlice: the Service its label names', () => {
  const { diags } = build(
    yaml(['apiVersion: discovery.k8s.io/v1', 'kind: EndpointSlice', 'metadata: {name: web-1, labels: {kubernetes.io/service-name: "../web"}}', 'addressType: IPv4', 'endpoints: []']),
  );
  assert.match(diags.join('\n'), /SMI1023 EndpointSlice metadata.labels\["kubernetes.io\/service-name"\] "..\/web" cannot name a Service \(RFC 1035 label\)/);
});

test('a document its schema refused: its own bad names are reported too, and it is kept as invalid', () => {
  const { mesh, diags } = build(yaml(['apiVersion: v1', 'kind: Service', 'metadata: {name: web, namespace: "a/b"}', 'spec: {ports: [{port: 70000}]}']));
  assert.equal(diags.map((d) => d.split(' ').slice(0, 3).join(' ')), ['m.yaml:4:23: error SMI1005', 'm.yaml:3:34: error SMI1022']);
  assert.equal(mesh.invalidObjects.map((o) => [o.objectKind, o.meta.namespace, o.problem.code]), [['Service', 'a/b', 'SMI1005']]);
  assert.is(mesh.services.length, 0);
});

test.run();
