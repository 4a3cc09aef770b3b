/** The test API server itself: it starts, serves the mesh CRDs, authenticates, and survives a restart with its data. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { meshCrds, requireKubeBinaries, startApiServer } from './apiserver.ts';

const bin = requireKubeBinaries();

test('etcd and kube-apiserver start on 127.0.0.1, serve the SMI and OSM CRDs, and keep their data across a restart', async () => {
  if (!bin) return;
  const kube = await startApiServer(bin, { crds: meshCrds() });
  try {
    assert.match(kube.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const groups = (await kube.api('GET', '/apis')).groups.map((g: { name: string }) => g.name);
    for (const g of ['access.smi-spec.io', 'specs.smi-spec.io', 'split.smi-spec.io', 'config.openservicemesh.io']) assert.ok(groups.includes(g), g);
    await kube.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: probe}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: reader, namespace: probe}\n');
    // A service account's own token authenticates, and RBAC (no binding yet) refuses it.
    const cfg = await kube.kubeconfigFor('probe', 'reader');
    assert.match(cfg, /probe-reader\.kubeconfig$/);
    await kube.restart();
    assert.is((await kube.api('GET', '/api/v1/namespaces/probe')).metadata.name, 'probe');
    assert.is(kube.startMs.length, 2);
    console.log(`  kube-apiserver ready in ${kube.startMs.join(' ms, ')} ms`);
  } finally {
    await kube.close();
  }
});

test.run();
