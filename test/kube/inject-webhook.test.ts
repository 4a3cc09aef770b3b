/**
 * Sidecar injection against a real API server: `serve --kubernetes --inject-webhook` (the CLI, as
 * deployed) registered with deploy/inject-webhook/webhook.yaml's MutatingWebhookConfiguration (a `url:`
 * on 127.0.0.1 in place of the Service, which needs no cluster network; the caBundle filled as
 * the file says). What the API server stores went through its admission chain and defaulting.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments, stringify } from 'yaml';
import { BuiltinCa } from '../../src/identity/builtin-ca.ts';
import { runCli } from '../cli-harness.ts';
import { meshCrds, requireKubeBinaries, startApiServer, until } from './apiserver.ts';

const bin = requireKubeBinaries();
const REPO = new URL('../../', import.meta.url).pathname;

/** A pod as a ReplicaSet of Deployment `web` makes it (its owner need not exist: no controller-manager runs here). */
function pod(name: string, namespace: string, annotations: Record<string, string> = {}): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: 'web', 'pod-template-hash': '5d8f' },
      annotations: { 'openservicemesh.io/outbound-port-exclusion-list': '6379', ...annotations },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: '00000000-0000-0000-0000-000000000001', controller: true }],
    },
    spec: {
      serviceAccountName: 'web',
      containers: [
        {
          name: 'web',
          image: 'shop/web:1.4',
          ports: [{ name: 'http', containerPort: 8080 }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
          readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
        },
      ],
    },
  };
}

const names = (list: any[] | undefined): string[] => (list ?? []).map((c) => c.name);

test('the webhook registered: pods in a monitored namespace are stored with the sidecar; opt-out and unmonitored namespaces are not; offline inject gives the same pod', async () => {
  if (!bin) return;
  const kube = await startApiServer(bin, { crds: meshCrds() });
  const dir = mkdtempSync(join(tmpdir(), 'smi-inject-'));
  const ca = join(dir, 'ca');
  await (await BuiltinCa.init(ca)).close();
  const records: Record<string, any>[] = [];
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await kube.apply(
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {openservicemesh.io/monitor: osm}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: tools}\n',
    );
    child = spawn(
      process.execPath,
      [`${REPO}bin/smi-compile.js`, 'serve', '--kubernetes', '--kubeconfig', kube.kubeconfig, '--port', '0', '--admin-port', '0', '--ca', ca, '--inject-webhook', '--inject-webhook-port', '0', '--log-format', 'json'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBECONFIG: '' } },
    );
    createInterface({ input: child.stderr! }).on('line', (line) => {
      try {
        records.push(JSON.parse(line));
      } catch {
        records.push({ msg: line });
      }
    });
    await until('the webhook listens', () => records.some((r) => r.msg === 'injection webhook listening'), 60_000, 50);
    const { port } = records.find((r) => r.msg === 'injection webhook listening')!;

    // deploy/inject-webhook/webhook.yaml's configuration, the caBundle filled as its comment says, a url for the Service.
    const docs = parseAllDocuments(readFileSync(`${REPO}deploy/inject-webhook/webhook.yaml`, 'utf8').replaceAll('CA_BUNDLE', Buffer.from(readFileSync(join(ca, 'ca.crt'))).toString('base64')));
    const config = docs.map((d) => d.toJS()).find((o) => o.kind === 'MutatingWebhookConfiguration');
    assert.is(config.webhooks[0].failurePolicy, 'Fail');
    assert.is(config.webhooks[0].sideEffects, 'None');
    config.webhooks[0].clientConfig = { url: `https://127.0.0.1:${port}/mutate-pod-creation`, caBundle: config.webhooks[0].clientConfig.caBundle };
    await kube.api('POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', config);

    // The API server picks the configuration up asynchronously: a dry run (which calls webhooks with sideEffects None) shows when.
    await until('the API server calls the webhook', async () => {
      const r = await kube.api('POST', '/api/v1/namespaces/shop/pods?dryRun=All', pod('probe', 'shop'));
      return names(r.spec.containers).includes('envoy');
    }, 60_000, 200);

    const stored = await kube.api('POST', '/api/v1/namespaces/shop/pods', pod('web-5d8f-a1', 'shop'));
    assert.equal(names(stored.spec.containers), ['web', 'envoy']);
    assert.equal(names(stored.spec.initContainers), ['osm-init']);
    assert.equal(names(stored.spec.volumes), ['envoy-bootstrap-config-volume', 'envoy-xds-cert']);
    assert.is(stored.spec.volumes[1].secret.secretName, 'envoy-xds-cert-web');
    assert.is(stored.spec.containers[0].livenessProbe.httpGet.port, 15901);
    assert.is(stored.metadata.annotations['prometheus.io/port'], '15010');
    const init = stored.spec.initContainers[0];
    assert.match(init.args[1], /-A OSM_PROXY_OUTBOUND -p tcp --match multiport --dports 6379 -j RETURN\n/);
    assert.match(init.env[0].value, /^node:\n  id: shop\/web\n/, 'node id <namespace>/<workload>: the Deployment behind the ReplicaSet');

    const optedOut = await kube.api('POST', '/api/v1/namespaces/shop/pods', pod('web-5d8f-a2', 'shop', { 'openservicemesh.io/sidecar-injection': 'disabled' }));
    assert.equal(names(optedOut.spec.containers), ['web']);
    assert.is(optedOut.spec.initContainers, undefined);
    const outside = await kube.api('POST', '/api/v1/namespaces/tools/pods', pod('web-5d8f-a3', 'tools'));
    assert.equal(names(outside.spec.containers), ['web']);
    assert.is(outside.metadata.annotations['prometheus.io/scrape'], undefined);

    // A bad annotation: refused with SMI8010's message, as OSM refuses it.
    const refused = await kube.api('POST', '/api/v1/namespaces/shop/pods', pod('web-5d8f-a4', 'shop', { 'openservicemesh.io/inbound-port-exclusion-list': 'http' })).then(
      () => undefined,
      (err: Error) => err.message,
    );
    assert.match(String(refused), /SMI8010 .*inbound-port-exclusion-list/);

    // Offline: the same pod through `inject`, created in the same namespace. The webhook sees the
    // sidecar and leaves it (idempotent); after the API server's defaulting both pods hold the same spec.
    const offline = await runCli(['inject', '-f', '-', '--ca', ca], stringify(pod('web-5d8f-b1', 'shop')));
    assert.is(offline.code, 0, offline.stderr);
    const offlineStored = await kube.api('POST', '/api/v1/namespaces/shop/pods', parseAllDocuments(offline.stdout)[0].toJS());
    for (const field of ['containers', 'initContainers', 'volumes']) assert.equal(offlineStored.spec[field], stored.spec[field], field);
    assert.equal(offlineStored.metadata.annotations, stored.metadata.annotations);
    assert.ok(records.some((r) => r.msg === 'admitted without injection'), 'the offline-injected pod reached the webhook and was left alone');

    await until('the xDS server listens', () => records.some((r) => r.msg === 'xDS server listening'), 60_000, 50);
    child.kill('SIGTERM');
    await until('the server exits', () => child!.exitCode !== null || child!.signalCode !== null, 20_000, 50).catch((err) => {
      throw new Error(`${err.message}; its last log lines: ${records.slice(-5).map((r) => JSON.stringify(r)).join('\n')}`);
    });
    assert.is(child.exitCode, 0);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
