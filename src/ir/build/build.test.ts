import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag, formatDiagnostic, type Diagnostic } from '../../diagnostics/diagnostic.ts';
import { parseSources } from '../../parser/parse.ts';
import { readInputs } from '../../parser/read-inputs.ts';
import type { Mesh } from '../types.ts';
import { appProtocolOf } from './kubernetes-services.ts';
import { buildMesh } from './index.ts';
import { milliUnits } from './smi-split.ts';
import { positionOf } from '../../parser/origin.ts';

function build(text: string, options: { trustDomain?: string } = {}): { mesh: Mesh; diags: Diagnostic[] } {
  const parseBag = new DiagnosticBag();
  const docs = parseSources([{ path: 'm.yaml', text }], parseBag);
  assert.equal(parseBag.items.map(formatDiagnostic), [], 'test input must parse cleanly');
  const bag = new DiagnosticBag();
  return { mesh: buildMesh(docs, bag, options), diags: bag.items };
}

/** Drops origins (functions) so results compare as plain data. */
function plain<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, (k, v) => (k === 'origin' ? undefined : v)));
}

const yaml = (lines: string[]) => lines.join('\n') + '\n';

// ── TrafficTarget ───────────────────────────────────────────────────────────

const SOURCES_AND_DEST = (indent: string) => [
  `${indent}destination:`,
  `${indent}  kind: ServiceAccount`,
  `${indent}  name: bookstore`,
  `${indent}  port: 8080`,
  `${indent}sources:`,
  `${indent}- kind: ServiceAccount`,
  `${indent}  name: bookbuyer`,
  `${indent}  namespace: buyers`,
];

test('TrafficTarget v1alpha1: top-level destination, specs and sources', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: access.smi-spec.io/v1alpha1',
      'kind: TrafficTarget',
      'metadata: {name: t, namespace: shop}',
      ...SOURCES_AND_DEST(''),
      'specs:',
      '- kind: HTTPRouteGroup',
      '  name: routes',
      '  matches: [buy]',
    ]),
  );
  const t = mesh.trafficTargets[0];
  assert.equal(plain(t.destination), { kind: 'ServiceAccount', name: 'bookstore', namespace: 'shop', path: ['destination'], port: 8080 });
  assert.equal(plain(t.sources), [{ kind: 'ServiceAccount', name: 'bookbuyer', namespace: 'buyers', path: ['sources', 0] }]);
  assert.equal(plain(t.rules), [
    { kind: 'HTTPRouteGroup', name: 'routes', path: ['specs', 0], matches: [{ name: 'buy', path: ['specs', 0, 'matches', 0] }] },
  ]);
  const [rule] = t.rules;
  assert.ok(rule.kind === 'HTTPRouteGroup');
  assert.equal(positionOf(t.origin, rule.matches![0].path), { file: 'm.yaml', line: 15, column: 13 });
});

test('TrafficTarget v1alpha2: spec.rules, destination port kept', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: access.smi-spec.io/v1alpha2',
      'kind: TrafficTarget',
      'metadata: {name: t, namespace: shop}',
      'spec:',
      ...SOURCES_AND_DEST('  '),
      '  rules:',
      '  - kind: TCPRoute',
      '    name: db',
    ]),
  );
  const t = mesh.trafficTargets[0];
  assert.is(t.destination.port, 8080);
  assert.equal(t.destination.path, ['spec', 'destination']);
  assert.equal(plain(t.rules), [{ kind: 'TCPRoute', name: 'db', path: ['spec', 'rules', 0] }]);
  assert.not.ok('matches' in t.rules[0], 'a TCPRoute rule names no matches');
});

