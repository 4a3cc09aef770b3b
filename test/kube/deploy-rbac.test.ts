/**
 * deploy/ against a real API server: the CLI's `serve --kubernetes`, authenticated as the
 * Deployment's service account with only deploy/rbac.yaml's ClusterRole, reads every kind it
 * needs (no 403), and serves the example mesh exactly as `serve deploy/example` does. The CRDs
 * are installed as shipped (SMI's newest versions only): discovery picks what is served.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BuiltinCa } from '../../src/identity/builtin-ca.ts';
import { memoryLogger, startServer } from '../../src/serve/index.ts';
import { meshCrds, requireKubeBinaries, startApiServer, until } from './apiserver.ts';

const bin = requireKubeBinaries();
const REPO = new URL('../../', import.meta.url).pathname;
const read = (p: string): string => readFileSync(`${REPO}${p}`, 'utf8');

test("serve --kubernetes as deploy/'s service account, with only its ClusterRole, serves the example mesh as the files would be served", async () => {
  if (!bin) return;
  const kube = await startApiServer(bin, { crds: meshCrds() });
  const records: Record<string, any>[] = [];
  let child: ReturnType<typeof spawn> | undefined;
  try {
    for (const f of ['deploy/namespace.yaml', 'deploy/serviceaccount.yaml', 'deploy/rbac.yaml', 'deploy/example/greeter.yaml']) await kube.apply(read(f));
    const kubeconfig = await kube.kubeconfigFor('smi-system', 'smi-compile');
    child = spawn(process.execPath, [`${REPO}bin/smi-compile.js`, 'serve', '--kubernetes', '--kubeconfig', kubeconfig, '--port', '0', '--admin-port', '0', '--log-format', 'json'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KUBECONFIG: '' },
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      try {
        records.push(JSON.parse(line));
      } catch {
        records.push({ msg: line });
      }
    });
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    await until('the server listens', () => records.some((r) => r.msg === 'xDS server listening'), 60_000, 50);
    const served = records.find((r) => r.msg === 'serving snapshot')!;
    assert.ok(served, 'a snapshot is served');
    assert.equal(records.filter((r) => r.code === 'SMI8003'), [], 'nothing was refused');
    const watching = records.find((r) => r.msg === 'watching the Kubernetes API')!;
    assert.ok(watching.kinds.includes('TrafficSplit.split.smi-spec.io/v1alpha4'), JSON.stringify(watching.kinds));
    assert.ok(!records.some((r) => r.code === 'SMI8001'), 'every kind is served');

    const files = await startServer({ paths: [`${REPO}deploy/example`], port: 0, adminPort: 0, logger: memoryLogger('error'), processMetrics: false });
    try {
      assert.is(served.version, files.snapshot()!.version);
      assert.is(served.proxies, 3);
    } finally {
      await files.close();
    }
    const listening = records.find((r) => r.msg === 'xDS server listening')!;
    assert.is((await fetch(`http://127.0.0.1:${listening.adminPort}/readyz`)).status, 200);
    child.kill('SIGTERM');
    assert.is(await exited, 0);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await kube.close();
  }
});

test('an identity without the ClusterRole is refused: SMI8003 names the resource, and nothing is served', async () => {
  if (!bin) return;
  const kube = await startApiServer(bin, { crds: meshCrds() });
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await kube.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: nobody}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: nobody, namespace: nobody}\n');
    const kubeconfig = await kube.kubeconfigFor('nobody', 'nobody');
    child = spawn(process.execPath, [`${REPO}bin/smi-compile.js`, 'serve', '--kubernetes', '--kubeconfig', kubeconfig, '--port', '0', '--admin-port', '0', '--log-format', 'json'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const lines: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    await until('SMI8003 for services', () => lines.some((l) => /error SMI8003 .*services\.core .*HTTP 403/.test(l)), 30_000, 50);
    assert.not.ok(lines.some((l) => /serving snapshot|xDS server listening/.test(l)));
  } finally {
    child?.kill('SIGKILL');
    await kube.close();
  }
});

/** `serve --kubernetes --ca` as deploy/'s service account; its JSON log lines as they come. */
function serveWithCa(kubeconfig: string, caDir: string): { child: ReturnType<typeof spawn>; records: Record<string, any>[] } {
  const child = spawn(process.execPath, [`${REPO}bin/smi-compile.js`, 'serve', '--kubernetes', '--kubeconfig', kubeconfig, '--ca', caDir, '--port', '0', '--admin-port', '0', '--log-format', 'json'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KUBECONFIG: '' },
  });
  const records: Record<string, any>[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      records.push(JSON.parse(line));
    } catch {
      records.push({ msg: line });
    }
  });
  return { child, records };
}

const managedCertSecrets = async (kube: Awaited<ReturnType<typeof startApiServer>>, ns: string): Promise<string[]> =>
  ((await kube.api('GET', `/api/v1/namespaces/${ns}/secrets?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dsmi-compile`)).items as { metadata: { name: string } }[])
    .map((s) => s.metadata.name)
    .sort();

test("with --ca, deploy/'s service account and both its ClusterRoles keep the sidecars' certificate Secrets; without the secrets role it logs SMI8022 and keeps serving", async () => {
  if (!bin) return;
  const kube = await startApiServer(bin, { crds: meshCrds() });
  const caDir = mkdtempSync(join(tmpdir(), 'smi-deploy-ca-'));
  let run: ReturnType<typeof serveWithCa> | undefined;
  try {
    await BuiltinCa.init(caDir);
    // The read-only role alone first: deploy/rbac.yaml without the secrets role and its binding.
    await kube.apply(read('deploy/rbac.yaml'), (o) => (o.metadata.name === 'smi-compile-sidecar-certs' ? undefined : o));
    for (const f of ['deploy/namespace.yaml', 'deploy/serviceaccount.yaml', 'deploy/example/greeter.yaml']) await kube.apply(read(f));
    const kubeconfig = await kube.kubeconfigFor('smi-system', 'smi-compile');
    run = serveWithCa(kubeconfig, caDir);
    const records = run.records;
    await until('SMI8022', () => records.some((r) => r.code === 'SMI8022'), 60_000, 50);
    assert.ok(records.some((r) => r.msg === 'xDS server listening'), 'xDS is served all the same');
    const listening = records.find((r) => r.msg === 'xDS server listening')!;
    assert.is((await fetch(`http://127.0.0.1:${listening.adminPort}/readyz`)).status, 200);
    assert.ok(/smi-compile-sidecar-certs/.test(records.find((r) => r.code === 'SMI8022')!.msg), 'it names the role to bind');
    assert.equal(await managedCertSecrets(kube, 'demo'), []);
    // Granting the role: the running server gets there on its own (its retry), no restart.
    await kube.apply(read('deploy/rbac.yaml'), (o) => (o.metadata.name === 'smi-compile-sidecar-certs' ? o : undefined));
    await until('the Secrets of client and greeter', async () => (await managedCertSecrets(kube, 'demo')).length === 2, 60_000, 100);
    assert.equal(await managedCertSecrets(kube, 'demo'), ['envoy-xds-cert-client', 'envoy-xds-cert-greeter']);
    assert.not.ok(records.some((r) => /unhandled|TypeError/i.test(String(r.msg))), 'no crash');
    run.child.kill('SIGTERM');
  } finally {
    if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
    await kube.close();
    rmSync(caDir, { recursive: true, force: true });
  }
});

test.run();
