/**
 * End to end: `serve --watch` over generated manifests, real @grpc/grpc-js-xds clients calling
 * real gRPC servers through `xds:///greeter.demo.svc.cluster.local:50051`.
 *
 * One server and one xDS client for the whole file (grpc-js-xds reads its bootstrap once per
 * process), so the tests run in order and each leaves the split where the next expects it.
 *
 * No test here bounds how fast anything happens (that is bench/'s business): each waits for
 * the event it needs (a call's result, a log record, a call that succeeds), and the only limit
 * is HANG_GUARD_MS, which fails a stuck test instead of hanging the suite.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpcXds from '@grpc/grpc-js-xds';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryLogger, type LogRecord } from '../../src/serve/ops/logger.ts';
import { startServer, type ServerHandle } from '../../src/serve/server.ts';
import { renderFile, renderScenario, writeAtomic } from './fixtures/render.ts';
import { bootstrap, exitWhenDone, GreeterClient, sharePercent, startBackend, within, type Backend, type CallResult } from './support.ts';

const TARGET = 'xds:///greeter.demo.svc.cluster.local:50051';
const N = 400;
const HANG_GUARD_MS = 60_000;

const logger = memoryLogger('debug'); // debug: pushes and ACKs
/** Waiters on log records: each is tried on every record the server logs from now on. */
const recordWaiters = new Set<(r: LogRecord) => boolean>();
const pushRecord = logger.records.push.bind(logger.records);
logger.records.push = (...records: LogRecord[]): number => {
  const n = pushRecord(...records);
  for (const r of records) for (const w of [...recordWaiters]) if (w(r)) recordWaiters.delete(w);
  return n;
};

/** The next record the server logs (after this call) that satisfies `pred`. */
function nextRecord(what: string, pred: (r: LogRecord) => boolean): Promise<LogRecord> {
  return within(HANG_GUARD_MS, what, new Promise<LogRecord>((resolve) => recordWaiters.add((r) => (pred(r) ? (resolve(r), true) : false))));
}

/** A promise and the function that resolves it: an event to await. */
function signal(): { readonly done: Promise<void>; fire(): void } {
  let fire!: () => void;
  const done = new Promise<void>((r) => (fire = r));
  return { done, fire };
}
let dir: string;
let v1: Backend;
let v2: Backend;
let server: ServerHandle;
let client: GreeterClient;
let ports: Record<string, number>;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smi-e2e-'));
  [v1, v2] = await Promise.all([startBackend('v1'), startBackend('v2')]);
  ports = { V1_PORT: v1.port, V2_PORT: v2.port };
  renderScenario('greeter', dir, { ...ports, V1_WEIGHT: 80, V2_WEIGHT: 20 });
  server = await startServer({ paths: [dir], port: 0, adminPort: 0, debugEndpoints: true, watch: true, debounceMs: 50, logger, processMetrics: false });
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = bootstrap(server.port, 'demo/client');
  grpcXds.register();
  client = new GreeterClient(TARGET);
  const first = await within(HANG_GUARD_MS, 'first call through xDS', client.call('SayHello', { waitForReady: true }));
  assert.ok(first.from, `first call failed: ${first.error?.message}`);
});