test('TrafficTarget v1alpha3: no port, UDPRoute rules, namespaces default to the target', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: access.smi-spec.io/v1alpha3',
      'kind: TrafficTarget',
      'metadata: {name: t, namespace: shop}',
      'spec:',
      '  destination: {kind: ServiceAccount, name: store}',
      '  sources: [{kind: ServiceAccount, name: buyer}]',
      '  rules: [{kind: UDPRoute, name: dns}]',
    ]),
  );
  const t = mesh.trafficTargets[0];
  assert.equal(plain(t.destination), { kind: 'ServiceAccount', name: 'store', namespace: 'shop', path: ['spec', 'destination'] });
  assert.is(t.sources[0].namespace, 'shop');
  assert.is(t.rules[0].kind, 'UDPRoute');
});

test('a TrafficTarget without a namespace is in default', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: access.smi-spec.io/v1alpha3',
      'kind: TrafficTarget',
      'metadata: {name: t}',
      'spec: {destination: {kind: ServiceAccount, name: s}, sources: [], rules: []}',
    ]),
  );
  assert.is(mesh.trafficTargets[0].meta.namespace, 'default');
  assert.is(mesh.trafficTargets[0].destination.namespace, 'default');
});

// ── HTTPRouteGroup ──────────────────────────────────────────────────────────

const MATCHES = (indent: string) => [
  `${indent}- name: buy`,
  `${indent}  pathRegex: /buy`,
  `${indent}  methods: [GET, POST]`,
  `${indent}  headers:`,
  `${indent}  - user-agent: ".*Android.*"`,
  `${indent}  - x-a: "1"`,
  `${indent}    x-b: "2"`,
  `${indent}- name: any`,
];

for (const version of ['v1alpha1', 'v1alpha2']) {
  test(`HTTPRouteGroup ${version}: top-level matches`, () => {
    const { mesh } = build(yaml([`apiVersion: specs.smi-spec.io/${version}`, 'kind: HTTPRouteGroup', 'metadata: {name: r}', 'matches:', ...MATCHES('')]));
    const [buy, any] = mesh.httpRouteGroups[0].matches;
    assert.equal(plain(buy), {
      name: 'buy',
      headers: [
        { name: 'user-agent', value: '.*Android.*', path: ['matches', 0, 'headers', 0, 'user-agent'] },
        { name: 'x-a', value: '1', path: ['matches', 0, 'headers', 1, 'x-a'] },
        { name: 'x-b', value: '2', path: ['matches', 0, 'headers', 1, 'x-b'] },
      ],
      path: ['matches', 0],
      pathRegex: '/buy',
      methods: ['GET', 'POST'],
    });
    assert.equal(plain(any), { name: 'any', headers: [], path: ['matches', 1] });
  });
}

for (const version of ['v1alpha3', 'v1alpha4']) {
  test(`HTTPRouteGroup ${version}: spec.matches, headers as a list of maps`, () => {
    const { mesh } = build(
      yaml([`apiVersion: specs.smi-spec.io/${version}`, 'kind: HTTPRouteGroup', 'metadata: {name: r}', 'spec:', '  matches:', ...MATCHES('  ')]),
    );
    const group = mesh.httpRouteGroups[0];
    const [buy, any] = group.matches;
    assert.equal(buy.path, ['spec', 'matches', 0]);
    assert.equal(buy.headers.map((h) => [h.name, h.value]), [['user-agent', '.*Android.*'], ['x-a', '1'], ['x-b', '2']]);
    assert.equal(positionOf(group.origin, buy.headers[2].path), { file: 'm.yaml', line: 12, column: 12 });
    assert.is(any.methods, undefined);
  });
}

test('HTTPRouteGroup methods: * is kept for the passes to read as "any"', () => {
  const { mesh } = build(
    yaml(['apiVersion: specs.smi-spec.io/v1alpha4', 'kind: HTTPRouteGroup', 'metadata: {name: r}', 'spec:', '  matches:', '  - name: all', "    methods: ['*']"]),
  );
  assert.equal(mesh.httpRouteGroups[0].matches[0].methods, ['*']);
});

// ── TCPRoute / UDPRoute ─────────────────────────────────────────────────────

