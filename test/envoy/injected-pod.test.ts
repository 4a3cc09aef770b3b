/**
 * The injected pod runs what the end-to-end network namespaces run: its bootstrap is the one
 * `compile` writes for the workload (the sidecar-traffic test starts Envoy from that file), its
 * osm-init installs the rules osmIptables installs (both from src/inject/iptables.ts, compared
 * here as the kernel holds them after each), and the real Envoy accepts the injected bootstrap,
 * probe listeners included.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { BuiltinCa } from '../../src/identity/builtin-ca.ts';
import { runCli } from '../cli-harness.ts';
import { inNetns, iptablesUnavailable, namespacePrefix, netnsUnavailable, osmIptables } from './netns.ts';
import { envoyTest } from './support.ts';

const XDS = ['--xds-address', '10.96.0.10', '--xds-port', '15128'];
let dir = '';
let ca = '';

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smi-injected-'));
  ca = join(dir, 'ca');
  await (await BuiltinCa.init(ca)).close();
});
test.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The injected pod templates of a file, by `<namespace>/<workload>`. */
async function injected(file: string): Promise<Map<string, any>> {
  const r = await runCli(['inject', '-f', file, '--ca', ca, ...XDS]);
  assert.is(r.code, 0, r.stderr);
  const out = new Map<string, any>();
  for (const doc of parseAllDocuments(r.stdout)) {
    const v = doc.toJS();
    const template = v?.kind === 'Pod' ? v : v?.spec?.template;
    if (template?.spec?.containers?.some((c: any) => c.name === 'envoy')) out.set(`${v.metadata.namespace ?? 'default'}/${v.metadata.name}`, template);
  }
  return out;
}

const bootstrapOf = (template: any): any => parse(template.spec.initContainers.find((c: any) => c.name === 'osm-init').env.find((e: any) => e.name === 'ENVOY_BOOTSTRAP').value);

test("each injected bookstore workload's bootstrap is compile's bootstrap.yaml for it, the certificate read from the mounted Secret", async () => {
  const out = join(dir, 'out');
  const c = await runCli(['fixtures/bookstore', '--ca', ca, ...XDS, '-o', out]);
  assert.is(c.code, 0, c.stderr);
  let compared = 0;
  for (const file of ['bookbuyer.yaml', 'bookstore.yaml', 'bookstore-v2.yaml', 'bookthief.yaml', 'bookwarehouse.yaml', 'mysql.yaml']) {
    for (const [id, template] of await injected(join('fixtures/bookstore', file))) {
      const compiled = readFileSync(join(out, id, 'bootstrap.yaml'), 'utf8').replaceAll(join(out, id), '/etc/envoy-tls');
      assert.equal(bootstrapOf(template), parse(compiled), id);
      compared++;
    }
  }
  assert.ok(compared >= 6, `compared ${compared} workloads`);
});

const netnsReason = netnsUnavailable() ?? iptablesUnavailable();
test('osm-init installs exactly the nat rules the network-namespace tests install', async () => {
  if (netnsReason) {
    if (process.env.CI === 'true') assert.unreachable(`CI=true and ${netnsReason}`);
    console.log(`  (skipped: ${netnsReason})`);
    return;
  }
  const template = [...(await injected('test/inject/fixtures/workloads.yaml')).values()][0];
  const script: string = template.spec.initContainers[0].args[1];
  const rules = script.slice(0, script.indexOf('\nEOF\n') + 5); // the iptables-restore part; the rest writes the bootstrap
  const [a, b] = [`${namespacePrefix()}ia`, `${namespacePrefix()}ib`];
  try {
    for (const ns of [a, b]) spawnSync('ip', ['netns', 'add', ns]);
    inNetns(a, 'sh', '-c', rules);
    osmIptables(b, 1500, { outboundPorts: [6379] }); // the fixture's web excludes 6379
    const saved = (ns: string) => inNetns(ns, 'iptables', '-t', 'nat', '-S');
    assert.match(saved(a), /-A OSM_PROXY_OUTBOUND -p tcp -m multiport --dports 6379 -j RETURN/);
    assert.is(saved(a), saved(b));
  } finally {
    for (const ns of [a, b]) spawnSync('ip', ['netns', 'del', ns]);
  }
});

envoyTest("Envoy accepts the injected bootstrap, probe listeners and mTLS to the control plane included (--mode validate)", async (envoyBin) => {
  const template = (await injected('test/inject/fixtures/workloads.yaml')).get('shop/web');
  const bootstrap = bootstrapOf(template);
  assert.equal(bootstrap.static_resources.listeners.map((l: any) => l.name), ['liveness_listener', 'readiness_listener']);
  const certs = join(dir, 'certs');
  const r = await runCli(['ca', 'issue', ca, '--identity', 'web.shop', '--out', certs]);
  assert.is(r.code, 0, r.stderr);
  const file = join(dir, 'bootstrap.yaml');
  writeFileSync(file, JSON.stringify(bootstrap).replaceAll('/etc/envoy-tls', certs));
  const v = spawnSync(envoyBin, ['--mode', 'validate', '-c', file, '--log-level', 'error'], { encoding: 'utf8' });
  assert.is(v.status, 0, `${v.stdout}\n${v.stderr}`);
});

test.run();
