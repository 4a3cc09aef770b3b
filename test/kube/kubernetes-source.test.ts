/**
 * `serve --kubernetes` against a real kube-apiserver and etcd (apiserver.ts): what the API holds
 * is what is served, as `serve <files>` would serve the same objects; changes arrive through the
 * watch; a broken object keeps the last good snapshot; an API server restart is survived.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments, stringify } from 'yaml';
import { memoryLogger, startServer, type ServerHandle } from '../../src/serve/index.ts';
import { RawAdsClient } from '../../src/serve/xds/raw-client.ts';
import { KubernetesSource } from '../../src/sources/kubernetes/source.ts';
import { meshCrds, requireKubeBinaries, startApiServer, until, type ApiServer } from './apiserver.ts';

const bin = requireKubeBinaries();
const BOOKSTORE = new URL('../../fixtures/bookstore/', import.meta.url).pathname;
const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
/** bookthief's way to bookstore's v1 backend: what a TrafficTarget for bookthief opens. */
const THIEF_EDGE = 'bookstore/bookstore-v1|14001';

let kube: ApiServer;
let source: KubernetesSource;
let live: ServerHandle;
const log = memoryLogger('debug');

function namespacesOf(dir: string): string[] {
  const out = new Set<string>();
  for (const f of readdirSync(dir)) for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) out.add(d.toJS()?.metadata?.namespace);
  out.delete(undefined as unknown as string);
  return [...out].sort();
}

/** The clusters a proxy is served now. */
function clustersOf(nodeId: string): string[] {
  return [...(live.snapshot()?.proxies.get(nodeId)?.resources.get(CDS)?.keys() ?? [])];
}

test.before(async () => {
  if (!bin) return;
  // The fixture's TrafficSplit is split.smi-spec.io/v1alpha2: a cluster that still serves it.
  kube = await startApiServer(bin, { crds: meshCrds({ serveEveryVersion: true }) });
  for (const ns of namespacesOf(BOOKSTORE)) {
    await kube.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'openservicemesh.io/monitor': 'osm' } } });
  }
  // Not monitored: what it holds must not reach the mesh.
  await kube.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'outside' } });
  for (const f of readdirSync(BOOKSTORE).sort()) await kube.apply(readFileSync(join(BOOKSTORE, f), 'utf8'));
  await kube.apply(readFileSync(join(BOOKSTORE, 'bookthief.yaml'), 'utf8'), (o) => ({ ...o, metadata: { ...o.metadata, namespace: 'outside' } }));
  source = await KubernetesSource.start({ kubeconfig: kube.kubeconfig, debounceMs: 25, logger: log });
  live = await startServer({ paths: [], port: 0, adminPort: 0, objects: source, logger: log, processMetrics: false });
});

test.after(async () => {
  await live?.close();
  await kube?.close();
});

