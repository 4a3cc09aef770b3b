/**
 * Replicas: R `serve` processes (bench/serve-child.ts) behind one address (bench/tcp-balancer.ts,
 * round robin per connection, as a Kubernetes Service spreads them), N streams through it
 * (bench/ads-load-client.ts, one connection per stream, reconnecting as Envoy does), then one
 * replica killed (SIGKILL): its streams reconnect through the balancer to the others.
 *
 *   npx tsx bench/serve-replicas.ts [--replicas 2,3] [--streams 10000] [--services 1000]
 *       [--protocol sotw,delta] [--reconnect-ms 500] [--clients P] [--window 200] [--settle 5000] [--json]
 *
 * A reconnecting stream tells what it holds, as Envoy does: state of the world, the version_info
 * it last ACKed per type; delta, `initial_resource_versions` (every resource's name and version).
 * Versions are content hashes, the same on every replica, so the survivor knows exactly what the
 * stream holds. Measured per (replica count, protocol):
 *
 * - the spread: streams per replica (the servers' own gauge) and each replica's RSS;
 * - after the kill: time until the surviving replicas hold every stream again (their gauges sum
 *   to N) and, state of the world, until every cut stream has had all five types answered on its
 *   new stream; the reconnect delay is Envoy's first retry, jittered in [0, `--reconnect-ms`);
 * - bytes received by all streams from the kill until quiet, and of those the bytes of what the
 *   stream already held (SotW: responses whose version_info equals the one it had ACKed; delta:
 *   resources whose version it had), against the bytes of the cut streams' first config;
 * - the survivors' CPU from the kill to settled, and that every stream still holds exactly the
 *   mesh's versions afterwards.
 *
 * Prints, never asserts.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { generateMesh, writeMesh } from './generate-mesh.ts';
import { startBalancer } from './tcp-balancer.ts';
import {
  expectedVersions,
  HERE,
  machine,
  mib,
  now,
  scratchDir,
  sleep,
  spawnIpc,
  startServeChild,
  table,
  type ExpectedVersions,
  type IpcChild,
  type ServeChild,
} from './serve-kit.ts';
import { rmSync } from 'node:fs';

type Protocol = 'sotw' | 'delta';

interface Options {
  replicas: number[];
  streams: number;
  services: number;
  protocols: Protocol[];
  reconnectMs: number;
  clients?: number;
  window: number;
  settleMs: number;
  timeoutMs: number;
  json: boolean;
}

function usage(msg: string): never {
  console.error(`${msg}\nusage: npx tsx bench/serve-replicas.ts [--replicas 2,3] [--streams 10000] [--services 1000] [--protocol sotw,delta] [--reconnect-ms 500] [--clients P] [--window 200] [--settle 5000] [--timeout 180000] [--json]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { replicas: [2, 3], streams: 10_000, services: 1000, protocols: ['sotw', 'delta'], reconnectMs: 500, window: 200, settleMs: 5000, timeoutMs: 180_000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`);
      return v;
    };
    if (a === '--replicas') {
      o.replicas = (argv[++i] ?? '').split(',').map(Number);
      if (o.replicas.some((n) => !Number.isInteger(n) || n < 2 || n > 8)) usage('--replicas: counts from 2 to 8, comma-separated');
    } else if (a === '--streams') o.streams = Math.max(1, Math.min(50_000, Math.floor(num())));
    else if (a === '--services') o.services = num();
    else if (a === '--protocol') {
      o.protocols = (argv[++i] ?? '').split(',') as Protocol[];
      if (o.protocols.some((p) => p !== 'sotw' && p !== 'delta')) usage('--protocol: sotw, delta or both');
    } else if (a === '--reconnect-ms') o.reconnectMs = num();
    else if (a === '--clients') o.clients = Math.max(1, Math.min(16, Math.floor(num())));
    else if (a === '--window') o.window = Math.max(1, Math.floor(num()));
    else if (a === '--settle') o.settleMs = Math.min(120_000, num());
    else if (a === '--timeout') o.timeoutMs = Math.min(600_000, num());
    else if (a === '--json') o.json = true;
    else usage(`unknown argument ${a}`);
  }
  return o;
}

interface OpenReport {
  readonly startedAt: number;
  readonly allReadyAt: number;
  readonly ready: number;
  readonly failures: string[];
  readonly bytes: number;
}

interface Report {
  readonly bytes: number;
  readonly responses: number;
  readonly resentResponses: number;
  readonly resentResources: number;
  readonly resentBytes: number;
  readonly resources: number;
  readonly lastAt: number;
  readonly streams: number;
  readonly cut: number;
  readonly cuts: number;
  readonly reopened: number;
  readonly reanswered: number;
  readonly lastReanswerAt: number;
  readonly failed: number;
}

interface AwaitReport {
  readonly streams: number;
  readonly done: number;
}

interface RunResult {
  readonly replicas: number;
  readonly protocol: Protocol;
  readonly connected: number;
  readonly connectMs: number;
  /** Per replica: streams (its gauge) and RSS, with every stream connected. */
  readonly spread: { streams: number; rss: number }[];
  readonly initialBytes: number;
  readonly killedStreams: number;
  readonly cut: number;
  /** From the kill until the survivors' gauges sum to every stream. */
  readonly streamsBackMs: number;
  /** SotW: until every cut stream had all five types answered again (NaN for delta). */
  readonly reansweredMs: number;
  readonly settledMs: number;
  readonly bytes: number;
  readonly responses: number;
  readonly resentBytes: number;
  readonly resentResponses: number;
  readonly resentResources: number;
  readonly resources: number;
  readonly survivorsCpuMs: number;
  readonly survivors: { streams: number; rss: number }[];
  readonly holdExactly: number;
  readonly failed: number;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

