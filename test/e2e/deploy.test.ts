/**
 * deploy/: the Kubernetes manifests hang together (probes on the admin port the server
 * listens on, reachable at the pod IP; only xDS behind the Service; kustomization complete), and the
 * example ConfigMap's mesh compiles cleanly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { compile } from '../../src/compiler/compile.ts';
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
  assert.ok(c.args.includes('--watch'));
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
  const mount = c.volumeMounts.find((m: Obj) => m.name === 'manifests');
  assert.is(mount.mountPath, c.args[1]);
  const svc = byKind('Service')[0];
  for (const p of svc.spec.ports) assert.ok(p.targetPort in ports, `Service port ${p.name} targets ${p.targetPort}`);
  // Only xDS goes through the Service; /debug stays off (it would show every proxy's config).
  assert.equal(svc.spec.ports.map((p: Obj) => p.targetPort), ['xds']);
  assert.not.ok(c.args.includes('--debug-endpoints'));
  assert.equal(svc.spec.selector, dep.spec.template.metadata.labels);
});

test('the example ConfigMap compiles without errors into the greeter mesh', () => {
  const cm = byKind('ConfigMap')[0];
  const inputs = Object.entries(cm.data as Record<string, string>).map(([name, text]) => ({ path: `configmap/${name}`, text }));
  const r = compile(inputs);
  const errors = r.diagnostics.filter((d) => d.level === 'error').map(formatDiagnostic);
  assert.equal(errors, []);
  assert.equal(r.proxies.map((p) => p.nodeId).sort(), ['demo/client', 'demo/greeter-v1', 'demo/greeter-v2']);
});

test.run();
