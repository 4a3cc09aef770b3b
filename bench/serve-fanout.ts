/**
 * Fan-out benchmark: N concurrent ADS streams against one server process serving the
 * generated 1,000-service mesh (restrictive, 1,100 workloads), then a change that affects
 * every proxy, until every stream has ACKed it.
 *
 *   npx tsx bench/serve-fanout.ts [--streams 1000,10000] [--services 1000] [--repeat 2]
 *       [--clients P] [--per-connection 1] [--window 200] [--debounce 25] [--idle 10000]
 *       [--no-incremental] [--settle 12000] [--heap-snapshot DIR] [--plain-js] [--image] [--server-arg OPT] [--server-env K=V]
 *       [--worker] [--worker-idle MS] [--channelz] [--bare] [--permissive] [--client grpc-js|h2] [--cpu-prof] [--cpu-prof-changes DIR] [--json]
 *
 * - The server: bench/serve-child.ts (`startServer --watch`, 127.0.0.1, ephemeral ports) in its
 *   own process, a fresh one per stream count; it reports its memory (process.memoryUsage after
 *   a full GC, RSS as is, peak RSS) and CPU time over IPC.
 * - The clients: P processes of bench/ads-load-client.ts (default one per 2,500 streams), raw
 *   state-of-the-world streams that ACK every response; stream i names workload i mod 1,100
 *   (round-robin, so many streams share a workload), one HTTP/2 connection per stream by
 *   default, as separate Envoys would have. At most `--window` streams per client process wait
 *   for their first config at a time.
 * - The changes, each one file written, four per repeat:
 *   policy A→B: an extra TrafficTarget file, `bench-wide.yaml`, whose destination service admits
 *     one caller (A) now admits every service account of the mesh (B): every proxy gets a new
 *     cluster, endpoints, outbound filter chain, virtual host and root certificate (five types),
 *     and the destination an inbound policy naming everyone;
 *   endpoints B→C and C→B: a pod of that service everyone may now call moves to another IP in
 *     its EndpointSlice (the commonest fan-out: pod churn of a popular service): every proxy gets
 *     one new ClusterLoadAssignment (EDS only);
 *   policy B→A: the admission withdrawn (make-before-break: the cluster goes after the routes).
 *   A stream is done when the version_info it ACKed for each of the five types is the version
 *   of its proxy's full set in the new state, computed beforehand in this process with the
 *   server's own compile and snapshot code (bench/serve-kit.ts `expectedVersions`).
 *
 * `--cpu-prof-changes DIR` profiles the server's CPU over each change alone, from just before the
 * file write to the last stream done (`server-N-K-kind-to.cpuprofile`; bench/cpu-summary.ts reads them).
 *
 * `--heap-snapshot DIR` writes the server's heap before and with the streams (for
 * bench/heap-owners.ts; the snapshot's own memory then spoils the peak RSS of that run).
 *
 * `--plain-js` bundles the server (serve-child.ts, or the bare server) to plain JavaScript with
 * scripts/bundle.mjs, as the container image runs the CLI, and runs it without tsx, whose loader
 * hooks keep a thread and a V8 heap of their own.
 *
 * `--bare` runs bench/ads-bare-server.ts instead: the same grpc-js service with no control plane
 * behind it (one small response per request), for what connections and streams cost by
 * themselves; it measures connecting and memory, and makes no change.
 *
 * `--permissive` serves the permissive variant of the mesh (every proxy may call every service:
 * ≈ 3,800 resources and ≈ 2 MB a proxy at 1,000 services), for what serving a mesh whose output
 * is quadratic costs; it too measures connecting and memory only (the policy change means
 * nothing there).
 *
 * Figures: server RSS (as the OS sees it, and after a full GC), heap (live, after a full GC) and
 * V8's committed heap before the streams (once the server has idled `--settle` ms after its
 * compile), with them, per stream, at its peak and after the changes once idle for `--idle` ms; time to connect
 * all (every stream holding and having ACKed its first config); per change, the time from the
 * file write to the last stream done (debounce and recompile included) and from the new
 * snapshot being served to the last stream done; server CPU and peak RSS. Prints, never asserts.
 */
