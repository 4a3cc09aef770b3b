/**
 * deploy/: the Kubernetes manifests hang together (probes on the admin port the server
 * listens on, reachable at the pod IP; only xDS behind the Service; kustomization complete; the
 * ClusterRole exactly what the Kubernetes source reads), and the example mesh compiles cleanly.
 * test/kube/deploy-rbac.test.ts applies the role to a real API server and serves through it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { compile } from '../../src/compiler/compile.ts';
import { watchedKinds } from '../../src/sources/kubernetes/kinds.ts';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.ts';

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

const files = readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml')).sort();
const objects: Obj[] = files.flatMap((f) => parseAllDocuments(readFileSync(join(DEPLOY, f), 'utf8')).map((d) => d.toJS()));
const byKind = (kind: string): Obj[] => objects.filter((o) => o?.kind === kind);

test('kustomization lists every manifest', () => {
  const k = byKind('Kustomization')[0];
  assert.equal([...k.resources].sort(), files.filter((f) => f !== 'kustomization.yaml'));
});

test('probes, ports and arguments agree with the server', () => {
  const dep = byKind('Deployment')[0];
  const c = dep.spec.template.spec.containers[0];
  const ports = Object.fromEntries(c.ports.map((p: Obj) => [p.name, p.containerPort]));
  const arg = (flag: string): string => c.args[c.args.indexOf(flag) + 1];
  assert.is(c.args[0], 'serve');
  assert.ok(c.args.includes('--kubernetes'));
  assert.is(arg('--address'), '0.0.0.0');
  assert.is(Number(arg('--port')), ports.xds);
  assert.is(Number(arg('--admin-port')), ports.admin);
  // The kubelet's httpGet probes and Prometheus connect to the pod IP: a loopback admin port
  // (the default) would fail every probe.
  assert.is(arg('--admin-address'), '0.0.0.0');
  assert.is(Number(dep.spec.template.metadata.annotations['prometheus.io/port']), ports.admin);
  assert.is(c.livenessProbe.httpGet.port, 'admin');
  assert.is(c.livenessProbe.httpGet.host, undefined, 'a probe with host: 127.0.0.1 would be made from the node, not the pod');
  assert.is(c.livenessProbe.httpGet.path, '/healthz');
  assert.is(c.readinessProbe.httpGet.path, '/readyz');
  assert.is(c.readinessProbe.httpGet.port, 'admin');
  // The in-cluster configuration reads the service account's mounted token.
  assert.not.ok(dep.spec.template.spec.automountServiceAccountToken === false);
  assert.not.ok(byKind('ServiceAccount')[0].automountServiceAccountToken === false);
  const svc = byKind('Service')[0];
  for (const p of svc.spec.ports) assert.ok(p.targetPort in ports, `Service port ${p.name} targets ${p.targetPort}`);
  // Only xDS goes through the Service; /debug stays off (it would show every proxy's config).
  assert.equal(svc.spec.ports.map((p: Obj) => p.targetPort), ['xds']);
  assert.not.ok(c.args.includes('--debug-endpoints'));
  assert.equal(svc.spec.selector, dep.spec.template.metadata.labels);
});

test('the ClusterRole grants get, list and watch on exactly the kinds the Kubernetes source reads, to the Deployment\'s service account', () => {
  const role = byKind('ClusterRole').find((r) => r.metadata.name === 'smi-compile');
  const granted = role.rules.flatMap((r: Obj) => {
    assert.equal(r.verbs, ['get', 'list', 'watch']);
    return r.apiGroups.flatMap((g: string) => r.resources.map((res: string) => `${g}/${res}`));
  });
  // Every kind's plural is its lower-case name plus s (discovery confirms it in test/kube).
  const wanted = watchedKinds().map((k) => `${k.group}/${k.kind.toLowerCase()}s`);
  assert.equal([...granted].sort(), [...wanted].sort());
  const binding = byKind('ClusterRoleBinding').find((b) => b.roleRef.name === role.metadata.name);
  const sa = byKind('ServiceAccount')[0];
  assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  assert.is(byKind('Deployment')[0].spec.template.spec.serviceAccountName, sa.metadata.name);
});

test('the sidecar certificates\' ClusterRole is separate, and grants exactly get, list, create, update and delete on Secrets, to the same service account', () => {
  const roles = byKind('ClusterRole');
  assert.equal(roles.map((r: Obj) => r.metadata.name).sort(), ['smi-compile', 'smi-compile-sidecar-certs']);
  const role = roles.find((r: Obj) => r.metadata.name === 'smi-compile-sidecar-certs');
  // No watch (resyncs notice a deleted Secret), no patch, no deletecollection; nothing but Secrets.
  assert.equal(role.rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'update', 'delete'] }]);
  const bindings = byKind('ClusterRoleBinding').filter((b: Obj) => b.roleRef.name === role.metadata.name);
  assert.is(bindings.length, 1);
  const sa = byKind('ServiceAccount')[0];
  assert.equal(bindings[0].subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  assert.is(byKind('ClusterRoleBinding').length, 2);
});

test('the example mesh (deploy/example) compiles without errors into the greeter mesh', () => {
  const inputs = [{ path: 'deploy/example/greeter.yaml', text: readFileSync(join(DEPLOY, 'example', 'greeter.yaml'), 'utf8') }];
  const r = compile(inputs);
  const errors = r.diagnostics.filter((d) => d.level === 'error').map(formatDiagnostic);
  assert.equal(errors, []);
  assert.equal(r.proxies.map((p) => p.nodeId).sort(), ['demo/client', 'demo/greeter-v1', 'demo/greeter-v2']);
});

test.run();