test('the bookstore fixture applied through the API is served as `serve fixtures/bookstore` serves it: same proxies, same versions', async () => {
  if (!bin) return;
  // The API server gives each Service a ClusterIP, which the outbound filter chains match on;
  // the files get the same ones, and are otherwise the fixture byte for byte.
  const services = await kube.api('GET', '/api/v1/services');
  const ipOf = new Map<string, string>(services.items.map((s: any) => [`${s.metadata.namespace}/${s.metadata.name}`, s.spec.clusterIP]));
  const dir = mkdtempSync(join(tmpdir(), 'smi-kube-files-'));
  let files: ServerHandle | undefined;
  try {
    for (const f of readdirSync(BOOKSTORE)) {
      const docs = parseAllDocuments(readFileSync(join(BOOKSTORE, f), 'utf8')).map((d) => d.toJS());
      for (const d of docs) if (d?.kind === 'Service' && d.spec?.clusterIP === undefined) d.spec.clusterIP = ipOf.get(`${d.metadata.namespace}/${d.metadata.name}`);
      writeFileSync(join(dir, f), docs.map((d) => stringify(d)).join('---\n'));
    }
    files = await startServer({ paths: [dir], port: 0, adminPort: 0, logger: memoryLogger('error'), processMetrics: false });
    const want = files.snapshot()!;
    const got = live.snapshot()!;
    assert.equal([...got.proxies.keys()].sort(), [...want.proxies.keys()].sort());
    for (const [id, p] of want.proxies) assert.is(got.proxies.get(id)?.version, p.version, id);
    assert.is(got.version, want.version);
    // The copy of bookthief in the unmonitored namespace is not in the mesh.
    assert.not.ok(got.proxies.has('outside/bookthief'));
  } finally {
    await files?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('diagnostics about an object from the API name it by Kind ns/name and field path', () => {
  if (!bin) return;
  const warning = log.records.find((r) => /SMI3007/.test(r.msg));
  assert.ok(warning, 'SMI3007 about the bookstore services is logged');
  assert.match(warning!.msg, /^Service bookstore\/bookstore(-v\d)? spec\.ports\[0\]\.name: warning SMI3007 /);
});

const THIEF_TARGET = {
  apiVersion: 'access.smi-spec.io/v1alpha3',
  kind: 'TrafficTarget',
  metadata: { name: 'bookthief-allowed', namespace: 'bookstore' },
  spec: {
    destination: { kind: 'ServiceAccount', name: 'bookstore', namespace: 'bookstore' },
    rules: [{ kind: 'HTTPRouteGroup', name: 'bookstore-service-routes', matches: ['buy-a-book'] }],
    sources: [{ kind: 'ServiceAccount', name: 'bookthief', namespace: 'bookthief' }],
  },
};
const TARGETS = '/apis/access.smi-spec.io/v1alpha3/namespaces/bookstore/traffictargets';

test('applying a TrafficTarget opens the edge; deleting it closes it', async () => {
  if (!bin) return;
  assert.not.ok(clustersOf('bookthief/bookthief').includes(THIEF_EDGE));
  await kube.api('POST', TARGETS, THIEF_TARGET);
  await until('bookthief gets the bookstore-v1 cluster', () => clustersOf('bookthief/bookthief').includes(THIEF_EDGE), 10_000, 10);
  await kube.api('DELETE', `${TARGETS}/bookthief-allowed`);
  await until('bookthief loses the bookstore-v1 cluster', () => !clustersOf('bookthief/bookthief').includes(THIEF_EDGE), 10_000, 10);
});

test('a broken object keeps the last good snapshot and logs its diagnostic; fixing it serves again', async () => {
  if (!bin) return;
  const before = live.snapshot()!.version;
  const seen = log.records.length;
  // The API server accepts it (the CRD's schema allows any match name); the compiler cannot resolve it.
  const broken = { ...THIEF_TARGET, spec: { ...THIEF_TARGET.spec, rules: [{ ...THIEF_TARGET.spec.rules[0], matches: ['no-such-match'] }] } };
  await kube.api('POST', TARGETS, broken);
  await until('the diagnostic is logged', () => log.records.slice(seen).some((r) => /SMI5001/.test(r.msg)), 10_000, 10);
  const logged = log.records.slice(seen).map((r) => r.msg);
  assert.ok(
    logged.some((m) => /^TrafficTarget bookstore\/bookthief-allowed spec\.rules\[0\]\.matches\[0\]: error SMI2002 /.test(m)),
    logged.join('\n'),
  );
  assert.is(live.snapshot()!.version, before, 'the last good snapshot is still served');
  await kube.api('PUT', `${TARGETS}/bookthief-allowed`, { ...THIEF_TARGET, metadata: { ...THIEF_TARGET.metadata, resourceVersion: (await kube.api('GET', `${TARGETS}/bookthief-allowed`)).metadata.resourceVersion } });
  await until('the fixed object is served', () => clustersOf('bookthief/bookthief').includes(THIEF_EDGE), 10_000, 10);
  await kube.api('DELETE', `${TARGETS}/bookthief-allowed`);
  await until('and removed again', () => !clustersOf('bookthief/bookthief').includes(THIEF_EDGE), 10_000, 10);
});

test('watches that end (their timeoutSeconds) are resumed from their resourceVersion: no relist, nothing lost', async () => {
  if (!bin) return;
  const quick = await KubernetesSource.start({ kubeconfig: kube.kubeconfig, debounceMs: 25, logger: memoryLogger('error'), watchTimeoutSeconds: 1 });
  try {
    const { lists, watches } = quick.stats;
    await until('a second round of watches', () => quick.stats.watches >= 2 * watches, 30_000, 50);
    assert.is(quick.stats.lists, lists, 'nothing listed again');
    assert.is(quick.stats.gone, 0);
    assert.equal(quick.objects().map((o) => o.ref), source.objects().map((o) => o.ref));
  } finally {
    await quick.close();
  }
});

test('labelling a namespace openservicemesh.io/monitor=osm brings it into the mesh; removing the label takes it out', async () => {
  if (!bin) return;
  const patch = (labels: Record<string, string | null>) =>
    kube.api('PATCH', '/api/v1/namespaces/outside', { metadata: { labels } }, 'application/merge-patch+json');
  await patch({ 'openservicemesh.io/monitor': 'osm' });
  await until('outside/bookthief is served', () => live.snapshot()!.proxies.has('outside/bookthief'), 10_000, 10);
  // Another mesh's label is not ours.
  await patch({ 'openservicemesh.io/monitor': 'other-mesh' });
  await until('outside/bookthief is gone', () => !live.snapshot()!.proxies.has('outside/bookthief'), 10_000, 10);
  await patch({ 'openservicemesh.io/monitor': null });
});

/** Every resource version a proxy is served, by type and name. */
function versionsOf(snapshot: NonNullable<ReturnType<ServerHandle['snapshot']>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, p] of snapshot.proxies) for (const [type, named] of p.resources) for (const [name, r] of named) out.set(`${id} ${type.split('.').pop()} ${name}`, r.version);
  return out;
}

function changedBetween(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

test("creating and deleting an EndpointSlice changes only its service's callers, and only their EDS", async () => {
  if (!bin) return;
  const before = versionsOf(live.snapshot()!);
  const slices = '/apis/discovery.k8s.io/v1/namespaces/bookstore/endpointslices';
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'bookstore-v1-abcde', namespace: 'bookstore', labels: { 'kubernetes.io/service-name': 'bookstore-v1' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.7'], conditions: { ready: true } }],
    ports: [{ name: 'bookstore-port', port: 14001, protocol: 'TCP' }],
  };
  const t0 = Date.now();
  await kube.api('POST', slices, slice);
  await until('the endpoint is served', () => changedBetween(before, versionsOf(live.snapshot()!)).length > 0, 10_000, 5);
  const createdMs = Date.now() - t0;
  // bookbuyer calls bookstore (split over v1 and v2) and is its only caller.
  assert.equal(changedBetween(before, versionsOf(live.snapshot()!)), ['bookbuyer/bookbuyer ClusterLoadAssignment bookstore/bookstore-v1|14001']);
  const t1 = Date.now();
  await kube.api('DELETE', `${slices}/bookstore-v1-abcde`);
  await until('the endpoint is gone', () => changedBetween(before, versionsOf(live.snapshot()!)).length === 0, 10_000, 5);
  console.log(`  EndpointSlice created → served in ${createdMs} ms, deleted → served in ${Date.now() - t1} ms (API round trip, watch, 25 ms debounce, recompile)`);
});

test('under continuous churn, changes are still served within maxWaitMs: the quiet period never comes, the bound does', async () => {
  if (!bin) return;
  // A quiet period longer than the gap between changes: on its own it would wait for the churn to end.
  const churned = await KubernetesSource.start({ kubeconfig: kube.kubeconfig, debounceMs: 1_000, maxWaitMs: 50, logger: memoryLogger('error') });
  const server = await startServer({ paths: [], port: 0, adminPort: 0, objects: churned, logger: memoryLogger('error'), processMetrics: false });
  const slices = '/apis/discovery.k8s.io/v1/namespaces/bookstore/endpointslices';
  const slice = (n: number) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'bookstore-v2-churn', namespace: 'bookstore', labels: { 'kubernetes.io/service-name': 'bookstore-v2' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [`10.244.2.${n}`], conditions: { ready: true } }],
    ports: [{ name: 'bookstore-port', port: 14001, protocol: 'TCP' }],
  });
  const liveBefore = live.snapshot()!.version;
  try {
    const versions = new Set([server.snapshot()!.version]);
    let current = await kube.api('POST', slices, slice(1));
    // Each write waits for the previous one: changes keep coming, a few ms apart, for as long as the loop runs.
    for (let n = 2; n < 200 && versions.size < 3; n++) {
      current = await kube.api('PUT', `${slices}/bookstore-v2-churn`, { ...slice(n), metadata: { ...slice(n).metadata, resourceVersion: current.metadata.resourceVersion } });
      versions.add(server.snapshot()!.version);
    }
    assert.ok(versions.size >= 3, `recompiled during the churn (${versions.size - 1} new versions seen)`);
    await kube.api('DELETE', `${slices}/bookstore-v2-churn`);
    await until('the main server has caught up with the churn and its end', () => live.snapshot()!.version === liveBefore, 10_000, 10);
  } finally {
    await server.close();
  }
});