for (const version of ['v1alpha1', 'v1alpha2']) {
  test(`TCPRoute ${version}: no spec, every port`, () => {
    const { mesh } = build(yaml([`apiVersion: specs.smi-spec.io/${version}`, 'kind: TCPRoute', 'metadata: {name: db}']));
    assert.equal(mesh.tcpRoutes[0].ports, []);
    assert.is(mesh.tcpRoutes[0].meta.name, 'db');
  });
}

test('TCPRoute v1alpha3: empty spec, every port', () => {
  const { mesh } = build(yaml(['apiVersion: specs.smi-spec.io/v1alpha3', 'kind: TCPRoute', 'metadata: {name: db}', 'spec: {}']));
  assert.equal(mesh.tcpRoutes[0].ports, []);
});

test('TCPRoute v1alpha4 and UDPRoute v1alpha4: spec.matches.ports', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: specs.smi-spec.io/v1alpha4',
      'kind: TCPRoute',
      'metadata: {name: db}',
      'spec: {matches: {ports: [3306, 33060]}}',
      '---',
      'apiVersion: specs.smi-spec.io/v1alpha4',
      'kind: UDPRoute',
      'metadata: {name: dns}',
      'spec: {matches: {ports: [53]}}',
    ]),
  );
  assert.equal(mesh.tcpRoutes[0].ports, [3306, 33060]);
  assert.equal(mesh.udpRoutes[0].ports, [53]);
});

// ── TrafficSplit ────────────────────────────────────────────────────────────

test('TrafficSplit v1alpha1: quantity weights in milli-units', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: split.smi-spec.io/v1alpha1',
      'kind: TrafficSplit',
      'metadata: {name: s, namespace: shop}',
      'spec:',
      '  service: store',
      '  backends:',
      '  - {service: v1, weight: 500m}',
      '  - {service: v2, weight: "1"}',
      '  - {service: v3, weight: 2}',
      '  - {service: v4, weight: 0.25}',
    ]),
  );
  const split = mesh.trafficSplits[0];
  assert.equal(split.backends.map((b) => [b.service, b.weight]), [['v1', 500], ['v2', 1000], ['v3', 2000], ['v4', 250]]);
  assert.equal(split.backends[3].path, ['spec', 'backends', 3]);
  assert.equal(split.matches, []);
});

test('quantities: suffixes and exponents', () => {
  assert.is(milliUnits('500m'), 500);
  assert.is(milliUnits('1'), 1000);
  assert.is(milliUnits('1.5'), 1500);
  assert.is(milliUnits('1k'), 1_000_000);
  assert.is(milliUnits('2e2'), 200_000);
  assert.is(milliUnits('.5'), 500);
  assert.is(milliUnits(3), 3000);
});

for (const version of ['v1alpha2', 'v1alpha3', 'v1alpha4']) {
  test(`TrafficSplit ${version}: integer weights as they are`, () => {
    const { mesh } = build(
      yaml([`apiVersion: split.smi-spec.io/${version}`, 'kind: TrafficSplit', 'metadata: {name: s}', 'spec:', '  service: store.shop', '  backends:', '  - {service: v1, weight: 90}', '  - {service: v2, weight: 10}']),
    );
    const split = mesh.trafficSplits[0];
    assert.is(split.service, 'store.shop');
    assert.equal(split.backends.map((b) => b.weight), [90, 10]);
  });
}

test('TrafficSplit v1alpha3+ matches', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: split.smi-spec.io/v1alpha4',
      'kind: TrafficSplit',
      'metadata: {name: s}',
      'spec:',
      '  service: store',
      '  matches: [{kind: HTTPRouteGroup, name: canary-users}]',
      '  backends: [{service: v1, weight: 1}]',
    ]),
  );
  assert.equal(plain(mesh.trafficSplits[0].matches), [{ kind: 'HTTPRouteGroup', name: 'canary-users', path: ['spec', 'matches', 0] }]);
});

