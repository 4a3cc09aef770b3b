/**
 * Restrictive by default: the edges a TrafficTarget adds, and only those, end to end from
 * manifests to emitted Envoy resources.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/compiler/compile.ts';
import type { ProxyConfig } from '../src/emit/types.ts';

function app(ns: string, name: string, port = 8080): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: ${name}, namespace: ${ns}}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: ${port}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      serviceAccountName: ${name}
      containers: [{name: app, image: app}]
`;
}

const TARGET = `apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: a-to-b, namespace: b}
spec:
  destination: {kind: ServiceAccount, name: b, namespace: b}
  rules: [{kind: HTTPRouteGroup, name: all}]
  sources: [{kind: ServiceAccount, name: a, namespace: a}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: all, namespace: b}
spec:
  matches: [{name: everything, pathRegex: ".*"}]
`;

function build(...docs: string[]): ProxyConfig[] {
  const result = compile(docs.map((text, i) => ({ path: `doc${i}.yaml`, text })));
  assert.equal(result.diagnostics.filter((d) => d.level === 'error'), []);
  return [...result.proxies];
}

function proxy(proxies: ProxyConfig[], nodeId: string): ProxyConfig {
  const p = proxies.find((x) => x.nodeId === nodeId);
  assert.ok(p, `proxy ${nodeId}`);
  return p!;
}

const clusterNames = (p: ProxyConfig) => p.resources.clusters.map((c) => c.name as string);
const upstreamClusters = (p: ProxyConfig) => clusterNames(p).filter((n) => !n.endsWith('|local'));

function principalsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) principalsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'principal_name' && v && typeof v === 'object' && 'exact' in v) out.add(String((v as { exact: string }).exact));
      else principalsIn(v, out);
    }
  }
  return out;
}

test('without a TrafficTarget nobody reaches anybody', () => {
  const proxies = build(app('a', 'a'), app('b', 'b'), app('c', 'c'));
  for (const p of proxies) assert.equal(upstreamClusters(p), [], `${p.nodeId} has no upstream cluster`);
});

test('a TrafficTarget adds exactly its edge', () => {
  const proxies = build(app('a', 'a'), app('b', 'b'), app('c', 'c'), TARGET);
  assert.equal(upstreamClusters(proxy(proxies, 'a/a')), ['b/b|8080']);
  assert.equal(upstreamClusters(proxy(proxies, 'b/b')), []);
  assert.equal(upstreamClusters(proxy(proxies, 'c/c')), []);
  const b = proxy(proxies, 'b/b');
  assert.equal([...principalsIn(b.resources.listeners)], ['a.a.cluster.local'], 'network RBAC names only the source');
  assert.equal([...principalsIn(b.resources.routes)], ['a.a.cluster.local'], 'route RBAC names only the source');
});

test('the trust domain flows into principals', () => {
  const result = compile([app('a', 'a'), app('b', 'b'), TARGET].map((text, i) => ({ path: `d${i}.yaml`, text })), { trustDomain: 'example.org' });
  const b = result.proxies.find((p) => p.nodeId === 'b/b')!;
  assert.equal([...principalsIn(b.resources.routes)], ['a.a.example.org']);
});

test('permissive mode: everyone reaches everyone, no RBAC', () => {
  const mesh = `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec:
  traffic: {enablePermissiveTrafficPolicyMode: true}
`;
  const proxies = build(app('a', 'a'), app('b', 'b'), mesh);
  assert.equal(upstreamClusters(proxy(proxies, 'a/a')), ['a/a|8080', 'b/b|8080']);
  assert.equal(principalsIn(proxy(proxies, 'b/b').resources.listeners).size, 0);
});

test('a TrafficSplit puts weighted_clusters on every caller allowed to reach the apex', () => {
  const split = `apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: b-split, namespace: b}
spec:
  service: b.b.svc.cluster.local
  backends:
  - {service: b-v1, weight: 80}
  - {service: b-v2, weight: 20}
`;
  const versions = ['b-v1', 'b-v2']
    .map(
      (v) => `apiVersion: v1
kind: Service
metadata: {name: ${v}, namespace: b}
spec:
  selector: {app: b, version: ${v}}
  ports: [{name: http, port: 8080, targetPort: ${v === 'b-v1' ? 9001 : 9002}}]
`,
    )
    .join('---\n');
  const proxies = build(app('a', 'a'), app('b', 'b'), app('c', 'c'), versions, split, TARGET);
  const a = proxy(proxies, 'a/a');
  const routes = JSON.stringify(a.resources.routes);
  assert.ok(routes.includes('weighted_clusters'), 'caller a gets weighted clusters');
  assert.match(routes, /"name":"b\/b-v1\|9001","weight":80/);
  assert.match(routes, /"name":"b\/b-v2\|9002","weight":20/);
  assert.ok(upstreamClusters(a).includes('b/b-v1|9001') && upstreamClusters(a).includes('b/b-v2|9002'));
  const c = proxy(proxies, 'c/c');
  assert.not.ok(JSON.stringify(c.resources.routes).includes('weighted_clusters'), 'c is not admitted');
});

test('a kubectl get all dump (Deployment, its ReplicaSet, its Pod) gives one proxy, named after the Deployment', () => {
  const owned = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: a-5d9f7c
  namespace: a
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: a, uid: u1, controller: true}]
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      serviceAccountName: a
      containers: [{name: app, image: app}]
---
apiVersion: v1
kind: Pod
metadata:
  name: a-5d9f7c-x2x9k
  namespace: a
  labels: {app: a}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: a-5d9f7c, uid: u2, controller: true}]
spec:
  serviceAccountName: a
  containers: [{name: app, image: app}]
status: {podIP: 10.244.0.7}
`;
  const proxies = build(app('a', 'a'), owned);
  assert.equal(proxies.map((p) => p.nodeId), ['a/a']);
});

test.run();
