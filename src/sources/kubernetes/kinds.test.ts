import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseVersions, collectionPath, compareVersions, watchedKinds, type GroupDiscovery } from './kinds.ts';

const ns = (plural: string, namespaced = true) => ({ plural, namespaced });

function cluster(groups: Record<string, { preferred?: string; versions: Record<string, Record<string, { plural: string; namespaced: boolean }>> }>): Map<string, GroupDiscovery> {
  return new Map(Object.entries(groups).map(([g, d]) => [g, { preferred: d.preferred, versions: new Map(Object.entries(d.versions).map(([v, ks]) => [v, new Map(Object.entries(ks))])) }]));
}

test('Kubernetes version priority: GA, then beta, then alpha, newest first', () => {
  assert.equal(['v1alpha1', 'v1beta1', 'v1alpha4', 'v2', 'v1', 'v1beta2'].sort(compareVersions), ['v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha4', 'v1alpha1']);
});

test('each kind is watched once: at the preferred version when accepted, else the newest accepted one that serves it', () => {
  const { kinds, missing } = chooseVersions(
    cluster({
      'split.smi-spec.io': { preferred: 'v1alpha4', versions: { v1alpha4: { TrafficSplit: ns('trafficsplits') }, v1alpha2: { TrafficSplit: ns('trafficsplits') } } },
      // A preferred version we do not read (a future v1beta1): the newest one we do.
      'access.smi-spec.io': { preferred: 'v1beta1', versions: { v1beta1: { TrafficTarget: ns('traffictargets') }, v1alpha2: { TrafficTarget: ns('traffictargets') }, v1alpha3: { TrafficTarget: ns('traffictargets') } } },
      '': { preferred: 'v1', versions: { v1: { Namespace: ns('namespaces', false), Service: ns('services') } } },
    }),
  );
  const chosen = Object.fromEntries(kinds.map((k) => [k.kind, `${k.version} ${collectionPath(k)} ${k.alsoServed.join(',')}`]));
  assert.is(chosen.TrafficSplit, 'v1alpha4 /apis/split.smi-spec.io/v1alpha4/trafficsplits v1alpha2');
  assert.is(chosen.TrafficTarget, 'v1alpha3 /apis/access.smi-spec.io/v1alpha3/traffictargets v1alpha2');
  assert.is(chosen.Namespace, 'v1 /api/v1/namespaces ');
  assert.is(kinds.find((k) => k.kind === 'Namespace')!.namespaced, false);
  // What the cluster lacks is reported, with what it does serve.
  const tt = missing.find((m) => m.kind === 'HTTPRouteGroup')!;
  assert.equal(tt.served, []);
  assert.ok(missing.some((m) => m.kind === 'Deployment'));
  assert.not.ok(missing.some((m) => m.kind === 'TrafficSplit'));
});

test('every kind the parser reads is watched except Endpoints (EndpointSlices carry the same addresses)', () => {
  const kinds = watchedKinds().map((k) => k.kind);
  assert.not.ok(kinds.includes('Endpoints'));
  for (const k of ['Namespace', 'ServiceAccount', 'Service', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'EndpointSlice', 'TrafficTarget', 'HTTPRouteGroup', 'TCPRoute', 'UDPRoute', 'TrafficSplit', 'MeshConfig']) {
    assert.ok(kinds.includes(k), k);
  }
});

test.run();