// ── Services ────────────────────────────────────────────────────────────────

test('Service ports: protocol from appProtocol, then the name prefix, then http by default', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web, namespace: shop}',
      'spec:',
      '  selector: {app: web}',
      '  clusterIP: 10.0.0.7',
      '  ports:',
      '  - {name: http-web, port: 80, targetPort: 8080}',
      '  - {name: metrics, port: 9090, appProtocol: tcp}',
      '  - {name: grpc, port: 9000, targetPort: grpc-port}',
      '  - {port: 5000, protocol: UDP}',
      '  - {name: tcp-server-first-db, port: 3306}',
    ]),
  );
  const svc = mesh.services[0];
  assert.equal(svc.selector, { app: 'web' });
  assert.equal(svc.clusterIPs, ['10.0.0.7']);
  assert.is(svc.headless, false);
  assert.equal(plain(svc.ports), [
    { name: 'http-web', port: 80, targetPort: 8080, protocol: 'http', protocolSource: 'name', transport: 'TCP', path: ['spec', 'ports', 0] },
    { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'tcp', protocolSource: 'appProtocol', transport: 'TCP', path: ['spec', 'ports', 1] },
    { name: 'grpc', port: 9000, targetPort: 'grpc-port', protocol: 'grpc', protocolSource: 'name', transport: 'TCP', path: ['spec', 'ports', 2] },
    { port: 5000, targetPort: 5000, protocol: 'http', protocolSource: 'default', transport: 'UDP', path: ['spec', 'ports', 3] },
    { name: 'tcp-server-first-db', port: 3306, targetPort: 3306, protocol: 'tcp-server-first', protocolSource: 'name', transport: 'TCP', path: ['spec', 'ports', 4] },
  ]);
});

test('appProtocol wins over the name; h2c is http; an unknown appProtocol falls back to the name', () => {
  assert.equal(appProtocolOf({ name: 'tcp-x', appProtocol: 'http' }), { protocol: 'http', protocolSource: 'appProtocol' });
  assert.equal(appProtocolOf({ appProtocol: 'kubernetes.io/h2c' }), { protocol: 'http', protocolSource: 'appProtocol' });
  assert.equal(appProtocolOf({ name: 'tcp-x', appProtocol: 'mysql' }), { protocol: 'tcp', protocolSource: 'name' });
  assert.equal(appProtocolOf({ name: 'https' }), { protocol: 'http', protocolSource: 'default' });
  assert.equal(appProtocolOf({ name: 'tcp' }), { protocol: 'tcp', protocolSource: 'name' });
});

test('headless Service (clusterIP: None) and a Service without selector', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: db}',
      'spec: {clusterIP: None, selector: {app: db}, ports: [{port: 3306}]}',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: external}',
      'spec: {clusterIPs: [10.0.0.1, "fd00::1"], ports: [{port: 80}]}',
    ]),
  );
  const [db, ext] = mesh.services;
  assert.is(db.headless, true);
  assert.equal(db.clusterIPs, []);
  assert.is(db.meta.namespace, 'default');
  assert.is(ext.selector, undefined);
  assert.equal(ext.clusterIPs, ['10.0.0.1', 'fd00::1']);
  assert.is(ext.headless, false);
});

// ── Workloads ───────────────────────────────────────────────────────────────

for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']) {
  test(`${kind}: template labels, service account, container ports`, () => {
    const { mesh } = build(
      yaml([
        'apiVersion: apps/v1',
        `kind: ${kind}`,
        'metadata: {name: store, namespace: shop, labels: {team: a}}',
        'spec:',
        '  selector: {matchLabels: {app: store}}',
        '  template:',
        '    metadata: {labels: {app: store, version: v1}}',
        '    spec:',
        '      serviceAccountName: store-sa',
        '      containers:',
        '      - name: app',
        '        ports: [{name: web, containerPort: 8080}, {containerPort: 53, protocol: UDP}]',
        '      - name: sidecar',
      ]),
    );
    const w = mesh.workloads[0];
    assert.is(w.kind, kind);
    assert.equal(w.podLabels, { app: 'store', version: 'v1' });
    assert.equal(w.meta.labels, { team: 'a' });
    assert.is(w.serviceAccount, 'store-sa');
    assert.equal(w.containerPorts, [{ name: 'web', containerPort: 8080, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }]);
    assert.equal(w.podIPs, []);
  });
}

