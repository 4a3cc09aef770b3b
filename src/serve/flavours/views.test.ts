import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../../compiler/compile.ts';
import { lazyProxylessMesh } from '../../emit/proxyless/index.ts';
import { buildSnapshot } from '../snapshot/snapshot.ts';
import { ResourceInterner } from '../snapshot/interner.ts';
import { CDS, EDS, LDS, RDS } from '../xds/type-urls.ts';
import { looksProxyless, proxylessView, sidecarView } from './views.ts';

const HOST = 'bookstore.bookstore.svc.cluster.local:14001';
const result = compilePaths(['fixtures/bookstore']);

test('the proxyless view emits from the snapshot plans once per snapshot, interned, and differs from the sidecar view', () => {
  const interner = new ResourceInterner();
  const snapshot = buildSnapshot(result.proxies, interner, lazyProxylessMesh(result.mesh)).snapshot!;
  const proxy = snapshot.proxies.get('bookbuyer/bookbuyer')!;
  const a = proxylessView(snapshot, proxy, interner);
  const b = proxylessView(snapshot, proxy, interner);
  const rc = a.get(RDS, HOST)!;
  assert.is(b.get(RDS, HOST), rc, 'a second stream of the proxy gets the very same resource');
  assert.ok(rc.any.byteLength > 0, 'encoded');
  assert.ok(a.get(LDS, HOST));
  const cluster = 'bookstore/bookstore-v1|14001';
  assert.is.not(a.get(CDS, cluster)!.version, sidecarView(proxy).get(CDS, cluster)!.version, 'no sidecar mTLS socket');
  assert.equal([...a.all(EDS)].map((r) => r.name), [...proxy.resources.get(EDS)!.keys()]);
  assert.equal([...a.all(LDS)], []);
});

test('a snapshot without plans (hand-made configs) has no proxyless resources', () => {
  const interner = new ResourceInterner();
  const snapshot = buildSnapshot(result.proxies, interner).snapshot!;
  const view = proxylessView(snapshot, snapshot.proxies.get('bookbuyer/bookbuyer')!, interner);
  assert.is(view.get(RDS, HOST), undefined);
  assert.equal([...view.all(CDS)], []);
});

test('a stream is judged proxyless by a Listener name only gRPC uses', () => {
  assert.ok(looksProxyless(LDS, ['outbound-listener', HOST]));
  assert.ok(looksProxyless(LDS, ['grpc/server?xds.resource.listening_address=0.0.0.0:50051']));
  assert.not.ok(looksProxyless(LDS, ['outbound-listener', 'inbound-listener']));
  assert.not.ok(looksProxyless(CDS, [HOST]));
});

test.run();