test('the API server restarted mid-run: the server keeps serving, reconnects, relists and converges, with nothing lost', async () => {
  if (!bin) return;
  const before = live.snapshot()!.version;
  const stats = { ...source.stats };
  const client = new RawAdsClient(`127.0.0.1:${live.port}`);
  try {
    await kube.restart();
    // Applied as soon as the API server answers again, while the source may still be waiting to
    // retry: a watch resumed from its resourceVersion, or a relist after 410 Gone, must bring it in.
    await kube.api('POST', TARGETS, THIEF_TARGET);
    // Proxies are served throughout, from the last snapshot.
    const s = client.sotw();
    s.send({ node: { id: 'bookbuyer/bookbuyer' }, typeUrl: CDS });
    assert.ok((await s.next(5_000)).resources.length > 0);
    s.close();
    const t0 = Date.now();
    await until('the new TrafficTarget is served after the restart', () => clustersOf('bookthief/bookthief').includes(THIEF_EDGE), 60_000, 20);
    console.log(`  converged ${Date.now() - t0} ms after the apply; source ${JSON.stringify(source.stats)} (before the restart ${JSON.stringify(stats)})`);
    assert.ok(source.stats.reconnects > stats.reconnects, `reconnected (${JSON.stringify(source.stats)})`);
    assert.ok(source.stats.watches > stats.watches, 'watched again');
    assert.ok(source.stats.lists + source.stats.gone > stats.lists + stats.gone, `relisted, or was told its resourceVersion had expired (${JSON.stringify(source.stats)})`);
    await kube.api('DELETE', `${TARGETS}/bookthief-allowed`);
    await until('converged back to the state before the restart', () => live.snapshot()!.version === before, 10_000, 10);
  } finally {
    client.close();
  }
});

test.run();