async function measure(o: Options, meshDir: string, expected: ExpectedVersions, nodes: string[], replicas: number, protocol: Protocol, log: (s: string) => void): Promise<RunResult> {
  const servers: ServeChild[] = [];
  const clients: IpcChild[] = [];
  let balancer: Awaited<ReturnType<typeof startBalancer>> | undefined;
  try {
    for (let r = 0; r < replicas; r++) servers.push(await startServeChild({ paths: [meshDir], watch: false }));
    balancer = await startBalancer(servers.map((s) => s.port));
    const p = o.clients ?? Math.max(1, Math.ceil(o.streams / 2500));
    for (let i = 0; i < p; i++) clients.push(spawnIpc(join(HERE, 'ads-load-client.ts'), [], { label: `client ${i}` }));
    const assigned = Array.from({ length: p }, (_, c) => {
      const from = Math.floor((c * o.streams) / p);
      const to = Math.floor(((c + 1) * o.streams) / p);
      return Array.from({ length: to - from }, (_, k) => nodes[(from + k) % nodes.length]);
    });
    const target = `127.0.0.1:${balancer.port}`;
    const opened = await Promise.all(
      clients.map((c, i) => c.request<OpenReport>({ cmd: 'open', target, nodes: assigned[i], perConnection: 1, window: o.window, client: 'h2', protocol, reconnect: true, reconnectMs: o.reconnectMs, versions: expected }, 900_000)),
    );
    const connected = sum(opened.map((r) => r.ready));
    const connectMs = Math.max(...opened.map((r) => r.allReadyAt)) - Math.min(...opened.map((r) => r.startedAt));
    const initialBytes = sum(opened.map((r) => r.bytes));
    await sleep(o.settleMs);
    const mem = await Promise.all(servers.map((s) => s.memory(false)));
    const spread = mem.map((m) => ({ streams: m.streams, rss: m.rss }));
    log(`${replicas} replicas, ${protocol}: ${connected}/${o.streams} streams connected in ${Math.round(connectMs)} ms; per replica ${spread.map((s) => `${s.streams} streams, ${mib(s.rss).toFixed(0)} MiB`).join('; ')}`);

    // Kill the replica with the most streams (round robin: the first).
    const victim = mem.reduce((best, m, i) => (m.streams > mem[best].streams ? i : best), 0);
    const survivors = servers.filter((_, i) => i !== victim);
    await Promise.all(clients.map((c) => c.request({ cmd: 'mark' })));
    const cpu0 = sum((await Promise.all(survivors.map((s) => s.memory(false)))).map((m) => m.cpuMicros));
    const t0 = now();
    balancer.remove(servers[victim].port);
    servers[victim].kill();
    let streamsBackAt = NaN;
    let reansweredAt = NaN;
    let reports: Report[] = [];
    while (now() - t0 < o.timeoutMs) {
      await sleep(50);
      const onSurvivors = sum((await Promise.all(survivors.map((s) => s.memory(false)))).map((m) => m.streams));
      reports = await Promise.all(clients.map((c) => c.request<Report>({ cmd: 'report' })));
      // Every stream that is still the client's (connected, not failed since).
      if (Number.isNaN(streamsBackAt) && onSurvivors >= connected - sum(reports.map((r) => r.failed))) streamsBackAt = now();
      const cut = sum(reports.map((r) => r.cut));
      if (protocol === 'sotw' && Number.isNaN(reansweredAt) && cut > 0 && sum(reports.map((r) => r.reanswered)) >= cut) reansweredAt = Math.max(...reports.map((r) => r.lastReanswerAt));
      if (!Number.isNaN(streamsBackAt) && (protocol === 'delta' || !Number.isNaN(reansweredAt))) break;
    }
    const cpu1 = sum((await Promise.all(survivors.map((s) => s.memory(false)))).map((m) => m.cpuMicros));
    // Quiet: whatever else the survivors had to say has arrived.
    await sleep(2000);
    reports = await Promise.all(clients.map((c) => c.request<Report>({ cmd: 'report' })));
    await Promise.all(clients.map((c) => c.request({ cmd: 'expect', versions: expected })));
    const held = await Promise.all(clients.map((c) => c.request<AwaitReport>({ cmd: 'await', timeoutMs: 10_000 }, 30_000)));
    const after = await Promise.all(survivors.map((s) => s.memory(false)));
    const settledAt = Math.max(streamsBackAt, protocol === 'sotw' ? reansweredAt : -Infinity);
    const result: RunResult = {
      replicas,
      protocol,
      connected,
      connectMs,
      spread,
      initialBytes,
      killedStreams: mem[victim].streams,
      cut: sum(reports.map((r) => r.cut)),
      streamsBackMs: streamsBackAt - t0,
      reansweredMs: reansweredAt - t0,
      settledMs: settledAt - t0,
      bytes: sum(reports.map((r) => r.bytes)),
      responses: sum(reports.map((r) => r.responses)),
      resentBytes: sum(reports.map((r) => r.resentBytes)),
      resentResponses: sum(reports.map((r) => r.resentResponses)),
      resentResources: sum(reports.map((r) => r.resentResources)),
      resources: sum(reports.map((r) => r.resources)),
      survivorsCpuMs: (cpu1 - cpu0) / 1000,
      survivors: after.map((m) => ({ streams: m.streams, rss: m.rss })),
      holdExactly: sum(held.map((h) => h.done)),
      failed: sum(reports.map((r) => r.failed)),
    };
    log(
      `  killed replica ${victim + 1} (${result.killedStreams} streams): ${result.cut} streams cut; survivors hold every stream after ${Math.round(result.streamsBackMs)} ms` +
        `${protocol === 'sotw' ? `, every cut stream answered again after ${Math.round(result.reansweredMs)} ms` : ''}; received ${(result.bytes / 1e6).toFixed(2)} MB in ${result.responses} responses, ` +
        `${(result.resentBytes / 1e6).toFixed(2)} MB of it already held (${result.resentResources} resources); survivors' CPU ${Math.round(result.survivorsCpuMs)} ms; ${result.holdExactly}/${o.streams} hold exactly the mesh's versions`,
    );
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.request({ cmd: 'close' }, 30_000).catch(() => c.kill())));
    await Promise.all(clients.map((c) => Promise.race([c.exited, sleep(10_000).then(() => c.kill())])));
    await balancer?.close();
    await Promise.all(servers.map((s) => (s.process.exitCode === null && s.process.signalCode === null ? s.stop() : Promise.resolve())));
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string): void => void (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  const dir = scratchDir('smi-bench-replicas-');
  try {
    writeMesh(generateMesh({ services: o.services, permissive: false }), dir);
    const expected = expectedVersions([dir]);
    const nodes = Object.keys(expected).sort();
    log(`mesh: ${o.services} services, ${nodes.length} workloads; ${o.streams} streams through a TCP balancer (round robin per connection), reconnect delay uniform in [0, ${o.reconnectMs}) ms`);
    const results: RunResult[] = [];
    for (const r of o.replicas) for (const p of o.protocols) results.push(await measure(o, dir, expected, nodes, r, p, log));
    const m = await machine();
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: join(HERE, '..'), encoding: 'utf8' }).trim();
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ machine: m, commit, options: o, results }, null, 2)}\n`);
      return;
    }
    log('');
    log(`machine: ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, load ${m.load.join(' ')}; commit ${commit}; ${o.streams} streams, one replica killed`);
    const rows: (string | number)[][] = [['', ...results.map((r) => `${r.replicas} × ${r.protocol}`)]];
    const add = (label: string, pick: (r: RunResult) => number | string): void => void rows.push([label, ...results.map(pick)]);
    add('streams connected', (r) => r.connected);
    add('time to connect all (ms)', (r) => r.connectMs);
    add('streams per replica', (r) => r.spread.map((s) => s.streams).join(' / '));
    add('RSS per replica (MiB)', (r) => r.spread.map((s) => mib(s.rss).toFixed(0)).join(' / '));
    add('streams on the killed replica', (r) => r.killedStreams);
    add('streams cut (client side)', (r) => r.cut);
    add('kill → survivors hold every stream (ms)', (r) => r.streamsBackMs);
    add('kill → every cut stream answered again (ms, SotW)', (r) => r.reansweredMs);
    add('bytes received after the kill (MB)', (r) => r.bytes / 1e6);
    add('  of it already held (MB)', (r) => r.resentBytes / 1e6);
    add('  resources resent / received', (r) => `${r.resentResources} / ${r.resources}`);
    add('  responses', (r) => r.responses);
    add('first config of all streams, for scale (MB)', (r) => r.initialBytes / 1e6);
    add('survivors\' CPU, kill → settled (ms)', (r) => r.survivorsCpuMs);
    add('streams per survivor after', (r) => r.survivors.map((s) => s.streams).join(' / '));
    add('RSS per survivor after (MiB)', (r) => r.survivors.map((s) => mib(s.rss).toFixed(0)).join(' / '));
    add('streams holding exactly the mesh after', (r) => r.holdExactly);
    add('streams failed', (r) => r.failed);
    log(table(rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
