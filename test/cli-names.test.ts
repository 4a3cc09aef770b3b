/**
 * Issue 15, from the command line: names that would escape the output directory, identities
 * that would impersonate a host, and numbers Envoy cannot take are coded errors at their line;
 * compile exits 1 and writes nothing anywhere, lint exits 1 naming the line.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, tempTree } from './cli-harness.ts';

const dirs: string[] = [];
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function temp(files: Record<string, string> = {}): string {
  const d = tempTree(files);
  dirs.push(d);
  return d;
}

/** Every file and directory under `dir`, relative: the filesystem around a run, before and after. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(`${relative(dir, p)}${e.isDirectory() ? '/' : ` ${statSync(p).size}`}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The issue's manifest: a Deployment (with its ServiceAccount) in namespace ../../../../elsewhere/victim. */
const ESCAPING = [
  'apiVersion: v1',
  'kind: ServiceAccount',
  'metadata: {name: app, namespace: shop}',
  '---',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: app',
  '  namespace: ../../../../elsewhere/victim',
  'spec:',
  '  selector: {matchLabels: {app: app}}',
  '  template:',
  '    metadata: {labels: {app: app}}',
  '    spec:',
  '      serviceAccountName: app',
  '      containers: [{name: app, image: app, ports: [{containerPort: 8080}]}]',
  '',
].join('\n');

/** `-o` four levels down, so that ../../../../elsewhere from out/ lands inside the temp tree we watch. */
function setup(): { base: string; input: string; out: string } {
  const base = temp({ 'in/app.yaml': ESCAPING, 'a/b/c/d/keep.txt': 'user file\n' });
  return { base, input: join(base, 'in'), out: join(base, 'a/b/c/d/out') };
}

test('compile -o out: a namespace with .. is SMI1022 at its line, exit 1, nothing written anywhere', async () => {
  const { base, input, out } = setup();
  const before = snapshot(base);
  const run = await runCli(['compile', input, '-o', out]);
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, `${join(input, 'app.yaml')}:9:14: error SMI1022 Deployment metadata.namespace "../../../../elsewhere/victim" is not a valid namespace`);
  assert.match(run.stderr, 'nothing written');
  assert.not.match(run.stderr, /SMI9/);
  assert.equal(snapshot(base), before);
  assert.not.ok(existsSync(join(base, 'a/elsewhere')));
});

test('compile --ca … --emit-secrets: the same, and no private key lands anywhere', async () => {
  const { base, input, out } = setup();
  const ca = join(base, 'ca');
  assert.is((await runCli(['ca', 'init', ca])).code, 0);
  const before = snapshot(base);
  const run = await runCli(['compile', input, '-o', out, '--ca', ca, '--emit-secrets']);
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, /app\.yaml:9:14: error SMI1022/);
  assert.equal(snapshot(base), before);
  assert.not.ok(snapshot(base).some((p) => p.includes('tls.key')));
});

test('lint: exit 1, naming the file and line of every name that would have escaped', async () => {
  const { input } = setup();
  const run = await runCli(['lint', input]);
  assert.is(run.code, 1);
  assert.match(run.stdout + run.stderr, `${join(input, 'app.yaml')}:9:14: error SMI1022`);
  const json = await runCli(['lint', input, '--output', 'json']);
  const found = JSON.parse(json.stdout) as unknown;
  assert.match(JSON.stringify(found), /"SMI1022"/);
});

test('oversize, uppercase, unicode and empty names: coded errors, not ENAMETOOLONG or a silent default/', async () => {
  const cases: [string, RegExp][] = [
    [`name: ${'a'.repeat(300)}`, /:8:9: error SMI1022 Deployment metadata.name .*\(300 characters\) .*more than 253/],
    ['name: App', /:8:9: error SMI1022 .*uppercase/],
    ['name: café', /:8:9: error SMI1022 .*non-ASCII character "é"/],
    ['name: app\n  namespace: ""', /:9:14: error SMI1022 Deployment metadata.namespace "" .*it is empty/],
  ];
  for (const [meta, expected] of cases) {
    const base = temp({ 'in/app.yaml': ESCAPING.replace('  name: app\n  namespace: ../../../../elsewhere/victim', `  ${meta}`) });
    const out = join(base, 'out');
    const run = await runCli(['compile', join(base, 'in'), '-o', out]);
    assert.is(run.code, 1, run.stderr);
    assert.match(run.stderr, expected);
    assert.not.match(run.stderr, /ENAMETOOLONG|SMI9/);
    assert.not.ok(existsSync(out));
  }
});