test('a workload without serviceAccountName runs as default; the deprecated serviceAccount is honoured', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: a}',
      'spec: {selector: {}, template: {spec: {containers: [{name: c}]}}}',
      '---',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: b}',
      'spec: {selector: {}, template: {spec: {serviceAccount: old, containers: [{name: c}]}}}',
    ]),
  );
  assert.equal(mesh.workloads.map((w) => w.serviceAccount), ['default', 'old']);
  assert.equal(mesh.workloads[0].podLabels, {});
});

test('Pod: own labels and status IPs', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: p, labels: {app: x}}',
      'spec: {serviceAccountName: x, containers: [{name: c}]}',
      'status: {podIP: 10.1.0.4, podIPs: [{ip: 10.1.0.4}, {ip: "fd00::4"}]}',
    ]),
  );
  const pod = mesh.workloads[0];
  assert.is(pod.kind, 'Pod');
  assert.equal(pod.podLabels, { app: 'x' });
  assert.equal(pod.podIPs, ['10.1.0.4', 'fd00::4']);
});

test('Namespace is cluster-scoped; ServiceAccount defaults to namespace default', () => {
  const { mesh } = build(yaml(['apiVersion: v1', 'kind: Namespace', 'metadata: {name: shop}', '---', 'apiVersion: v1', 'kind: ServiceAccount', 'metadata: {name: sa}']));
  assert.is(mesh.namespaces[0].meta.namespace, '');
  assert.is(mesh.serviceAccounts[0].meta.namespace, 'default');
});

// ── Endpoints ───────────────────────────────────────────────────────────────

test('Endpoints: ready and not-ready addresses of the same-named service', () => {
  const { mesh } = build(
    yaml([
      'apiVersion: v1',
      'kind: Endpoints',
      'metadata: {name: web, namespace: shop}',
      'subsets:',
      '- addresses: [{ip: 10.1.0.1, targetRef: {kind: Pod, name: web-1}}]',
      '  notReadyAddresses: [{ip: 10.1.0.2, hostname: web-2}]',
      '  ports: [{name: http, port: 8080}]',
    ]),
  );
  assert.equal(plain(mesh.endpointSets[0]), {
    kind: 'Endpoints',
    apiVersion: 'v1',
    meta: { name: 'web', namespace: 'shop', labels: {}, annotations: {} },
    service: 'shop/web',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    addresses: [
      { ip: '10.1.0.1', ready: true, podName: 'web-1' },
      { ip: '10.1.0.2', ready: false, hostname: 'web-2' },
    ],
  });
});

