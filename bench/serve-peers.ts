/**
 * Our xDS server side by side with go-control-plane's, in one run, on one machine, driven by the
 * same load client processes (bench/ads-load-client.ts): N streams (default 10,000) against the
 * generated 1,000-service mesh (1,100 workloads), then changes, each checked by the versions
 * every stream must end up having ACKed.
 *
 *   npx tsx bench/serve-peers.ts [--streams 10000] [--services 1000] [--repeat 2] [--clients P]
 *       [--window 200] [--client h2|grpc-js] [--settle 12000] [--only ours|gcp] [--tsx] [--profile-dir DIR] [--json]
 *
 * - Ours: bench/serve-child.ts (`startServer --watch` on the manifests), run as the container
 *   image runs the server (bundled to plain JavaScript, deploy/Dockerfile's ENV: serve-kit.ts
 *   `plainJs`, `imageEnv`; `--tsx` runs it under tsx instead, whose loader thread holds a V8 heap
 *   of its own); a change is one file written, and what it costs includes noticing the write,
 *   the recompile and the snapshot.
 * - go-control-plane (bench/peers/go-control-plane, the version its go.mod pins; built and cached
 *   by bench/peers/build.sh): an ADS server on its SimpleCache, loaded from our compiled output:
 *   each state of the mesh is compiled by the CLI (`compile -o`), its tree turned into wire bytes
 *   by bench/peers/export-tree.ts (same node ids, same version_info: the export's versions are
 *   checked equal to ours below). It compiles nothing: before each change it decodes the next
 *   state (untimed, its CPU not counted), and the change is `SetSnapshot` for every node whose
 *   versions changed, so its figures are go-control-plane's serving alone, a floor for any
 *   control plane built on it.
 * - The changes (bench/mesh-changes.ts), each repeat: global A→B (a TrafficTarget admits every
 *   service account: every proxy gets a new cluster, endpoints, listener chain, route and root
 *   certificate), one-proxy B→D and D→B (a ServiceAccount no workload runs as joins its sources:
 *   only the destination's inbound policy changes), global B→A.
 *
 * Figures, per server: RSS before the streams and held with them (as the OS sees it, after
 * idling `--settle` ms; and after a forced GC: V8's full GC, or Go's runtime.GC + FreeOSMemory),
 * time to connect every stream, and per change: time from the change (the file write; the
 * commit) to the last stream having ACKed it, server CPU from the change to that moment, and
 * responses sent. `--profile-dir` writes a CPU profile of each server per change (V8
 * .cpuprofile, read with bench/cpu-summary.ts; Go pprof, `go tool pprof -top BINARY FILE`).
 * Prints, never asserts.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { imageEnv } from '../scripts/image-env.mjs';
import { DEFAULT_DEBOUNCE_MS } from '../src/sources/files/watch.ts';
import { generateMesh, writeMesh } from './generate-mesh.ts';
import { WIDE_FILE, wideTarget, type Wide } from './mesh-changes.ts';
import { exportTree } from './peers/export-tree.ts';
import {
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
  type ServeChild,
} from './serve-kit.ts';

type State = 'A' | 'B' | 'D';
type Kind = 'global' | 'one-proxy';
const CHANGES: readonly { kind: Kind; to: State }[] = [
  { kind: 'global', to: 'B' },
  { kind: 'one-proxy', to: 'D' },
  { kind: 'one-proxy', to: 'B' },
  { kind: 'global', to: 'A' },
];
const SERVERS = ['ours', 'gcp'] as const;
type ServerName = (typeof SERVERS)[number];
const TITLE: Record<ServerName, string> = { ours: 'smi-compile serve', gcp: 'go-control-plane' };

interface Options {
  streams: number;
  services: number;
  repeat: number;
  clients?: number;
  window: number;
  client: 'h2' | 'grpc-js';
  settleMs: number;
  timeoutMs: number;
  only?: ServerName;
  /** Ours under tsx rather than bundled with the image's ENV. */
  tsx: boolean;
  profileDir?: string;
  json: boolean;
}

