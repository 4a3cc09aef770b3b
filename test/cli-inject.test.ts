/**
 * `smi-compile inject` on bad input: coded diagnostics with file:line, exit 1, and everything
 * else still written (the bad document back unchanged, the good ones injected).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { runCli, tempTree } from './cli-harness.ts';

const GOOD = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ok, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: app, image: app:1}]
`;

test('a bad exclusion annotation: SMI8010 at its line, that document unchanged, the others injected, exit 1', async () => {
  const bad = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: shop}
spec:
  template:
    metadata:
      annotations:
        openservicemesh.io/outbound-port-exclusion-list: "80,http"
    spec:
      containers: [{name: app, image: app:1}]
`;
  const dir = tempTree({ 'in.yaml': `${bad}---\n${GOOD}` });
  const r = await runCli(['inject', '-f', join(dir, 'in.yaml')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /in\.yaml:8:58: error SMI8010 Deployment shop\/bad: annotation openservicemesh\.io\/outbound-port-exclusion-list is "80,http": 'http' is not a port/);
  assert.ok(r.stdout.startsWith(bad + '---\n'), r.stdout.slice(0, 400));
  assert.match(r.stdout, /name: envoy/);
});

test('a workload without containers: SMI8012; YAML that does not parse: SMI1001 and nothing written', async () => {
  const dir = tempTree({
    'empty.yaml': 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  template:\n    metadata: {}\n',
    'broken.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: [\n',
  });
  const r = await runCli(['inject', '-f', join(dir, 'empty.yaml')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /empty\.yaml:6:5: error SMI8012 StatefulSet default\/s has no pod template with containers at spec\.template\.spec\.containers/);
  assert.is(r.stdout, readFileSync(join(dir, 'empty.yaml'), 'utf8'));
  const b = await runCli(['inject', '-f', join(dir, 'broken.yaml')]);
  assert.is(b.code, 1);
  assert.match(b.stderr, /broken\.yaml:\d+:\d+: error SMI1001/);
  assert.is(b.stdout, '');
});

test('aliases that expand past the bound: SMI1015, that document written back as it is', async () => {
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
  const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  ${laughs.replaceAll('\n', '\n  ')}\n---\n${GOOD}`;
  const r = await runCli(['inject', '-f', '-'], text);
  assert.is(r.code, 1);
  assert.match(r.stderr, /<stdin>:1:1: error SMI1015/);
  assert.ok(r.stdout.startsWith(text.slice(0, text.indexOf('---'))));
  assert.match(r.stdout, /name: envoy/);
});

test('stdin in, -o FILE out; --envoy-image and resources flags reach the sidecar', async () => {
  const dir = tempTree({});
  const out = join(dir, 'out.yaml');
  const r = await runCli(['inject', '-f', '-', '-o', out, '--envoy-image', 'registry.local/envoy:v1', '--envoy-requests', 'cpu=100m,memory=64Mi', '--envoy-limits', 'memory=256Mi'], GOOD);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  const text = readFileSync(out, 'utf8');
  assert.match(text, /image: registry\.local\/envoy:v1/);
  assert.match(text, /resources:\n\s+requests:\n\s+cpu: 100m\n\s+memory: 64Mi\n\s+limits:\n\s+memory: 256Mi/);
  const bad = await runCli(['inject', '-f', '-', '--envoy-requests', 'cpu'], GOOD);
  assert.is(bad.code, 2);
});

test.run();