test.after(async () => {
  client?.close();
  await server?.close();
  await Promise.all([v1?.close(), v2?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  exitWhenDone();
});

const failures = (rs: readonly CallResult[]): string[] => rs.filter((r) => r.error).map((r) => r.error!.message);

test('TrafficSplit 80/20 is observed in traffic within ±10 points', async () => {
  const rs = await within(HANG_GUARD_MS, 'calls', client.many(N));
  assert.equal(failures(rs), []);
  const share = sharePercent(rs, 'v1');
  console.log(`  split 80/20: v1 ${share.toFixed(1)}% of ${N} calls`);
  assert.ok(Math.abs(share - 80) <= 10, `v1 got ${share}%`);
});

test('editing the split to 20/80 flips the traffic, with no failed call', async () => {
  // Flipped: the last 40 calls after the edit are mostly v2 (under 80/20 the chance of that is ~1e-12).
  const WINDOW = 40;
  const results: CallResult[] = [];
  const flowing = signal();
  const flipped = signal();
  const enoughAfter = signal();
  let editedAt = Infinity;
  let flippedAt = 0;
  let steady = Infinity;
  let stop = false;
  const record = (r: CallResult): void => {
    results.push(r);
    flowing.fire();
    if (steady === Infinity && r.at > editedAt) {
      const after = results.filter((x) => x.at > editedAt);
      const last = after.slice(-WINDOW);
      if (after.length >= WINDOW && last.filter((x) => x.from === 'v2').length >= WINDOW * 0.6) {
        flippedAt = last[0].at;
        steady = results.length;
        flipped.fire();
      }
    }
    if (results.length >= steady + N) enoughAfter.fire();
  };
  const workers = Array.from({ length: 4 }, async () => {
    while (!stop) record(await client.call('SayHello'));
  });
  await flowing.done; // traffic flowing before the edit
  editedAt = performance.now();
  renderFile('greeter', 'split.yaml', dir, { ...ports, V1_WEIGHT: 20, V2_WEIGHT: 80 });
  await within(HANG_GUARD_MS, 'the flip', flipped.done);
  const detectedAt = performance.now();
  await within(HANG_GUARD_MS, 'calls after the flip', enoughAfter.done);
  stop = true;
  await Promise.all(workers);
  assert.equal(failures(results), [], 'no call may fail across the change');
  const share = sharePercent(results.slice(steady), 'v2');
  console.log(
    `  flip 80/20 → 20/80: traffic moved ${(flippedAt - editedAt).toFixed(0)} ms after the edit (detected at ${(detectedAt - editedAt).toFixed(0)} ms); ` +
      `then v2 ${share.toFixed(1)}% of ${results.length - steady} calls; ${results.length} calls, 0 failed`,
  );
  assert.ok(Math.abs(share - 80) <= 10, `v2 got ${share}% after the flip`);
});

test('a broken manifest keeps traffic on the last good config and logs the diagnostic', async () => {
  const version = server.snapshot()!.version;
  const broken = join(dir, 'broken.yaml');
  const yamlError = nextRecord('the YAML error logged', (r) => r.level === 'error' && String(r.file ?? '').endsWith('broken.yaml'));
  const keeps = nextRecord('SMI5001 logged', (r) => r.code === 'SMI5001');
  writeFileSync(broken, 'apiVersion: v1\nkind: Service\nmetadata: {name: oops, namespace: demo\n');
  const yaml = await yamlError;
  await keeps;
  assert.ok(yaml, 'the YAML error is logged with its file');
  console.log(`  logged: ${yaml!.msg}`);
  assert.is(server.snapshot()!.version, version, 'still serving the last good snapshot');
  const rs = await within(HANG_GUARD_MS, 'calls', client.many(200));
  assert.equal(failures(rs), []);
  assert.ok(Math.abs(sharePercent(rs, 'v2') - 80) <= 10);
  const fixed = nextRecord('recompiled after the fix', (r) => r.msg === 'recompiled: no change');
  unlinkSync(broken);
  await fixed;
  assert.is(server.snapshot()!.version, version);
});

test('an HTTPRouteGroup admitting one gRPC method: that method is routed, the others fail with UNAVAILABLE', async () => {
  const ok = await client.call('SayHello');
  assert.ok(ok.from, ok.error?.message);
  const denied = await client.call('SayBye');
  assert.ok(denied.error, 'SayBye must fail');
  assert.is(denied.error!.code, 14, `UNAVAILABLE expected, got ${denied.error!.code} ${denied.error!.details}`);
  console.log(`  SayBye: ${denied.error!.code} ${denied.error!.details}`);

  // Admitting every method routes SayBye as well. The client has the new routes once it ACKs the
  // RDS response the recompile pushes to it: grpc-js hands a response to its watchers (on the
  // next tick) before the ACK it sends can reach the server.
  let pushed = false;
  const acked = nextRecord('the new routes ACKed by the client', (r) => {
    if (r.node !== 'demo/client' || r.type !== 'RDS') return false;
    if (r.msg === 'push') pushed = true;
    return pushed && r.msg === 'ACK';
  });
  writeAtomic(
    join(dir, 'access.yaml'),
    `apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-greeter, namespace: demo}
spec:
  destination: {kind: ServiceAccount, name: greeter, namespace: demo}
  rules:
  - {kind: HTTPRouteGroup, name: greeter-routes, matches: [everything]}
  sources:
  - {kind: ServiceAccount, name: client, namespace: demo}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: greeter-routes, namespace: demo}
spec:
  matches:
  - {name: everything, pathRegex: ".*", methods: ["*"]}
`,
  );
  await acked;
  const routed = await client.call('SayBye');
  assert.ok(routed.from, `SayBye once the new routes are ACKed: ${routed.error?.message}`);
});

test('the admin port reports the proxyless client, its ACKs, and metrics', async () => {
  const base = `http://127.0.0.1:${server.adminPort}`;
  assert.is((await fetch(`${base}/healthz`)).status, 200);
  assert.is((await fetch(`${base}/readyz`)).status, 200);
  const streams = (await (await fetch(`${base}/debug/streams`)).json()) as { node: string; flavour: string; types: Record<string, { acks: number; nacks: number }> }[];
  const mine = streams.find((s) => s.node === 'demo/client');
  assert.ok(mine, 'the gRPC client is connected as demo/client');
  assert.is(mine!.flavour, 'proxyless');
  for (const t of ['LDS', 'RDS', 'CDS', 'EDS']) {
    assert.ok(mine!.types[t]?.acks > 0, `${t} ACKed`);
    assert.is(mine!.types[t]?.nacks, 0, `${t} not NACKed`);
  }
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /smi_xds_connected_proxies 1/);
  assert.match(metrics, /smi_xds_acks_total\{protocol="sotw",type="RDS"\} \d+/);
  assert.match(metrics, /smi_compile_duration_seconds_count\{result="error"\} 1/);
});

test.run();