import { imageEnv } from '../scripts/image-env.mjs';
import { DEFAULT_DEBOUNCE_MS } from '../src/sources/files/watch.ts';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMesh, writeMesh } from './generate-mesh.ts';
import { WIDE_FILE, wideTarget, type Wide } from './mesh-changes.ts';
import type { ServeChildMemory } from './serve-child.ts';
import {
  addServerEnv,
  expectedVersions,
  HERE,
  machine,
  median,
  mib,
  now,
  plainJs,
  quantiles,
  scratchDir,
  sleep,
  spawnIpc,
  startServeChild,
  table,
  type ExpectedVersions,
  type IpcChild,
  type Quantiles,
  type ServeChild,
} from './serve-kit.ts';

interface Options {
  streams: number[];
  services: number;
  repeat: number;
  clients?: number;
  perConnection: number;
  window: number;
  debounceMs: number;
  cpuProf: boolean;
  json: boolean;
  timeoutMs: number;
  idleMs: number;
  incremental: boolean;
  /** The floor: bench/ads-bare-server.ts instead of the xDS server; connections and memory only. */
  bare: boolean;
  /** The permissive variant of the mesh; connections and memory only. */
  permissive: boolean;
  /** The load clients' transport (ads-load-client.ts): grpc-js, or gRPC framing over Node's HTTP/2. */
  client: 'grpc-js' | 'h2';
  /** Compile in the server's compile worker (ServeOptions.compileInWorker). */
  worker: boolean;
  /** The server's compile worker idle time before retirement (ms; its default when absent). */
  workerIdleMs?: number;
  /** grpc-js channelz on (it was, before the server turned it off). */
  channelz: boolean;
  /** How long the server idles after its initial compile before "before streams" is read (ms). */
  settleMs: number;
  /** Where to write the server's heap snapshots before and with the streams (bench/heap-owners.ts reads them). */
  heapSnapshotDir?: string;
  /** Where to write a CPU profile of the server per change (the change's window only). */
  cpuProfChangesDir?: string;
  /** The server bundled to plain JavaScript and run without tsx (serve-kit.ts `plainJs`): what tsx's loader thread costs. */
  plainJs: boolean;
  /** Extra node options for the server process (`--server-arg --max-semi-space-size=4`, repeatable). */
  serverArgs: string[];
  /** Extra environment for the server process only (`--server-env LD_PRELOAD=…`, repeatable): allocator settings. */
  serverEnv: Record<string, string>;
}

