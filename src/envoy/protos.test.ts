import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE_FILE, bundleText, envoyRoot, loadProtoFiles } from './protos.ts';

test('the committed proto bundle is the installed .proto files parsed (run `npm run protos:bundle` after upgrading @grpc/grpc-js-xds or protobufjs)', () => {
  assert.is(readFileSync(BUNDLE_FILE, 'utf8'), bundleText(loadProtoFiles()), 'src/envoy/envoy-protos.bundle.json is stale');
});

test('the root in use encodes like the one parsed from the .proto files', () => {
  const fromFiles = loadProtoFiles();
  const json = { name: 'c|80', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, connect_timeout: '1s' };
  for (const root of [envoyRoot(), fromFiles]) assert.ok(root.lookupType('envoy.config.cluster.v3.Cluster'));
  const encode = (root: typeof fromFiles) => {
    const type = root.lookupType('envoy.config.cluster.v3.Cluster');
    return Buffer.from(type.encode(type.fromObject({ name: json.name, type: 3, edsClusterConfig: { edsConfig: { ads: {} } }, connectTimeout: { seconds: 1 } })).finish()).toString('hex');
  };
  assert.is(encode(envoyRoot()), encode(fromFiles));
});

test.run();
