import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitProxy } from '../emit/index.ts';
import { goldenPlans, wideMesh } from '../emit/golden-plans.ts';
import { XDS_KINDS } from '../emit/types.ts';
import { BUNDLE_FILE, bundleText, envoyRoot, loadProtoFiles, protojson } from './protos.ts';
import { EmitSession } from '../emit/session.ts';

const session = new EmitSession();

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

test('the lean codecs (encoder and decoder only) give the bytes and messages that protobufjs setup gives', () => {
  const full = loadProtoFiles(); // a root of its own: its types set up the usual way
  const proxies = [...goldenPlans('bookstore'), ...goldenPlans('multi-port'), wideMesh(20)[0]].map((plan) =>
    emitProxy(session, plan, {}),
  );
  let resources = 0;
  for (const proxy of proxies) {
    const items: [string, Record<string, unknown>][] = XDS_KINDS.flatMap((kind) => proxy.resources[kind].map((r) => [r['@type'] as string, r] as [string, Record<string, unknown>]));
    items.push(['type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap', proxy.bootstrap as Record<string, unknown>]);
    for (const [url, json] of items) {
      const name = url.replace(/^type\.googleapis\.com\//, '');
      const { '@type': _url, ...body } = json;
      const lean = envoyRoot().lookupType(name);
      const usual = full.lookupType(name);
      const leanBytes = lean.encode(protojson.fromJson(lean, body)).finish();
      const usualBytes = usual.encode(protojson.fromJson(usual, body)).finish();
      assert.is(Buffer.from(leanBytes).toString('hex'), Buffer.from(usualBytes).toString('hex'), `${name} ${String(json.name)}`);
      assert.equal(protojson.toJson(lean, lean.decode(usualBytes)), protojson.toJson(usual, usual.decode(leanBytes)));
      resources++;
    }
  }
  assert.ok(resources > 50);
  // and they are lean: nothing generated the three functions a check never calls
  const listener = envoyRoot().lookupType('envoy.config.listener.v3.Listener');
  assert.ok(Object.hasOwn(listener, 'encode') && !Object.hasOwn(listener, 'verify') && !Object.hasOwn(listener, 'fromObject'));
});

test.run();