test('ca issue --identity for a host name (the xDS server\'s): usage error, exit 2, nothing written', async () => {
  const base = temp();
  const ca = join(base, 'ca');
  assert.is((await runCli(['ca', 'init', ca])).code, 0);
  const out = join(base, 'impostor');
  const run = await runCli(['ca', 'issue', ca, '--identity', 'smi-compile.smi-system.svc', '--out', out]);
  assert.is(run.code, 2, run.stderr);
  assert.match(run.stderr, /--identity: identity "smi-compile\.smi-system\.svc": smi-compile\.smi-system\.svc\.cluster\.local has the form of a Kubernetes host name/);
  assert.not.ok(existsSync(out));
  const traversal = await runCli(['ca', 'issue', ca, '--identity', '../../x.y', '--out', out]);
  assert.is(traversal.code, 2);
  assert.not.ok(existsSync(out));
});

/** A Service and its workload; `port` is the Service port entry. */
function serviceMesh(port: string, split = ''): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: web, namespace: shop}',
    'spec:',
    '  selector: {matchLabels: {app: web}}',
    '  template:',
    '    metadata: {labels: {app: web}}',
    '    spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]}',
    '---',
    'apiVersion: v1',
    'kind: Service',
    'metadata: {name: web, namespace: shop}',
    'spec:',
    '  selector: {app: web}',
    '  ports:',
    `  - ${port}`,
    ...['web-v1', 'web-v2'].flatMap((name) => ['---', 'apiVersion: v1', 'kind: Service', `metadata: {name: ${name}, namespace: shop}`, 'spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}']),
    split,
    '',
  ].join('\n');
}

const SPLIT = (w1: string, w2: string) =>
  ['---', 'apiVersion: split.smi-spec.io/v1alpha2', 'kind: TrafficSplit', 'metadata: {name: web-split, namespace: shop}', 'spec:', '  service: web', '  backends:', `  - {service: web-v1, weight: ${w1}}`, `  - {service: web-v2, weight: ${w2}}`].join('\n');

test('numbers Envoy cannot take are coded errors at their line, never SMI9001', async () => {
  const cases: [string, RegExp][] = [
    [serviceMesh('{name: http, port: 80, targetPort: 70000}'), /:16:40: error SMI1005 Service field spec.ports\[0\].targetPort must be <= 65535; got 70000/],
    [serviceMesh('{name: http, port: 80, targetPort: 0}'), /:16:40: error SMI1005 .*targetPort must be >= 1; got 0/],
    [serviceMesh('{name: http, port: 80, targetPort: -1}'), /:16:40: error SMI1005 .*targetPort must be >= 1; got -1/],
    [serviceMesh('{name: http, port: 70000}'), /:16:24: error SMI1005 .*port must be <= 65535/],
    [serviceMesh('{name: http, port: 80}', SPLIT('4294967295', '4294967295')), /:33:3: error SMI3019 TrafficSplit web-split backend weights sum to 8589934590, more than Envoy's limit 4294967295/],
    [serviceMesh('{name: http, port: 80}', SPLIT('50', '99999999999999999999')), /:35:31: error SMI3018 TrafficSplit web-split backend web-v2 has weight 100000000000000000000/],
    [serviceMesh('{name: http, port: 80}', SPLIT('50', '0.5')), /:35:31: error SMI1002 TrafficSplit field spec.backends\[1\].weight must be integer/],
  ];
  for (const [text, expected] of cases) {
    const base = temp({ 'in/m.yaml': text });
    const out = join(base, 'out');
    const run = await runCli(['compile', join(base, 'in'), '-o', out]);
    assert.is(run.code, 1, run.stderr);
    assert.match(run.stderr, expected, run.stderr);
    assert.not.match(run.stderr, /SMI9/);
    assert.not.ok(existsSync(out));
  }
  const fine = temp({ 'in/m.yaml': serviceMesh('{name: http, port: 80, targetPort: 65535}', SPLIT('2147483647', '2147483648')) });
  const run = await runCli(['compile', join(fine, 'in'), '-o', join(fine, 'out')]);
  assert.is(run.code, 0, `the limits themselves compile: ${run.stderr}`);
});

test.run();
