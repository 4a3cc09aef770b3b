/**
 * End to end with bare ADS clients against `serve --watch` over the greeter manifests: a delta
 * client sees per-resource updates and removals as files change, and a state-of-the-world client
 * that NACKs is not sent the same version again.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryLogger } from '../../src/serve/ops/logger.ts';
import { nameOfAny, RawAdsClient } from '../../src/serve/xds/raw-client.ts';
import { startServer, type ServerHandle } from '../../src/serve/server.ts';
import { CDS, EDS } from '../../src/serve/xds/type-urls.ts';
import { renderScenario, writeAtomic } from './fixtures/render.ts';
import { exitWhenDone } from './support.ts';

// No backends are needed: these clients only read config. Fixed (unused) ports keep names stable.
const PORTS = { V1_PORT: 41001, V2_PORT: 41002 };
const V1 = 'demo/greeter-v1|41001';
const V2 = 'demo/greeter-v2|41002';

const logger = memoryLogger('info');
let dir: string;
let server: ServerHandle;
let ads: RawAdsClient;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smi-e2e-raw-'));
  renderScenario('greeter', dir, { ...PORTS, V1_WEIGHT: 80, V2_WEIGHT: 20 });
  server = await startServer({ paths: [dir], port: 0, adminPort: 0, watch: true, debounceMs: 50, logger, processMetrics: false });
  ads = new RawAdsClient(`127.0.0.1:${server.port}`);
});

test.after(async () => {
  ads?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  exitWhenDone();
});

test('delta: per-resource updates and removals as the manifests change', async () => {
  const s = ads.delta();
  s.send({ node: { id: 'demo/client' }, typeUrl: CDS });
  const c1 = await s.next();
  assert.equal(c1.resources.map((r) => r.name), [V1, V2]);
  s.send({ typeUrl: CDS, responseNonce: c1.nonce });
  s.send({ typeUrl: EDS, resourceNamesSubscribe: [V1, V2] });
  const e1 = await s.next();
  assert.equal(e1.resources.map((r) => r.name), [V1, V2]);
  s.send({ typeUrl: EDS, responseNonce: e1.nonce });

  // One more ready address for greeter-v1: exactly one ClusterLoadAssignment is sent.
  const workloads = join(dir, 'workloads.yaml');
  writeAtomic(workloads, readFileSync(workloads, 'utf8').replace('addresses: ["127.0.0.1"]', 'addresses: ["127.0.0.1", "127.0.0.2"]'));
  const e2 = await s.next(5000);
  assert.is(e2.typeUrl, EDS);
  assert.equal(e2.resources.map((r) => r.name), [V1]);
  assert.equal(e2.removedResources, []);
  s.send({ typeUrl: EDS, responseNonce: e2.nonce });

  // greeter-v2 leaves (its Service and the split backend): its cluster is removed by name.
  writeAtomic(
    join(dir, 'split.yaml'),
    'apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: greeter-split, namespace: demo}\nspec:\n  service: greeter\n  backends:\n  - {service: greeter-v1, weight: 100}\n',
  );
  const text = readFileSync(workloads, 'utf8');
  const docs = text.split('\n---\n').filter((d) => !/name: greeter-v2(-e2e)?\n/.test(d) || /kind: Deployment/.test(d));
  writeAtomic(workloads, docs.join('\n---\n'));
  const c2 = await s.next(5000);
  assert.is(c2.typeUrl, CDS);
  assert.equal(c2.resources.map((r) => r.name), []);
  assert.equal(c2.removedResources, [V2]);
  console.log(`  delta: EDS update carried 1 of 2 resources; CDS removal named ${c2.removedResources.join(', ')}`);
  s.close();
});

test('SotW: a NACKed version is not resent; the next change is', async () => {
  const s = ads.sotw();
  s.send({ node: { id: 'demo/client' }, typeUrl: CDS });
  const r1 = await s.next();
  const responses = async (): Promise<number> => (await server.metrics.responses.get()).values.reduce((n, v) => n + v.value, 0);
  const sent = await responses();
  s.send({ typeUrl: CDS, versionInfo: '', responseNonce: r1.nonce, errorDetail: { code: 3, message: 'e2e: rejecting on purpose' } });
  // The NACK is logged while the server handles it; the test resumes after that handling (and any resend) is done.
  const nacked = await logger.waitFor((r) => r.code === 'SMI5002');
  assert.is(await responses(), sent, 'the rejected version must not come back');
  console.log(`  NACK logged: ${nacked!.msg}`);

  // A change to the input is a new version and is sent.
  const workloads = join(dir, 'workloads.yaml');
  writeAtomic(
    workloads,
    `${readFileSync(workloads, 'utf8')}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: extra, namespace: demo}\nspec:\n  clusterIP: 10.96.0.20\n  selector: {app: greeter}\n  ports:\n  - {name: grpc, port: 50052, targetPort: 41003, appProtocol: grpc}\n`,
  );
  const r2 = await s.next(5000);
  assert.is.not(r2.versionInfo, r1.versionInfo);
  assert.ok(r2.resources.map(nameOfAny).includes('demo/extra|41003'));
  s.close();
});

test.run();