function usage(msg: string): never {
  console.error(`${msg}\nusage: npx tsx bench/serve-peers.ts [--streams 10000] [--services 1000] [--repeat 2] [--clients P] [--window 200] [--client h2|grpc-js] [--settle 12000] [--timeout 120000] [--only ours|gcp] [--tsx] [--profile-dir DIR] [--json]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { streams: 10_000, services: 1000, repeat: 2, window: 200, client: 'h2', settleMs: 12_000, timeoutMs: 120_000, tsx: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`);
      return v;
    };
    if (a === '--streams') o.streams = Math.max(1, Math.min(50_000, Math.floor(num())));
    else if (a === '--services') o.services = num();
    else if (a === '--repeat') o.repeat = Math.max(1, Math.min(20, Math.floor(num())));
    else if (a === '--clients') o.clients = Math.max(1, Math.min(16, Math.floor(num())));
    else if (a === '--window') o.window = Math.max(1, Math.floor(num()));
    else if (a === '--client') {
      const c = argv[++i];
      if (c !== 'h2' && c !== 'grpc-js') usage('--client is h2 or grpc-js');
      o.client = c;
    } else if (a === '--settle') o.settleMs = Math.min(120_000, num());
    else if (a === '--timeout') o.timeoutMs = Math.min(600_000, num());
    else if (a === '--only') {
      const s = argv[++i];
      if (s !== 'ours' && s !== 'gcp') usage('--only is ours or gcp');
      o.only = s;
    } else if (a === '--tsx') o.tsx = true;
    else if (a === '--profile-dir') o.profileDir = argv[++i] ?? usage('--profile-dir needs a directory');
    else if (a === '--json') o.json = true;
    else usage(`unknown argument ${a}`);
  }
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  return o;
}

// ── The two servers behind one interface ────────────────────────────────────

interface Stat {
  readonly rss: number;
  readonly maxRss: number;
  readonly cpuMicros: number;
  /** V8's heap used, or Go's heap in use. */
  readonly heap: number;
}

interface Peer {
  readonly port: number;
  stat(gc: boolean): Promise<Stat>;
  /** CPU time so far (µs), read cheaply. */
  cpu(): Promise<number>;
  /** Untimed work before a change (go-control-plane: decode the next state). */
  prepare(to: State): Promise<void>;
  /** Makes the change; resolves at once (the streams' ACKs say when it is served). */
  apply(to: State): Promise<void>;
  profileStart(path: string): Promise<void>;
  profileStop(): Promise<void>;
  /** Server-side timings of the last change, where the server reports them. */
  readonly events: { msg: string; at: number; fields: Record<string, number> }[];
  stop(): Promise<void>;
}

async function startOurs(meshDir: string, wide: Wide, script: string | undefined): Promise<Peer> {
  const server: ServeChild = await startServeChild({ paths: [meshDir], watch: true, debounceMs: DEFAULT_DEBOUNCE_MS }, script ? { script, env: imageEnv() } : {});
  const events: Peer['events'] = [];
  server.on('event', (m) => void events.push(m as never));
  let profilePath = '';
  return {
    port: server.port,
    events,
    async stat(gc) {
      const m = await server.memory(gc);
      return { rss: m.rss, maxRss: m.maxRss, cpuMicros: m.cpuMicros, heap: m.heapUsed };
    },
    cpu: () => server.request<number>({ cmd: 'cpu' }),
    prepare: async () => undefined,
    apply: async (to) => writeFileSync(join(meshDir, WIDE_FILE), stateText(wide, to)),
    async profileStart(path) {
      profilePath = path;
      await server.request({ cmd: 'profile-start' });
    },
    profileStop: () => server.request({ cmd: 'profile-stop', path: profilePath }, 120_000),
    stop: () => server.stop(),
  };
}