function usage(msg: string): never {
  console.error(
    `${msg}\nusage: npx tsx bench/serve-fanout.ts [--streams 1000,10000] [--services 1000] [--repeat 2] [--clients P] [--per-connection 1] [--window 200] [--debounce 25] [--timeout 60000] [--idle 10000] [--no-incremental] [--settle 12000] [--heap-snapshot DIR] [--plain-js] [--image] [--server-arg OPT] [--server-env K=V] [--worker] [--worker-idle MS] [--channelz] [--bare] [--permissive] [--client grpc-js|h2] [--cpu-prof] [--cpu-prof-changes DIR] [--json]`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { streams: [1000, 10000], services: 1000, repeat: 2, perConnection: 1, window: 200, debounceMs: DEFAULT_DEBOUNCE_MS, cpuProf: false, json: false, timeoutMs: 60_000, idleMs: 10_000, incremental: true, bare: false, permissive: false, client: 'grpc-js', worker: false, channelz: false, settleMs: 12_000, plainJs: false, serverArgs: [], serverEnv: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`);
      return v;
    };
    if (a === '--streams') {
      o.streams = (argv[++i] ?? '').split(',').map(Number);
      if (o.streams.some((n) => !Number.isInteger(n) || n < 1 || n > 50_000)) usage('--streams: counts from 1 to 50000, comma-separated');
    } else if (a === '--services') o.services = num();
    else if (a === '--repeat') o.repeat = Math.max(1, Math.min(20, Math.floor(num())));
    else if (a === '--clients') o.clients = Math.max(1, Math.min(16, Math.floor(num())));
    else if (a === '--per-connection') o.perConnection = Math.max(1, Math.floor(num()));
    else if (a === '--window') o.window = Math.max(1, Math.floor(num()));
    else if (a === '--debounce') o.debounceMs = num();
    else if (a === '--timeout') o.timeoutMs = Math.min(600_000, num());
    else if (a === '--idle') o.idleMs = Math.min(120_000, num());
    else if (a === '--no-incremental' || a === '--no-parse-cache') o.incremental = false;
    else if (a === '--settle') o.settleMs = Math.min(120_000, num());
    else if (a === '--plain-js') o.plainJs = true;
    else if (a === '--image') {
      // As the container image runs the server: bundled, and with deploy/Dockerfile's ENV.
      o.plainJs = true;
      Object.assign(o.serverEnv, imageEnv());
    }
    else if (a === '--server-arg') o.serverArgs.push(argv[++i] ?? usage('--server-arg needs a node option'));
    else if (a === '--server-env') {
      if (!addServerEnv(o.serverEnv, argv[++i])) usage('--server-env needs NAME=VALUE');
    } else if (a === '--heap-snapshot') o.heapSnapshotDir = argv[++i] ?? usage('--heap-snapshot needs a directory');
    else if (a === '--bare') o.bare = true;
    else if (a === '--permissive') o.permissive = true;
    else if (a === '--client') {
      const c = argv[++i];
      if (c !== 'grpc-js' && c !== 'h2') usage('--client is grpc-js or h2');
      o.client = c;
    }
    else if (a === '--worker') o.worker = true;
    else if (a === '--worker-idle') o.workerIdleMs = num();
    else if (a === '--channelz') o.channelz = true;
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--cpu-prof-changes') o.cpuProfChangesDir = argv[++i] ?? usage('--cpu-prof-changes needs a directory');
    else if (a === '--json') o.json = true;
    else usage(`unknown argument ${a}`);
  }
  // The server child writes into these: make them, rather than have it die on a missing directory.
  for (const dir of [o.heapSnapshotDir, o.cpuProfChangesDir]) if (dir) mkdirSync(dir, { recursive: true });
  return o;
}

// ── One stream count ───────────────────────────────────────────────────────

interface OpenReport {
  readonly startedAt: number;
  readonly allReadyAt: number;
  readonly ready: number;
  readonly failed: number;
  readonly failures: string[];
  readonly connections: number;
  readonly responses: number;
  readonly bytes: number;
}

interface AwaitReport {
  readonly streams: number;
  readonly done: number;
  readonly lastDoneAt: number;
  readonly doneAt: number[];
  readonly pushed: number;
  readonly responses: number;
  readonly failed: number;
  readonly notDone: unknown[];
  readonly cpuMicros: number;
}

type State = 'A' | 'B' | 'C';
type Kind = 'policy' | 'endpoints';

/** Each repeat: everyone admitted, one of the destination's pods moved and back, then the admission withdrawn. */
const CHANGES: readonly { kind: Kind; to: State }[] = [
  { kind: 'policy', to: 'B' },
  { kind: 'endpoints', to: 'C' },
  { kind: 'endpoints', to: 'B' },
  { kind: 'policy', to: 'A' },
];

interface ChangeResult {
  readonly kind: Kind;
  readonly to: State;
  readonly streams: number;
  readonly done: number;
  readonly failed: number;
  readonly responses: number;
  /** From the file write to the last stream done. */
  readonly writeToAllAckedMs: number;
  /** From the new snapshot being served (pushes start) to the last stream done. */
  readonly servedToAllAckedMs: number;
  readonly doneMs: Quantiles;
  readonly watchMs: number;
  readonly compileMs: number;
  readonly snapshotMs: number;
  readonly pushMs: number;
  readonly serverStreamsEvaluated: number;
  readonly changedProxies: number;
  readonly serverCpuMs: number;
  /** All client processes together, same interval (they share the machine's cores with the server). */
  readonly clientCpuMs: number;
  readonly serverAfter: ServeChildMemory;
  readonly notDone: unknown[];
}

interface CountResult {
  readonly streams: number;
  readonly clients: number;
  readonly connections: number;
  readonly connected: number;
  readonly connectFailures: string[];
  readonly connectMs: number;
  readonly initialBytes: number;
  /** 0.5 s after the server is ready (its compile worker, if any, not retired yet). */
  readonly started: Sample;
  readonly before: Sample;
  readonly connectedMem: Sample;
  /** The same once the server has idled `--settle` ms with the streams (as "before" is read). */
  readonly connectedIdleMem: Sample;
  readonly rssPerStreamKiB: number;
  readonly heapPerStreamKiB: number;
  readonly changes: ChangeResult[];
  readonly peakRss: number;
  /** After the changes and `--idle` ms without traffic. */
  readonly idle: Sample;
}

type Sample = ServeChildMemory & { readonly rssAfterGc: number };

/**
 * RSS as it is (no forced GC: what the OS sees), heap after a full GC (what is live), and RSS
 * after that GC too: the raw figure swings by ± 25 MiB from run to run with where the GC cycle is.
 */
async function sample(server: ServeChild): Promise<Sample> {
  const raw = await server.memory(false);
  const collected = await server.memory(true);
  return { ...collected, rss: raw.rss, rssAfterGc: collected.rss };
}

/** Writes the one file that takes the mesh to `to` (from the state before it in CHANGES). */
function apply(dir: string, wide: Wide, kind: Kind, to: State): void {
  if (kind === 'policy') writeFileSync(join(dir, WIDE_FILE), to === 'A' ? wide.a : wide.b);
  else writeFileSync(join(dir, wide.endpoints.file), to === 'C' ? wide.endpoints.moved : wide.endpoints.original);
}

async function measure(o: Options, dir: string, wide: Wide, expected: Record<State, ExpectedVersions>, nodes: string[], n: number, log: (s: string) => void, script?: string): Promise<CountResult> {
  writeFileSync(join(dir, WIDE_FILE), wide.a);
  writeFileSync(join(dir, wide.endpoints.file), wide.endpoints.original);
  const server: ServeChild = await startServeChild(
    { paths: [dir], watch: true, debounceMs: o.debounceMs, noIncremental: !o.incremental, worker: o.worker, workerIdleMs: o.workerIdleMs, channelz: o.channelz },
    { execArgv: [...o.serverArgs, ...(o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(HERE, 'profiles')] : [])], env: o.serverEnv, ...(script ? { script } : o.bare ? { script: 'ads-bare-server.ts' } : {}) },
  );
  const clients: IpcChild[] = [];
  try {
    await sleep(500);
    const started = await sample(server);
    // The compile worker is retired once idle: "before streams" is the server as it idles.
    const workerIdle = o.worker ? (o.workerIdleMs ?? 30_000) + 1000 : 0;
    if (workerIdle) await sleep(workerIdle);
    // V8's memory reducer compacts the compile's half-empty pages and shrinks the new space once
    // the process has idled ≈ 8 s: "before streams" is the idle server a proxy would connect to
    // (0.5 s after start it held ≈ 70 MiB more, the figure this row gave before `--settle`).
    await sleep(Math.max(0, o.settleMs - 500));
    const before = await sample(server);
    const snap = async (label: string): Promise<void> => {
      if (!o.heapSnapshotDir) return;
      const path = join(o.heapSnapshotDir, `server-${n}-${label}.heapsnapshot`);
      await server.request({ cmd: 'heap-snapshot', path }, 600_000);
      log(`heap snapshot: ${path}`);
    };
    await snap('before');
    const p = o.clients ?? Math.max(1, Math.ceil(n / 2500));
    for (let i = 0; i < p; i++) clients.push(spawnIpc(join(HERE, 'ads-load-client.ts'), [], { label: `client ${i}` }));
    // Stream i names workload i mod W; client c takes a contiguous share of the streams.
    const assigned = Array.from({ length: p }, (_, c) => {
      const from = Math.floor((c * n) / p);
      const to = Math.floor(((c + 1) * n) / p);
      return Array.from({ length: to - from }, (_, k) => nodes[(from + k) % nodes.length]);
    });
    const target = `127.0.0.1:${server.port}`;
    const opened = await Promise.all(
      clients.map((c, i) => c.request<OpenReport>({ cmd: 'open', target, nodes: assigned[i], perConnection: o.perConnection, window: o.window, client: o.client }, 600_000)),
    );
    const connectMs = Math.max(...opened.map((r) => r.allReadyAt)) - Math.min(...opened.map((r) => r.startedAt));
    const connected = opened.reduce((s, r) => s + r.ready, 0);
    await sleep(1000);
    const connectedMem = await sample(server);
    // As "before": the server as it idles between changes, V8's memory reducer having run.
    await sleep(o.settleMs);
    const connectedIdleMem = await sample(server);
    await snap('streams');
    log(
      `${n} streams (${p} client processes, ${opened.reduce((s, r) => s + r.connections, 0)} connections): ${connected} connected and ACKed in ${Math.round(connectMs)} ms; ` +
        `server RSS ${mib(connectedMem.rss).toFixed(0)} MiB (${mib(before.rss).toFixed(0)} before), heap ${mib(connectedMem.heapUsed).toFixed(0)} MiB (${mib(before.heapUsed).toFixed(0)} before)`,
    );

    const changes: ChangeResult[] = [];
    for (let r = 0; r < (staticOnly(o) ? 0 : o.repeat * CHANGES.length); r++) {
      const { kind, to } = CHANGES[r % CHANGES.length];
      const events: { msg: string; at: number; fields: Record<string, any> }[] = [];
      server.on('event', (m) => void events.push(m as never));
      await Promise.all(clients.map((c) => c.request({ cmd: 'expect', versions: expected[to] })));
      const cpu0 = (await server.memory(false)).cpuMicros;
      if (o.cpuProfChangesDir) await server.request({ cmd: 'profile-start' });
      await sleep(200);
      const t0 = now();
      apply(dir, wide, kind, to);
      const reports = await Promise.all(clients.map((c) => c.request<AwaitReport>({ cmd: 'await', timeoutMs: o.timeoutMs }, o.timeoutMs + 30_000)));
      if (o.cpuProfChangesDir) {
        const path = join(o.cpuProfChangesDir, `server-${n}-${r}-${kind}-${to}.cpuprofile`);
        await server.request({ cmd: 'profile-stop', path }, 120_000);
        log(`cpu profile: ${path}`);
      }
      const after = await server.memory(true);
      const served = events.find((e) => e.msg === 'serving snapshot' && e.at >= t0);
      const seen = events.find((e) => e.msg === 'manifests changed; recompiling' && e.at >= t0);
      const lastDone = Math.max(...reports.map((x) => x.lastDoneAt));
      const done = reports.reduce((s, x) => s + x.done, 0);
      const streams = reports.reduce((s, x) => s + x.streams, 0);
      const f = served?.fields ?? {};
      const change: ChangeResult = {
        kind,
        to,
        streams,
        done,
        failed: reports.reduce((s, x) => s + x.failed, 0),
        responses: reports.reduce((s, x) => s + x.responses, 0),
        writeToAllAckedMs: done === streams ? lastDone - t0 : NaN,
        servedToAllAckedMs: done === streams && served ? lastDone - (served.at - (f.pushMs ?? 0)) : NaN,
        doneMs: quantiles(reports.flatMap((x) => x.doneAt.map((d) => d - t0))),
        watchMs: seen ? seen.at - t0 : NaN,
        compileMs: f.compileMs ?? NaN,
        snapshotMs: f.snapshotMs ?? NaN,
        pushMs: f.pushMs ?? NaN,
        serverStreamsEvaluated: f.streams ?? NaN,
        changedProxies: f.changed ?? NaN,
        serverCpuMs: (after.cpuMicros - cpu0) / 1000,
        clientCpuMs: reports.reduce((s, x) => s + x.cpuMicros, 0) / 1000,
        serverAfter: after,
        notDone: reports.flatMap((x) => x.notDone).slice(0, 3),
      };
      changes.push(change);
      log(
        `  ${kind} change → ${to}: ${done}/${streams} streams ACKed it; write → all ACKed ${Math.round(change.writeToAllAckedMs)} ms, ` +
          `served → all ACKed ${Math.round(change.servedToAllAckedMs)} ms (compile ${Math.round(change.compileMs)}, snapshot ${Math.round(change.snapshotMs)}, push loop ${Math.round(change.pushMs)} ms); ` +
          `${change.responses} responses; CPU server ${Math.round(change.serverCpuMs)} ms, clients ${Math.round(change.clientCpuMs)} ms; RSS ${mib(after.rss).toFixed(0)} MiB, peak ${mib(after.maxRss).toFixed(0)} MiB`,
      );
      await sleep(500);
    }
    // Steady state: what the server holds once the changes are over and V8 has had time to shrink its heap.
    await sleep(Math.max(o.idleMs, workerIdle));
    const idle = await sample(server);
    const final = idle;
    return {
      streams: n,
      clients: p,
      connections: opened.reduce((s, r) => s + r.connections, 0),
      connected,
      connectFailures: [...new Set(opened.flatMap((r) => r.failures))],
      connectMs,
      initialBytes: opened.reduce((s, r) => s + r.bytes, 0),
      started,
      before,
      connectedMem,
      connectedIdleMem,
      rssPerStreamKiB: (connectedMem.rss - before.rss) / 1024 / n,
      heapPerStreamKiB: (connectedMem.heapUsed - before.heapUsed) / 1024 / n,
      changes,
      peakRss: final.maxRss,
      idle,
    };
  } finally {
    await Promise.all(clients.map((c) => c.request({ cmd: 'close' }, 30_000).catch(() => c.kill())));
    await Promise.all(clients.map((c) => Promise.race([c.exited, sleep(10_000).then(() => c.kill())])));
    await server.stop();
  }
}

/** Runs that connect and measure memory, and make no change. */
const staticOnly = (o: Options): boolean => o.bare || o.permissive;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string): void => void (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  const dir = scratchDir('smi-bench-fanout-');
  try {
    const gen = generateMesh({ services: o.services, permissive: o.permissive });
    writeMesh(gen, dir);
    const wide = wideTarget(dir, gen.files.map((f) => f.path));
    // The versions every proxy must end up with in each state, computed as the server does.
    writeFileSync(join(dir, WIDE_FILE), wide.a);
    const a = expectedVersions([dir]);
    // (Without changes to make, no other state to compute.)
    writeFileSync(join(dir, WIDE_FILE), wide.b);
    const b = staticOnly(o) ? a : expectedVersions([dir]);
    writeFileSync(join(dir, wide.endpoints.file), wide.endpoints.moved);
    const c = staticOnly(o) ? a : expectedVersions([dir]);
    writeFileSync(join(dir, wide.endpoints.file), wide.endpoints.original);
    const nodes = Object.keys(a).sort();
    const differ = (x: ExpectedVersions, y: ExpectedVersions): string =>
      `${nodes.filter((nd) => Object.keys(x[nd]).some((t) => x[nd][t] !== y[nd][t])).length} proxies, ` +
      `${nodes.reduce((s, nd) => s + Object.keys(x[nd]).filter((t) => x[nd][t] !== y[nd][t]).length, 0)} (proxy, type) pairs`;
    if (o.bare) log('--bare: bench/ads-bare-server.ts (grpc-js, no control plane) instead of the xDS server; connections and memory only');
    log(`mesh: ${o.services} services, ${nodes.length} workloads, ${o.permissive ? 'permissive' : 'restrictive'}${staticOnly(o) ? '; connections and memory only' : '; changes, each one file written:'}`);
    if (!staticOnly(o)) {
      log(`  policy: ${WIDE_FILE} lets ${wide.destination} be called by one service account (A) or by all (B): ${differ(a, b)} change`);
      log(`  endpoints: with everyone admitted, a pod of ${wide.destination} moves to another IP in ${wide.endpoints.file} (B↔C): ${differ(b, c)} change`);
    }
    const results: CountResult[] = [];
    const js = o.plainJs ? await plainJs(o.bare ? 'ads-bare-server.ts' : 'serve-child.ts') : undefined;
    if (js) log(`--plain-js: the server runs as ${js.file}, without tsx`);
    if (o.serverArgs.length || Object.keys(o.serverEnv).length) log(`server process: ${[...Object.entries(o.serverEnv).map(([k, v]) => `${k}=${v}`), ...o.serverArgs].join(' ')}`);
    try {
      for (const n of o.streams) results.push(await measure(o, dir, wide, { A: a, B: b, C: c }, nodes, n, log, js?.file));
    } finally {
      js?.remove();
    }

    const m = await machine();
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ machine: m, options: o, results }, null, 2)}\n`);
      return;
    }
    log('');
    log(`machine: ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, load ${m.load.join(' ')} (clients and server share the cores); load clients over ${o.client}`);
    const rows: (string | number)[][] = [['streams', ...results.map((r) => String(r.streams))]];
    const add = (label: string, pick: (r: CountResult) => number | string): void => void rows.push([label, ...results.map(pick)]);
    add('connections', (r) => r.connections);
    add('connected and ACKed', (r) => r.connected);
    add('time to connect all (ms)', (r) => r.connectMs);
    add('server RSS 0.5 s after start (MiB)', (r) => mib(r.started.rss));
    add('server RSS before streams (MiB)', (r) => mib(r.before.rss));
    add('  the same after a full GC (MiB)', (r) => mib(r.before.rssAfterGc));
    add('server heap before streams (MiB, after GC)', (r) => mib(r.before.heapUsed));
    add('  V8 heap committed / of it new space (MiB)', (r) => committed(r.before));
    add('  RSS: malloc (brk) / other anon / files / lazily freed (MiB)', (r) => mapping(r.before));
    add('server RSS with streams (MiB)', (r) => mib(r.connectedMem.rss));
    add('  the same after a full GC (MiB)', (r) => mib(r.connectedMem.rssAfterGc));
    add('server heap with streams (MiB, after GC)', (r) => mib(r.connectedMem.heapUsed));
    add('  V8 heap committed / of it new space (MiB)', (r) => committed(r.connectedMem));
    add('  RSS: malloc (brk) / other anon / files / lazily freed (MiB)', (r) => mapping(r.connectedMem));
    add('server RSS with streams, after idling --settle ms (MiB)', (r) => mib(r.connectedIdleMem.rss));
    add('  V8 heap committed / of it new space (MiB)', (r) => committed(r.connectedIdleMem));
    add('  RSS: malloc (brk) / other anon / files / lazily freed (MiB)', (r) => mapping(r.connectedIdleMem));
    add('server RSS after the changes, idle (MiB)', (r) => mib(r.idle.rss));
    add('  the same after a full GC (MiB)', (r) => mib(r.idle.rssAfterGc));
    add('  heap used / total (MiB)', (r) => `${mib(r.idle.heapUsed).toFixed(0)} / ${mib(r.idle.heapTotal).toFixed(0)}`);
    add('  V8 heap committed / of it new space (MiB)', (r) => committed(r.idle));
    add('  RSS: malloc (brk) / other anon / files / lazily freed (MiB)', (r) => mapping(r.idle));
    add('  external, array buffers (MiB)', (r) => `${mib(r.idle.external).toFixed(0)}, ${mib(r.idle.arrayBuffers).toFixed(0)}`);
    add('RSS per stream (KiB)', (r) => r.rssPerStreamKiB);
    add('heap per stream (KiB)', (r) => r.heapPerStreamKiB);
    add('server peak RSS (MiB)', (r) => mib(r.peakRss));
    const med = median;
    // The bare server (ads-bare-server.ts) does not report these.
    function committed(m: ServeChildMemory): string {
      return m.heapCommitted === undefined ? '-' : `${mib(m.heapCommitted).toFixed(0)} / ${mib(m.newSpace).toFixed(0)}`;
    }
    function mapping(m: ServeChildMemory): string {
      return m.mapped ? `${mib(m.mapped.brk).toFixed(0)} / ${mib(m.mapped.anon).toFixed(0)} / ${mib(m.mapped.file).toFixed(0)} / ${mib(m.mapped.lazyFree ?? 0).toFixed(0)}` : '-';
    }
    const maxOf = (xs: number[]): number => quantiles(xs).max;
    for (const kind of ['policy', 'endpoints'] as const) {
      const of = (r: CountResult): ChangeResult[] => r.changes.filter((c) => c.kind === kind);
      add(`${kind} change: write → all ACKed (ms, median)`, (r) => med(of(r).map((c) => c.writeToAllAckedMs)));
      add(`  worst`, (r) => maxOf(of(r).map((c) => c.writeToAllAckedMs)));
      add('  watch (event + debounce)', (r) => med(of(r).map((c) => c.watchMs)));
      add('  compile', (r) => med(of(r).map((c) => c.compileMs)));
      add('  snapshot', (r) => med(of(r).map((c) => c.snapshotMs)));
      add('  push loop (evaluate all, hand to gRPC)', (r) => med(of(r).map((c) => c.pushMs)));
      add(`  served → all ACKed (ms, median)`, (r) => med(of(r).map((c) => c.servedToAllAckedMs)));
      add(`  served → all ACKed (ms, worst)`, (r) => maxOf(of(r).map((c) => c.servedToAllAckedMs)));
      add('  responses per change', (r) => med(of(r).map((c) => c.responses)));
      add('  server CPU per change (ms)', (r) => med(of(r).map((c) => c.serverCpuMs)));
      add('  client processes\' CPU (ms)', (r) => med(of(r).map((c) => c.clientCpuMs)));
    }
    add('streams that missed a change', (r) => r.changes.reduce((s, c) => s + (c.streams - c.done) + c.failed, 0));
    log(table(rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
