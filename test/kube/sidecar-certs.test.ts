/**
 * The Secrets injected sidecars mount (src/sources/kubernetes/sidecar-certs.ts), against a real
 * kube-apiserver: made for every ServiceAccount of a monitored namespace with a certificate the
 * CA signed for its identity, a user's Secret of the same name left alone, deleted with the
 * ServiceAccount or when the namespace leaves the mesh, renewed before expiry, and two replicas
 * writing without fighting.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuiltinCa } from '../../src/identity/builtin-ca.ts';
import { memoryLogger, startServer, type ServerHandle } from '../../src/serve/index.ts';
import { sidecarCertsFor, SidecarCertSync } from '../../src/sources/kubernetes/sidecar-certs.ts';
import { KubernetesSource } from '../../src/sources/kubernetes/source.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { freePort, requireKubeBinaries, startApiServer, until, type ApiServer } from './apiserver.ts';
import type { LooseJson as Json } from '../../src/shared/json.ts';

const bin = requireKubeBinaries();

let kube: ApiServer;
let dir: string;
let ca: BuiltinCa;
const cleanup: (() => Promise<unknown>)[] = [];

const secretsOf = async (ns: string): Promise<Json[]> =>
  ((await kube.api('GET', `/api/v1/namespaces/${ns}/secrets`)).items as Json[]).filter((s) => s.metadata.name.startsWith('envoy-xds-cert-'));
const secret = async (ns: string, name: string): Promise<Json | undefined> => (await secretsOf(ns)).find((s) => s.metadata.name === name);
const decode = (s: Json, key: string): string => Buffer.from(s.data[key], 'base64').toString('utf8');

async function namespace(name: string, monitored: boolean, accounts: string[]): Promise<void> {
  await kube.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: monitored ? { 'openservicemesh.io/monitor': 'osm' } : {} } });
  for (const sa of accounts) await kube.api('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } });
}

/** A server as `serve --kubernetes --ca` runs it, with its own source. */
async function serve(logger = memoryLogger('debug'), lifetimeMs?: number, resyncMs?: number): Promise<{ server: ServerHandle; logger: ReturnType<typeof memoryLogger>; sync: () => SidecarCertSync }> {
  const source = await KubernetesSource.start({ kubeconfig: kube.kubeconfig, debounceMs: 25, logger });
  let sync: SidecarCertSync | undefined;
  const hook = sidecarCertsFor(source, logger, { resyncMs });
  const server = await startServer({
    paths: [],
    port: 0,
    adminPort: 0,
    objects: source,
    logger,
    processMetrics: false,
    ca: { provider: 'builtin', dir, lifetimeMs, pollMs: 60_000 },
    sidecarCerts: (c) => (sync = hook(c)),
  });
  cleanup.push(() => server.close());
  return { server, logger, sync: () => sync! };
}

test.before(async () => {
  if (!bin) return;
  kube = await startApiServer(bin);
  dir = mkdtempSync(join(tmpdir(), 'smi-sidecar-certs-'));
  ca = await BuiltinCa.init(dir);
});

test.after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await kube?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a monitored namespace with two ServiceAccounts gets two managed Secrets, each verified by the CA for its SPIFFE and DNS identity; an unmonitored one gets none; a user\'s Secret is left alone', async () => {
  if (!bin) return;
  await namespace('shop', true, ['web', 'api', 'legacy']);
  await namespace('outside', false, ['web']);
  const users = await kube.api('POST', '/api/v1/namespaces/shop/secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: 'envoy-xds-cert-legacy' },
    stringData: { 'tls.crt': 'mine' },
  });
  const { logger, sync } = await serve();
  await until('two managed Secrets in shop', async () => (await secretsOf('shop')).filter((s) => s.metadata.labels?.['app.kubernetes.io/managed-by'] === 'smi-compile').length === 2, 30_000, 50);
  const caCert = new X509Certificate(ca.trustBundle().pem);
  for (const sa of ['web', 'api']) {
    const s = (await secret('shop', `envoy-xds-cert-${sa}`))!;
    assert.is(s.type, 'kubernetes.io/tls');
    const leaf = new X509Certificate(decode(s, 'tls.crt'));
    assert.ok(leaf.verify(caCert.publicKey), `${sa}: signed by the CA`);
    assert.ok(leaf.checkPrivateKey(createPrivateKey(decode(s, 'tls.key'))), `${sa}: tls.key is the certificate's key`);
    assert.ok(leaf.subjectAltName?.includes(`URI:spiffe://cluster.local/ns/shop/sa/${sa}`), leaf.subjectAltName);
    assert.ok(leaf.subjectAltName?.includes(`DNS:${sa}.shop.cluster.local`), leaf.subjectAltName);
    assert.is(decode(s, 'ca.crt'), ca.trustBundle().pem);
  }
  assert.equal(await secretsOf('outside'), [], 'nothing outside the mesh');
  const legacy = (await secret('shop', 'envoy-xds-cert-legacy'))!;
  assert.is(legacy.metadata.resourceVersion, users.metadata.resourceVersion, "the user's Secret is untouched");
  assert.is(legacy.type, 'Opaque');
  assert.ok(logger.records.some((r) => r.code === 'SMI8021' && String(r.msg).includes('shop/envoy-xds-cert-legacy')), 'SMI8021 names it');
  await sync().settled();
  assert.is(sync().stats.created, 2);
  assert.is(sync().stats.renewed, 0);
});

