/**
 * The proxyless gRPC flavour of every fixture, golden-proxyless/<fixture>/<ns>/<workload>/, next
 * to the sidecar flavour in golden/: what a gRPC client of the workload receives when it dials
 * each service it may call (by its full name, `xds:///<svc>.<ns>.svc.cluster.local:<port>`),
 * what a gRPC server of it receives for each HTTP/gRPC port it serves (listening on 0.0.0.0),
 * and its clusters and endpoints, as `serve` with a CA sends them (mTLS from the gRPC
 * bootstrap's certificate provider). Every resource also encodes to its proto.
 *
 * `UPDATE_GOLDEN=1` (or `npm run golden:update`) rewrites them and deletes those no fixture
 * produces; review `git diff golden-proxyless/` like code.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../src/compiler/compile.ts';
import { serialise, type OutputTree } from '../src/compiler/output-tree.ts';
import { compareStrings } from '../src/shared/compare.ts';
import { apiListenerName, grpcServerListenerName } from '../src/emit/names.ts';
import { serviceFqdn } from '../src/ir/names.ts';
import { ProxylessEmitter, proxylessMeshOf, type ProxylessMesh } from '../src/emit/proxyless/index.ts';
import { isHttpLike } from '../src/emit/common.ts';
import { TYPE_URL, XDS_KINDS, type EnvoyResource, type XdsKind } from '../src/emit/types.ts';
import { encodeProtoJsonAny } from '../src/envoy/protos.ts';
import { CERTIFICATE_PROVIDER_INSTANCE } from '../src/serve/security/secrets.ts';
import { checkGoldenTree, FIXTURES, pruneGoldens, scenarios } from './golden-layer.ts';

const GOLDEN = 'golden-proxyless';

/** The names a gRPC client and a gRPC server of the workload ask for, by type. */
function askedNames(mesh: ProxylessMesh, emitter: ProxylessEmitter, nodeId: string): Record<XdsKind, string[]> {
  const proxy = mesh.proxies.get(nodeId)!;
  const clients = proxy.outbound.filter(isHttpLike).map((o) => apiListenerName(serviceFqdn(o.service), o.port));
  const servers = [...new Set(proxy.inbound.filter(isHttpLike).map((p) => p.targetPort))].sort((a, b) => a - b).map((port) => grpcServerListenerName('0.0.0.0', port));
  const listeners = [...clients, ...servers];
  return {
    listeners,
    routes: listeners,
    clusters: [...emitter.names(nodeId, TYPE_URL.clusters)],
    endpoints: [...emitter.names(nodeId, TYPE_URL.endpoints)],
    secrets: [],
  };
}

function proxylessTree(mesh: ProxylessMesh): OutputTree {
  const emitter = new ProxylessEmitter(mesh);
  const files: [string, string][] = [];
  for (const nodeId of mesh.proxies.keys()) {
    const names = askedNames(mesh, emitter, nodeId);
    for (const kind of XDS_KINDS) {
      if (kind === 'secrets') continue; // gRPC takes certificates from its bootstrap's providers
      const resources: EnvoyResource[] = [];
      for (const name of names[kind]) {
        const r = emitter.resource(nodeId, TYPE_URL[kind], name, CERTIFICATE_PROVIDER_INSTANCE);
        if (!r) continue;
        encodeProtoJsonAny(TYPE_URL[kind], r); // throws when the resource does not fit its proto
        resources.push(r);
      }
      files.push([`${nodeId}/${kind}.yaml`, serialise(resources, 'yaml')]);
    }
  }
  return new Map(files.sort(([a], [b]) => compareStrings(a, b)));
}

for (const scenario of scenarios) {
  test(`golden-proxyless: ${scenario}`, () => {
    const result = compilePaths([join(FIXTURES, scenario)]);
    assert.ok(result.ok, 'fixture compiles without errors');
    const mesh = proxylessMeshOf(result.mesh)!;
    assert.equal([...mesh.proxies.keys()].sort(), result.proxies.map((p) => p.nodeId).sort(), 'one proxyless proxy per sidecar, under the same node id');
    const tree = proxylessTree(mesh);
    checkGoldenTree(tree, GOLDEN, scenario);
  });
}

test('golden-proxyless: no golden without a fixture', () => pruneGoldens(GOLDEN));

test.run();