/** The Go server's line protocol (main.go): one command, one answer line, in order. */
async function startGcp(binary: string, states: Record<State, string>): Promise<Peer> {
  const child: ChildProcessWithoutNullStreams = spawn('sh', ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$@"', 'sh', binary, states.A], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-5000)));
  const waiting: ((line: string) => void)[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => waiting.shift()?.(line));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(() => reject(new Error(`go-control-plane server exited: ${stderr}`)));
    });
  const ask = async (cmd: string): Promise<string[]> => {
    const answer = next();
    child.stdin.write(`${cmd}\n`);
    const words = (await answer).split(' ');
    if (words[0] === 'error') throw new Error(`go-control-plane server: ${cmd}: ${words.slice(1).join(' ')}`);
    return words;
  };
  const ready = (await next()).split(' ');
  if (ready[0] !== 'ready') throw new Error(`go-control-plane server: ${ready.join(' ')} ${stderr}`);
  return {
    port: Number(ready[1]),
    events: [],
    async stat(gc) {
      const [, rss, maxRss, cpu, heap] = (await ask(gc ? 'gc' : 'stat')).map(Number);
      return { rss, maxRss, cpuMicros: cpu, heap };
    },
    cpu: async () => Number((await ask('stat'))[3]),
    prepare: async (to) => void (await ask(`prepare ${states[to]}`)),
    apply: async () => void (await ask('commit')),
    profileStart: async (path) => void (await ask(`profile-start ${path}`)),
    profileStop: async () => void (await ask('profile-stop')),
    async stop() {
      await Promise.race([ask('quit').catch(() => undefined), sleep(10_000)]);
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const stateText = (wide: Wide, s: State): string => (s === 'A' ? wide.a : s === 'B' ? wide.b : wide.one);

// ── One server's run ────────────────────────────────────────────────────────

interface ChangeResult {
  readonly kind: Kind;
  readonly to: State;
  readonly streams: number;
  readonly done: number;
  readonly changeToAllAckedMs: number;
  /** Of the streams the change affected, when each had ACKed it (ms from the change). */
  readonly doneMs: ReturnType<typeof quantiles>;
  readonly serverCpuMs: number;
  readonly responses: number;
  /** Ours: the recompile's and snapshot's own timings (its `serving snapshot` log line). */
  readonly compileMs: number;
  readonly servedToAllAckedMs: number;
}

interface ServerResult {
  readonly server: ServerName;
  readonly connected: number;
  readonly connectMs: number;
  readonly initialBytes: number;
  readonly before: Stat;
  readonly beforeGc: Stat;
  readonly held: Stat;
  readonly heldGc: Stat;
  readonly changes: ChangeResult[];
  readonly peakRss: number;
}

interface OpenReport {
  readonly startedAt: number;
  readonly allReadyAt: number;
  readonly ready: number;
  readonly failures: string[];
  readonly bytes: number;
}

interface AwaitReport {
  readonly streams: number;
  readonly done: number;
  readonly lastDoneAt: number;
  readonly doneAt: number[];
  readonly responses: number;
  readonly expectedAt: number;
}

async function runServer(name: ServerName, peer: Peer, o: Options, nodes: string[], expected: Record<State, ExpectedVersions>, log: (s: string) => void): Promise<ServerResult> {
  const clients: IpcChild[] = [];
  try {
    await sleep(o.settleMs);
    const before = await peer.stat(false);
    const beforeGc = await peer.stat(true);
    const p = o.clients ?? Math.max(1, Math.ceil(o.streams / 2500));
    for (let i = 0; i < p; i++) clients.push(spawnIpc(join(HERE, 'ads-load-client.ts'), [], { label: `client ${i}` }));
    const assigned = Array.from({ length: p }, (_, c) => {
      const from = Math.floor((c * o.streams) / p);
      const to = Math.floor(((c + 1) * o.streams) / p);
      return Array.from({ length: to - from }, (_, k) => nodes[(from + k) % nodes.length]);
    });
    const target = `127.0.0.1:${peer.port}`;
    const opened = await Promise.all(clients.map((c, i) => c.request<OpenReport>({ cmd: 'open', target, nodes: assigned[i], perConnection: 1, window: o.window, client: o.client }, 900_000)));
    const connectMs = Math.max(...opened.map((r) => r.allReadyAt)) - Math.min(...opened.map((r) => r.startedAt));
    const connected = opened.reduce((s, r) => s + r.ready, 0);
    // Every stream must hold state A exactly (the same check as after a change).
    await Promise.all(clients.map((c) => c.request({ cmd: 'expect', versions: expected.A })));
    const initial = await Promise.all(clients.map((c) => c.request<AwaitReport>({ cmd: 'await', timeoutMs: 30_000 }, 60_000)));
    const initialDone = initial.reduce((s, r) => s + r.done, 0);
    await sleep(o.settleMs);
    const held = await peer.stat(false);
    const heldGc = await peer.stat(true);
    log(
      `${TITLE[name]}: ${connected}/${o.streams} streams connected in ${Math.round(connectMs)} ms, ${initialDone} hold state A exactly` +
        `${opened.some((r) => r.failures.length) ? ` (failures: ${[...new Set(opened.flatMap((r) => r.failures))].join('; ')})` : ''}; RSS ${mib(held.rss).toFixed(0)} MiB (${mib(before.rss).toFixed(0)} before)`,
    );
    const changes: ChangeResult[] = [];
    for (let r = 0; r < o.repeat * CHANGES.length; r++) {
      const { kind, to } = CHANGES[r % CHANGES.length];
      await peer.prepare(to);
      await Promise.all(clients.map((c) => c.request({ cmd: 'expect', versions: expected[to] })));
      await sleep(200);
      if (o.profileDir) await peer.profileStart(join(o.profileDir, `${name}-${r}-${kind}-${to}.${name === 'gcp' ? 'pprof' : 'cpuprofile'}`));
      const cpu0 = await peer.cpu();
      const t0 = now();
      await peer.apply(to);
      const reports = await Promise.all(clients.map((c) => c.request<AwaitReport>({ cmd: 'await', timeoutMs: o.timeoutMs }, o.timeoutMs + 30_000)));
      const cpu1 = await peer.cpu();
      if (o.profileDir) await peer.profileStop();
      const done = reports.reduce((s, x) => s + x.done, 0);
      const streams = reports.reduce((s, x) => s + x.streams, 0);
      const lastDone = Math.max(...reports.map((x) => x.lastDoneAt));
      // Streams whose proxy the change did not touch are done when the expectation is armed.
      const affected = reports.flatMap((x) => x.doneAt.filter((d) => d > x.expectedAt).map((d) => d - t0));
      const served = peer.events.find((e) => e.msg === 'serving snapshot' && e.at >= t0);
      const f = served?.fields ?? ({} as Record<string, number>);
      const change: ChangeResult = {
        kind,
        to,
        streams,
        done,
        changeToAllAckedMs: done === streams ? lastDone - t0 : NaN,
        doneMs: quantiles(affected),
        serverCpuMs: (cpu1 - cpu0) / 1000,
        responses: reports.reduce((s, x) => s + x.responses, 0),
        compileMs: f.compileMs ?? NaN,
        servedToAllAckedMs: served && done === streams ? lastDone - (served.at - (f.pushMs ?? 0)) : NaN,
      };
      changes.push(change);
      log(
        `  ${kind} → ${to}: ${done}/${streams} streams ACKed it (${affected.length} affected); change → all ACKed ${Math.round(change.changeToAllAckedMs)} ms; ` +
          `server CPU ${Math.round(change.serverCpuMs)} ms; ${change.responses} responses${served ? `; compile ${Math.round(change.compileMs)} ms, served → all ACKed ${Math.round(change.servedToAllAckedMs)} ms` : ''}`,
      );
      await sleep(500);
    }
    const last = await peer.stat(false);
    return { server: name, connected, connectMs, initialBytes: opened.reduce((s, r) => s + r.bytes, 0), before, beforeGc, held, heldGc, changes, peakRss: last.maxRss };
  } finally {
    await Promise.all(clients.map((c) => c.request({ cmd: 'close' }, 30_000).catch(() => c.kill())));
    await Promise.all(clients.map((c) => Promise.race([c.exited, sleep(10_000).then(() => c.kill())])));
    await peer.stop();
  }
}

/** The go-control-plane version go.mod pins, and the grpc-go beside it. */
function gcpVersions(): string {
  const mod = readFileSync(join(HERE, 'peers', 'go-control-plane', 'go.mod'), 'utf8');
  const v = (m: string): string => new RegExp(`^\\s*${m.replace(/[./]/g, '\\$&')} (\\S+)`, 'm').exec(mod)?.[1] ?? '?';
  return `go-control-plane ${v('github.com/envoyproxy/go-control-plane')} (envoy protos ${v('github.com/envoyproxy/go-control-plane/envoy')}), grpc-go ${v('google.golang.org/grpc')}`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string): void => void (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  const dir = scratchDir('smi-bench-peers-');
  try {
    const binary = o.only === 'ours' ? '' : execFileSync('bash', [join(HERE, 'peers', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const meshDir = join(dir, 'mesh');
    const gen = generateMesh({ services: o.services, permissive: false });
    writeMesh(gen, meshDir);
    const wide = wideTarget(meshDir, gen.files.map((f) => f.path));
    const expected = {} as Record<State, ExpectedVersions>;
    const stateFiles = {} as Record<State, string>;
    for (const s of ['A', 'B', 'D'] as const) {
      writeFileSync(join(meshDir, WIDE_FILE), stateText(wide, s));
      expected[s] = expectedVersions([meshDir]);
      if (o.only === 'ours') continue;
      const out = join(dir, `out-${s}`);
      execFileSync(process.execPath, [join(HERE, '..', 'bin', 'smi-compile.js'), meshDir, '-o', out], { stdio: 'ignore' });
      stateFiles[s] = join(dir, `${s}.bin`);
      const exported = exportTree(out, stateFiles[s]);
      rmSync(out, { recursive: true, force: true });
      const same = JSON.stringify(exported.versions) === JSON.stringify(expected[s]);
      if (!same) throw new Error(`state ${s}: the versions exported from compile -o differ from the server's`);
      log(`state ${s}: compile -o → ${exported.nodes} proxies, ${exported.resources} resources, ${(exported.bytes / 1e6).toFixed(1)} MB of wire bytes; versions equal to the server's`);
    }
    writeFileSync(join(meshDir, WIDE_FILE), wide.a);
    const nodes = Object.keys(expected.A).sort();
    const differ = (x: ExpectedVersions, y: ExpectedVersions): number => nodes.filter((nd) => Object.keys(x[nd]).some((t) => x[nd][t] !== y[nd][t])).length;
    log(`mesh: ${o.services} services, ${nodes.length} workloads; global change A→B: ${differ(expected.A, expected.B)} proxies, one-proxy change B→D: ${differ(expected.B, expected.D)} (${wide.destination})`);
    const results: ServerResult[] = [];
    const js = o.tsx || o.only === 'gcp' ? undefined : await plainJs('serve-child.ts');
    try {
      for (const name of SERVERS) {
        if (o.only && o.only !== name) continue;
        writeFileSync(join(meshDir, WIDE_FILE), wide.a);
        const peer = name === 'ours' ? await startOurs(meshDir, wide, js?.file) : await startGcp(binary, stateFiles);
        results.push(await runServer(name, peer, o, nodes, expected, log));
      }
    } finally {
      js?.remove();
    }
    const m = await machine();
    const peerVersion = gcpVersions();
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: join(HERE, '..'), encoding: 'utf8' }).trim();
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ machine: m, commit, peer: peerVersion, options: o, results }, null, 2)}\n`);
      return;
    }
    log('');
    log(`machine: ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, load ${m.load.join(' ')}; commit ${commit}; ${peerVersion}; ours ${o.tsx ? 'under tsx' : 'bundled, with the image\'s ENV'}; ${o.streams} streams over ${o.client}, ${results[0]?.changes.length ?? 0} changes`);
    const rows: (string | number)[][] = [['', ...results.map((r) => TITLE[r.server])]];
    const add = (label: string, pick: (r: ServerResult) => number | string): void => void rows.push([label, ...results.map(pick)]);
    const of = (r: ServerResult, k: Kind): ChangeResult[] => r.changes.filter((c) => c.kind === k);
    add('streams connected', (r) => r.connected);
    add('time to connect all (ms)', (r) => r.connectMs);
    add('RSS before streams (MiB)', (r) => mib(r.before.rss));
    add('RSS held with the streams (MiB)', (r) => mib(r.held.rss));
    add('  after a forced GC (MiB)', (r) => mib(r.heldGc.rss));
    add('  heap in use (MiB, after GC)', (r) => mib(r.heldGc.heap));
    add('peak RSS (MiB)', (r) => mib(r.peakRss));
    for (const k of ['global', 'one-proxy'] as const) {
      add(`${k} change → all ACKed (ms, median)`, (r) => median(of(r, k).map((c) => c.changeToAllAckedMs)));
      add('  worst', (r) => quantiles(of(r, k).map((c) => c.changeToAllAckedMs)).max);
      add('  server CPU per change (ms, median)', (r) => median(of(r, k).map((c) => c.serverCpuMs)));
      add('  of it compiling (ms, median, wall)', (r) => median(of(r, k).map((c) => c.compileMs)));
      add('  served → all ACKed (ms, median)', (r) => median(of(r, k).map((c) => c.servedToAllAckedMs)));
      add('  streams affected', (r) => median(of(r, k).map((c) => c.doneMs.n)));
      add('  responses', (r) => median(of(r, k).map((c) => c.responses)));
    }
    add('streams that missed a change', (r) => r.changes.reduce((s, c) => s + c.streams - c.done, 0) + (o.streams - r.connected));
    log(table(rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