test('deleting a ServiceAccount deletes its managed Secret; a namespace leaving the mesh loses its managed Secrets, never the user\'s', async () => {
  if (!bin) return;
  await kube.api('DELETE', '/api/v1/namespaces/shop/serviceaccounts/api');
  await until('envoy-xds-cert-api deleted', async () => !(await secret('shop', 'envoy-xds-cert-api')), 30_000, 50);
  assert.ok(await secret('shop', 'envoy-xds-cert-web'));
  await kube.api('PATCH', '/api/v1/namespaces/shop', { metadata: { labels: { 'openservicemesh.io/monitor': null } } }, 'application/merge-patch+json');
  await until('envoy-xds-cert-web deleted', async () => !(await secret('shop', 'envoy-xds-cert-web')), 30_000, 50);
  assert.ok(await secret('shop', 'envoy-xds-cert-legacy'), "the user's Secret stays");
  // The next test runs its own replicas, with another certificate lifetime.
  for (const c of cleanup.splice(0)) await c();
});

test('a certificate of seconds is renewed in its Secret before it expires, by two replicas without a fight: one create per ServiceAccount, one update per renewal', async () => {
  if (!bin) return;
  await namespace('fast', true, ['a', 'b']);
  const one = await serve(memoryLogger('debug'), 6_000);
  const two = await serve(memoryLogger('debug'), 6_000);
  await until('two Secrets in fast', async () => (await secretsOf('fast')).length === 2, 30_000, 50);
  const first = (await secret('fast', 'envoy-xds-cert-a'))!;
  const firstLeaf = new X509Certificate(decode(first, 'tls.crt'));
  await until('renewed', async () => (await secret('fast', 'envoy-xds-cert-a'))!.metadata.resourceVersion !== first.metadata.resourceVersion, 30_000, 100);
  const renewed = new X509Certificate(decode((await secret('fast', 'envoy-xds-cert-a'))!, 'tls.crt'));
  assert.is.not(renewed.serialNumber, firstLeaf.serialNumber);
  assert.ok(Date.parse(renewed.validFrom) < Date.parse(firstLeaf.validTo), 'the new certificate is there before the old one expires');
  await Promise.all([one.sync().settled(), two.sync().settled()]);
  const created = one.sync().stats.created + two.sync().stats.created;
  assert.is(created, 2, 'one create per ServiceAccount across both replicas');
  const renewals = one.sync().stats.renewed + two.sync().stats.renewed;
  // Each Secret renewed once so far (4 s into a 6 s lifetime); a replica that lost the race saw a conflict, re-read, and let it be.
  assert.ok(renewals >= 1 && renewals <= 4, `renewals ${renewals}`);
  assert.not.ok([...one.logger.records, ...two.logger.records].some((r) => r.level === 'error'), 'no errors');
});

test('Secret writes that cannot reach the API server log SMI8020 and are retried with a growing delay, while xDS is served', async () => {
  if (!bin) return;
  const logger = memoryLogger('debug');
  const source = await KubernetesSource.start({ kubeconfig: kube.kubeconfig, debounceMs: 25, logger });
  // Reads from the real API server; writes to a port nothing listens on.
  const dead = new KubeConfig();
  dead.loadFromOptions({
    clusters: [{ name: 'dead', server: `https://127.0.0.1:${await freePort()}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'c', cluster: 'dead', user: 'u' }],
    currentContext: 'c',
  });
  let sync: SidecarCertSync | undefined;
  const hook = sidecarCertsFor({ serviceAccounts: () => source.serviceAccounts(), onServiceAccountsChange: (l) => source.onServiceAccountsChange(l), kubeConfig: dead }, logger);
  const server = await startServer({ paths: [], port: 0, adminPort: 0, objects: source, logger, processMetrics: false, ca: { provider: 'builtin', dir, pollMs: 60_000 }, sidecarCerts: (c) => (sync = hook(c)) });
  try {
    await until('three failed passes', () => logger.records.filter((r) => r.code === 'SMI8020').length >= 3, 30_000, 20);
    const delays = logger.records.filter((r) => r.code === 'SMI8020').map((r) => Number(/retrying in (\d+) ms/.exec(String(r.msg))?.[1]));
    assert.ok(delays[1] > delays[0] && delays[2] > delays[1], `growing delays: ${delays.join(', ')}`);
    assert.is(sync!.stats.created, 0);
    assert.ok(server.snapshot(), 'a snapshot is served');
    const admin = await fetch(`http://127.0.0.1:${server.adminPort}/readyz`);
    assert.is(admin.status, 200);
  } finally {
    await server.close();
  }
});

test.run();
