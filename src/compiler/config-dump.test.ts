import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeToProtoJson, encodeProtoJson } from '../envoy/protos.ts';
import { TYPE_URL } from '../emit/types.ts';
import { buildSnapshot } from '../serve/snapshot/snapshot.ts';
import { ResourceInterner } from '../serve/snapshot/interner.ts';
import { setVersion } from '../emit/versions.ts';
import { compilePaths } from './compile.ts';
import { CONFIG_DUMP_FILE, CONFIG_DUMP_TYPE, configDump, configDumpText, redactSensitive } from './config-dump.ts';
import { renderProxy } from './output-tree.ts';

const bookstore = compilePaths(['fixtures/bookstore']).proxies;
const proxy = bookstore.find((p) => p.workload === 'bookbuyer')!;

type Configs = { configs: Record<string, any>[] };

test('the dump decodes under the real protos as envoy.admin.v3.ConfigDump, every Any inside too, and round-trips', () => {
  for (const p of bookstore) {
    const dump = JSON.parse(configDumpText(p)) as Configs;
    const bytes = encodeProtoJson(CONFIG_DUMP_TYPE, dump);
    const back = decodeToProtoJson(CONFIG_DUMP_TYPE, bytes) as { configs: { '@type': string }[] };
    assert.equal(
      back.configs.map((c) => c['@type'].replace(/^.*\./, '')),
      ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'],
    );
    // Same bytes again from the decoded form: nothing was dropped or unknown.
    assert.equal(encodeProtoJson(CONFIG_DUMP_TYPE, back), bytes);
  }
});

test('the dump holds every emitted listener, cluster, route configuration and secret, endpoints left out as Envoy does', () => {
  const dump = JSON.parse(configDumpText(proxy)) as Configs;
  const [bootstrap, clusters, listeners, routes, secrets] = dump.configs;
  assert.equal(bootstrap.bootstrap, JSON.parse(JSON.stringify(proxy.bootstrap)));
  assert.equal(clusters.dynamic_active_clusters.map((c: any) => c.cluster.name), proxy.resources.clusters.map((r) => r.name));
  assert.equal(listeners.dynamic_listeners.map((l: any) => l.name), proxy.resources.listeners.map((r) => r.name));
  assert.equal(listeners.dynamic_listeners.map((l: any) => l.active_state.listener), JSON.parse(JSON.stringify(proxy.resources.listeners)));
  assert.equal(routes.dynamic_route_configs.map((r: any) => r.route_config.name), proxy.resources.routes.map((r) => r.name));
  assert.equal(secrets.dynamic_active_secrets.map((s: any) => s.name), proxy.resources.secrets.map((r) => r.name));
  assert.ok(proxy.resources.listeners.length > 0 && proxy.resources.clusters.length > 0 && proxy.resources.routes.length > 0);
  assert.not.match(JSON.stringify(dump), /ClusterLoadAssignment/);
});

test('versions are what serve hands a SotW client: the content hash of the type\'s set, from the snapshot\'s own resource versions', () => {
  const { snapshot } = buildSnapshot(bookstore, new ResourceInterner());
  const served = snapshot!.proxies.get(proxy.nodeId)!;
  const dump = JSON.parse(configDumpText(proxy)) as Configs;
  const setOf = (kind: 'clusters' | 'listeners' | 'routes') => setVersion([...served.resources.get(TYPE_URL[kind])!.values()]);
  assert.equal(dump.configs[1].version_info, setOf('clusters'));
  for (const c of dump.configs[1].dynamic_active_clusters) assert.is(c.version_info, setOf('clusters'));
  for (const l of dump.configs[2].dynamic_listeners) assert.is(l.active_state.version_info, setOf('listeners'));
  for (const r of dump.configs[3].dynamic_route_configs) assert.is(r.version_info, setOf('routes'));
});

test('secrets: every sensitive field redacted as Envoy redacts it, the certificate chain kept', () => {
  const secret = {
    '@type': TYPE_URL.secrets,
    name: 'service-cert:bookstore/bookbuyer',
    tls_certificate: {
      certificate_chain: { inline_string: '-----BEGIN CERTIFICATE-----\n' },
      private_key: { inline_string: '-----BEGIN PRIVATE KEY-----\nsecret\n' },
      password: { inline_bytes: Buffer.from('hunter2').toString('base64') },
    },
  };
  const shown = redactSensitive(TYPE_URL.secrets, secret);
  assert.equal(shown.tls_certificate, {
    certificate_chain: { inline_string: '-----BEGIN CERTIFICATE-----\n' },
    private_key: { inline_string: '[redacted]' },
    password: { inline_bytes: Buffer.from('[redacted]').toString('base64') },
  });
  assert.is(secret.tls_certificate.private_key.inline_string, '-----BEGIN PRIVATE KEY-----\nsecret\n', 'the input is not changed');
  encodeProtoJson(TYPE_URL.secrets, shown); // still a valid Secret
  const dump = configDump({}, { secrets: { version: 'v', resources: [{ json: secret, version: 'v' }] } }) as Configs;
  assert.not.match(JSON.stringify(dump), /PRIVATE KEY|hunter2|aHVudGVyMg/);
});

test('renderProxy with configDump: the usual files plus config_dump.json; deterministic', () => {
  const files = renderProxy(proxy, 'yaml', { configDump: true });
  const dir = `${proxy.namespace}/${proxy.workload}`;
  assert.equal(
    files.map(([f]) => f),
    [...['bootstrap', 'clusters'].map((k) => `${dir}/${k}.yaml`), `${dir}/${CONFIG_DUMP_FILE}`, ...['endpoints', 'listeners', 'routes', 'secrets'].map((k) => `${dir}/${k}.yaml`)],
  );
  assert.equal(files.filter(([f]) => f.endsWith('.yaml')), renderProxy(proxy, 'yaml'));
  const again = compilePaths(['fixtures/bookstore']).proxies.find((p) => p.workload === 'bookbuyer')!;
  assert.is(configDumpText(again), configDumpText(proxy));
});

test.run();