test('EndpointSlice: service from its label, ready unless said otherwise', () => {
  const { mesh, diags } = build(
    yaml([
      'apiVersion: discovery.k8s.io/v1',
      'kind: EndpointSlice',
      'metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}',
      'addressType: IPv4',
      'endpoints:',
      '- addresses: [10.1.0.1]',
      '- addresses: [10.1.0.2]',
      '  conditions: {ready: false}',
      'ports: [{name: http, port: 8080, protocol: TCP}, {name: all}]',
    ]),
  );
  assert.equal(diags, []);
  const set = mesh.endpointSets[0];
  assert.is(set.service, 'shop/web');
  assert.equal(set.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(set.addresses, [{ ip: '10.1.0.1', ready: true }, { ip: '10.1.0.2', ready: false }]);
});

test('an EndpointSlice without the service-name label is SMI1019 at its metadata, and ignored', () => {
  const { mesh, diags } = build(
    yaml(['apiVersion: discovery.k8s.io/v1', 'kind: EndpointSlice', 'metadata:', '  name: orphan', 'addressType: IPv4', 'endpoints: []']),
  );
  assert.equal(diags.map((d) => `${d.source?.line}:${d.source?.column} ${d.code} ${d.level}`), ['4:3 SMI1019 warning']);
  assert.equal(mesh.endpointSets, []);
});

// ── MeshConfig and settings ─────────────────────────────────────────────────

for (const version of ['v1alpha1', 'v1alpha2']) {
  test(`MeshConfig ${version}: permissive mode`, () => {
    const { mesh } = build(
      yaml([`apiVersion: config.openservicemesh.io/${version}`, 'kind: MeshConfig', 'metadata: {name: osm-mesh-config, namespace: osm-system}', 'spec:', '  traffic: {enablePermissiveTrafficPolicyMode: true}']),
    );
    assert.is(mesh.meshConfigs[0].permissive, true);
    assert.equal(mesh.settings.permissive, true);
    assert.is(mesh.settings.trustDomain, 'cluster.local');
    assert.is(mesh.settings.from, mesh.meshConfigs[0]);
  });
}

test('without a MeshConfig: restrictive, cluster.local; the option sets the trust domain', () => {
  // A namespace only: an empty file is a warning (SMI1020), and this helper wants clean input.
  const noMeshConfig = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n';
  assert.equal(plain(build(noMeshConfig).mesh.settings), { trustDomain: 'cluster.local', permissive: false });
  assert.is(build(noMeshConfig, { trustDomain: 'example.org' }).mesh.settings.trustDomain, 'example.org');
});

test('several MeshConfigs: the first by namespace/name applies, SMI3014 on each other one', () => {
  const { mesh, diags } = build(
    yaml([
      'apiVersion: config.openservicemesh.io/v1alpha2',
      'kind: MeshConfig',
      'metadata: {name: z, namespace: osm-system}',
      'spec: {traffic: {enablePermissiveTrafficPolicyMode: true}}',
      '---',
      'apiVersion: config.openservicemesh.io/v1alpha2',
      'kind: MeshConfig',
      'metadata: {name: a, namespace: osm-system}',
      'spec: {traffic: {enablePermissiveTrafficPolicyMode: false}}',
    ]),
  );
  assert.is(mesh.settings.from?.meta.name, 'a');
  assert.is(mesh.settings.permissive, false);
  assert.equal(diags.map((d) => `${d.source?.line}:${d.source?.column} ${d.code} ${d.message}`), [
    '3:18 SMI3014 MeshConfig osm-system/z ignored; osm-system/a applies',
  ]);
});

// ── the corpus ──────────────────────────────────────────────────────────────

test('the OSM bookstore samples build into the mesh OSM would see', () => {
  const bag = new DiagnosticBag();
  const files = readInputs([new URL('../../parser/testdata/osm-docs', import.meta.url).pathname], bag);
  const mesh = buildMesh(parseSources(files, bag), bag, {});
  assert.equal(bag.items.filter((d) => d.level !== 'info').map(formatDiagnostic), []);
  assert.is(mesh.settings.permissive, true, 'the corpus MeshConfig enables permissive mode');
  const mysql = mesh.services.find((s) => s.meta.name === 'mysql')!;
  assert.is(mysql.headless, true);
  assert.equal(mysql.ports.map((p) => [p.protocol, p.protocolSource]), [['tcp', 'appProtocol']]);
  const routes = mesh.httpRouteGroups.find((g) => g.meta.name === 'bookstore-service-routes')!;
  assert.equal(routes.matches[0].headers.map((h) => h.name), ['user-agent', 'client-app']);
  const split = mesh.trafficSplits.find((s) => s.meta.name === 'bookstore-split')!;
  assert.is(split.service, 'bookstore.bookstore');
});

test.run();
