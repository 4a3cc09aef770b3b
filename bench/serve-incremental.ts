/**
 * Incremental push benchmark: `serve --watch` on the generated 1,000-service mesh, one ADS
 * stream per workload, then one TrafficTarget edited (a source added) per run.
 *
 *   npx tsx bench/serve-incremental.ts [--services 1000] [--repeat 5] [--debounce 25]
 *       [--no-incremental] [--worker] [--worker-idle MS] [--plain-js] [--image] [--server-arg OPT] [--server-env K=V] [--cpu-prof] [--json]
 *
 * The server runs in a child process (bench/serve-child.ts: `startServer`, 127.0.0.1,
 * ephemeral ports); this process holds one RawAdsClient (src/serve/raw-client.ts) per workload,
 * each on a connection of its own, speaking state of the world like Envoy: CDS, EDS, LDS, RDS
 * and SDS subscribed (wildcard), every response ACKed at once. Once all have ACKed their first
 * config, each run adds one ServiceAccount to the sources of one TrafficTarget (a different
 * destination each run) by rewriting its file, and measures:
 *
 * - write → config: from the file write to the last affected proxy receiving its last response
 *   (debounce included), and where it went: the watcher (file event + debounce), the server's
 *   compile (its phases), snapshot (encode and intern), diff, push (evaluate the affected streams
 *   and hand their responses to gRPC), and delivery;
 * - push after compile: from the new snapshot being built to the last affected proxy having it
 *   (diff + push + delivery);
 * - which proxies got a push, against the ones the edit affects: the destination's workloads and
 *   the newly admitted caller's (by service account); the content of what they got is checked
 *   (the caller's clusters name the destination, the destination's inbound policy names the caller).
 *
 * Prints figures, never asserts. Everything it starts (server, connections, files) it stops.
 */
import { credentials } from '@grpc/grpc-js';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsyaml from 'js-yaml';
import type { AnyMessage, DecodedSotwResponse } from '../src/serve/xds/ads-service.ts';
import { RawAdsClient, type RawStream, type SotwRequestInit } from '../src/serve/xds/raw-client.ts';
import { PUSH_ORDER, shortType } from '../src/serve/xds/type-urls.ts';
import { imageEnv } from '../scripts/image-env.mjs';
import { DEFAULT_DEBOUNCE_MS } from '../src/sources/files/watch.ts';
import { generateMesh, writeMesh } from './generate-mesh.ts';
import { addServerEnv, machine, median, now, plainJs, quantiles, scratchDir, sleep, startServeChild, table, tail, type ServeChild } from './serve-kit.ts';

interface Options {
  services: number;
  repeat: number;
  debounceMs: number;
  /** The server's incremental recompiles (src/compiler/compile-memo.ts); off recompiles everything. */
  incremental: boolean;
  /** Compile in the server's compile worker (ServeOptions.compileInWorker). */
  worker: boolean;
  /** The compile worker's idle time before it is retired (the server's default when absent). */
  workerIdleMs?: number;
  cpuProf: boolean;
  json: boolean;
  /** The server bundled as the container image runs it (serve-kit.ts `plainJs`), without tsx. */
  plainJs: boolean;
  /** Node options of the server process (`--server-arg --max-semi-space-size=4`, as the image sets). */
  serverArgs: string[];
  /** Extra environment of the server process only (`--server-env LD_PRELOAD=libjemalloc.so.2`, as the image sets). */
  serverEnv: Record<string, string>;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { services: 1000, repeat: 5, debounceMs: DEFAULT_DEBOUNCE_MS, incremental: true, worker: false, cpuProf: false, json: false, plainJs: false, serverArgs: [], serverEnv: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`);
      return v;
    };
    if (a === '--services') o.services = num();
    else if (a === '--repeat') o.repeat = Math.max(1, Math.min(500, Math.floor(num())));
    else if (a === '--debounce') o.debounceMs = num();
    else if (a === '--no-incremental' || a === '--no-parse-cache') o.incremental = false;
    else if (a === '--worker') o.worker = true;
    else if (a === '--worker-idle') o.workerIdleMs = num();
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--json') o.json = true;
    else if (a === '--plain-js') o.plainJs = true;
    else if (a === '--image') {
      // As the container image runs the server: bundled, and with deploy/Dockerfile's ENV.
      o.plainJs = true;
      Object.assign(o.serverEnv, imageEnv());
    }
    else if (a === '--server-arg') o.serverArgs.push(argv[++i] ?? usage('--server-arg needs a node option'));
    else if (a === '--server-env') {
      if (!addServerEnv(o.serverEnv, argv[++i])) usage('--server-env needs NAME=VALUE');
    }
    else usage(`unknown argument ${a}`);
  }
  return o;
}

function usage(msg: string): never {
  console.error(`${msg}\nusage: npx tsx bench/serve-incremental.ts [--services 1000] [--repeat 5] [--debounce 25] [--no-incremental] [--worker] [--worker-idle MS] [--plain-js] [--image] [--server-arg OPT] [--server-env K=V] [--cpu-prof] [--json]`);
  process.exit(2);
}

// ── The mesh: who runs as which service account, and the edits ─────────────

interface MeshIndex {
  /** `ns/sa` → node ids of the workloads running as it. */
  readonly workloadsBySa: Map<string, string[]>;
  readonly targets: { file: string; namespace: string; name: string; destSa: string; sources: Set<string> }[];
  readonly serviceAccounts: string[];
}

function indexMesh(dir: string): MeshIndex {
  const workloadsBySa = new Map<string, string[]>();
  const targets: MeshIndex['targets'] = [];
  const serviceAccounts: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    for (const doc of jsyaml.loadAll(readFileSync(join(dir, file), 'utf8')) as Record<string, any>[]) {
      const ns = doc?.metadata?.namespace;
      if (doc?.kind === 'Deployment') {
        const key = `${ns}/${doc.spec.template.spec.serviceAccountName}`;
        workloadsBySa.set(key, [...(workloadsBySa.get(key) ?? []), `${ns}/${doc.metadata.name}`]);
      } else if (doc?.kind === 'ServiceAccount') serviceAccounts.push(`${ns}/${doc.metadata.name}`);
      else if (doc?.kind === 'TrafficTarget') {
        targets.push({
          file,
          namespace: ns,
          name: doc.metadata.name,
          destSa: `${doc.spec.destination.namespace ?? ns}/${doc.spec.destination.name}`,
          sources: new Set((doc.spec.sources as { name: string; namespace?: string }[]).map((s) => `${s.namespace ?? ns}/${s.name}`)),
        });
      }
    }
  }
  return { workloadsBySa, targets, serviceAccounts };
}

/** The file's text with `sa` added to the sources of TrafficTarget `name`. */
function addSource(text: string, name: string, sa: string): string {
  const [ns, saName] = sa.split('/');
  const docs = text.split(/^---$/m);
  const i = docs.findIndex((d) => /^kind: TrafficTarget$/m.test(d) && new RegExp(`^  name: ${name}$`, 'm').test(d));
  if (i < 0) throw new Error(`TrafficTarget ${name} not found`);
  const edited = docs[i].replace(/^  sources:\n/m, `  sources:\n    - kind: ServiceAccount\n      name: ${saName}\n      namespace: ${ns}\n`);
  if (edited === docs[i]) throw new Error(`TrafficTarget ${name} has no sources: list`);
  docs[i] = edited;
  return docs.join('---');
}

// ── Clients: one stream per workload ───────────────────────────────────────

interface Received {
  readonly at: number;
  readonly typeUrl: string;
  readonly resources: readonly AnyMessage[];
}

class Follower {
  readonly client: RawAdsClient;
  readonly stream: RawStream<SotwRequestInit, DecodedSotwResponse>;
  readonly received: Received[] = [];
  readonly types = new Set<string>();
  readyAt = 0;
  failed: string | undefined;
  private stopped = false;
  constructor(readonly node: string, target: string, private readonly onReady: () => void) {
    // A connection per workload, as separate Envoys would have.
    this.client = new RawAdsClient(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    this.stream = this.client.sotw();
    PUSH_ORDER.forEach((typeUrl, i) =>
      this.stream.send({ ...(i === 0 ? { node: { id: node, userAgentName: 'envoy' } } : {}), typeUrl, resourceNames: [] }),
    );
    void this.stream.ended().then((e) => {
      if (!this.stopped) this.failed = e ? `${e.code} ${e.details}` : 'ended';
    });
    void this.loop();
  }
  private async loop(): Promise<void> {
    while (!this.stopped && this.failed === undefined) {
      const r = await this.stream.maybeNext(1000);
      if (!r) continue;
      const at = now();
      this.received.push({ at, typeUrl: r.typeUrl, resources: r.resources });
      this.stream.send({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames: [] });
      this.types.add(r.typeUrl);
      if (!this.readyAt && this.types.size === PUSH_ORDER.length) {
        this.readyAt = at;
        // Keep only what arrives from now on.
        this.received.length = 0;
        this.onReady();
      }
    }
  }
  since(t: number): Received[] {
    return this.received.filter((r) => r.at >= t);
  }
  forget(): void {
    this.received.length = 0;
  }
  close(): void {
    this.stopped = true;
    this.stream.close();
    this.client.close();
  }
}

function containsText(responses: readonly Received[], types: readonly string[], text: string): boolean {
  const needle = Buffer.from(text);
  return responses.some((r) => types.includes(shortType(r.typeUrl)) && r.resources.some((a) => Buffer.from(a.value.buffer, a.value.byteOffset, a.value.byteLength).includes(needle)));
}

/** When the last response since `t0` arrived, over all streams (t0 when none did). */
function lastAtOf(followers: Map<string, Follower>, t0: number): number {
  let last = t0;
  for (const f of followers.values()) {
    const at = f.received.at(-1)?.at ?? 0;
    if (at > last) last = at;
  }
  return last;
}

// ── One run ────────────────────────────────────────────────────────────────

interface RunResult {
  readonly destination: string;
  readonly newSource: string;
  readonly expected: string[];
  readonly pushed: string[];
  readonly unexpected: string[];
  readonly missed: string[];
  readonly contentOk: boolean;
  readonly responses: number;
  readonly responsesByType: Record<string, number>;
  /** ms from the file write. */
  readonly writeToConfigMs: number;
  readonly watchMs: number;
  readonly compileMs: number;
  readonly phases: Record<string, number>;
  readonly snapshotMs: number;
  readonly diffMs: number;
  readonly pushMs: number;
  readonly serverStreams: number;
  readonly serverChanged: number;
  /** compile + snapshot + diff + push, on the server. */
  readonly recompileMs: number;
  /** From the new snapshot to the last affected proxy having it. */
  readonly pushAfterCompileMs: number;
  readonly deliveryMs: number;
  readonly serverCpuMs: number;
  /** The server's GC pauses from the write to the last response: their sum, the longest, how many. */
  readonly gcMs: number;
  readonly gcMaxMs: number;
  readonly gcs: number;
}

async function run(
  server: ServeChild,
  followers: Map<string, Follower>,
  dir: string,
  mesh: MeshIndex,
  edit: { target: MeshIndex['targets'][number]; source: string },
): Promise<RunResult> {
  const { target, source } = edit;
  const expected = [...new Set([...(mesh.workloadsBySa.get(target.destSa) ?? []), ...(mesh.workloadsBySa.get(source) ?? [])])].sort();
  const events: { msg: string; at: number; fields: Record<string, any> }[] = [];
  const onEvent = (m: Record<string, unknown>): void => void events.push(m as never);
  server.on('event', onEvent);
  for (const f of followers.values()) f.forget();
  const cpu0 = (await server.memory(false)).cpuMicros;
  const path = join(dir, target.file);
  const text = addSource(readFileSync(path, 'utf8'), target.name, source);
  await sleep(200); // let the previous run's traffic settle
  const t0 = now();
  writeFileSync(path, text);
  target.sources.add(source);

  // Served, then quiet: nothing new arriving for 500 ms (at most 20 s in all).
  const deadline = t0 + 20_000;
  let served: (typeof events)[number] | undefined;
  while (now() < deadline && !(served = events.find((e) => e.msg === 'serving snapshot' || e.msg === 'recompiled: no change'))) await sleep(10);
  let last = t0;
  for (;;) {
    const latest = Math.max(t0, ...[...followers.values()].map((f) => f.received.at(-1)?.at ?? 0));
    if (latest !== last) last = latest;
    else if (now() - last > 500 || now() > deadline) break;
    await sleep(50);
  }
  const cpu1 = (await server.memory(false)).cpuMicros;
  const gcs = (await server.request<{ at: number; ms: number }[]>({ cmd: 'gc-since', since: t0 })).filter((g) => g.at <= lastAtOf(followers, t0));

  const pushedFollowers = [...followers.values()].filter((f) => f.since(t0).length > 0);
  const pushed = pushedFollowers.map((f) => f.node).sort();
  const lastAt = Math.max(...pushedFollowers.map((f) => f.since(t0).at(-1)!.at), t0);
  const byType: Record<string, number> = {};
  for (const f of pushedFollowers) for (const r of f.since(t0)) byType[shortType(r.typeUrl)] = (byType[shortType(r.typeUrl)] ?? 0) + 1;

  // The caller's clusters name the destination service; the destination's inbound policy names the caller.
  const [destNs, destName] = target.destSa.split('/');
  const [srcNs, srcName] = source.split('/');
  const callerOk = (mesh.workloadsBySa.get(source) ?? []).every((n) => containsText(followers.get(n)?.since(t0) ?? [], ['CDS'], `${destNs}/${destName}`));
  const destOk = (mesh.workloadsBySa.get(target.destSa) ?? []).every((n) => containsText(followers.get(n)?.since(t0) ?? [], ['LDS', 'RDS'], `${srcName}.${srcNs}.`));

  const changedEvent = events.find((e) => e.msg === 'manifests changed; recompiling');
  const f = served?.fields ?? {};
  const snapshotAt = served ? served.at - (f.pushMs ?? 0) - (f.diffMs ?? 0) : NaN;
  return {
    destination: target.destSa,
    newSource: source,
    expected,
    pushed,
    unexpected: pushed.filter((n) => !expected.includes(n)),
    missed: expected.filter((n) => !pushed.includes(n)),
    contentOk: callerOk && destOk,
    responses: pushedFollowers.reduce((n, f) => n + f.since(t0).length, 0),
    responsesByType: byType,
    writeToConfigMs: lastAt - t0,
    watchMs: changedEvent ? changedEvent.at - t0 : NaN,
    compileMs: f.compileMs ?? NaN,
    phases: f.phases ?? {},
    snapshotMs: f.snapshotMs ?? NaN,
    diffMs: f.diffMs ?? NaN,
    pushMs: f.pushMs ?? NaN,
    serverStreams: f.streams ?? NaN,
    serverChanged: f.changed ?? NaN,
    recompileMs: (f.compileMs ?? NaN) + (f.snapshotMs ?? NaN) + (f.diffMs ?? NaN) + (f.pushMs ?? NaN),
    pushAfterCompileMs: lastAt - snapshotAt,
    deliveryMs: served ? lastAt - served.at : NaN,
    serverCpuMs: (cpu1 - cpu0) / 1000,
    gcMs: gcs.reduce((n, g) => n + g.ms, 0),
    gcMaxMs: Math.max(0, ...gcs.map((g) => g.ms)),
    gcs: gcs.length,
  };
}

// ── Main ───────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dir = scratchDir('smi-bench-incremental-');
  let server: ServeChild | undefined;
  let js: { file: string; remove: () => void } | undefined;
  const followers = new Map<string, Follower>();
  try {
    const gen = generateMesh({ services: o.services, permissive: false });
    writeMesh(gen, dir);
    const mesh = indexMesh(dir);
    const nodes = [...mesh.workloadsBySa.values()].flat().sort();
    const log = (s: string): void => void (o.json ? process.stderr : process.stdout).write(`${s}\n`);
    log(`mesh: ${o.services} services, ${gen.files.length} files, ${nodes.length} workloads, restrictive; debounce ${o.debounceMs} ms; incremental ${o.incremental ? 'on' : 'off'}; compile ${o.worker ? `in the worker (retired after ${o.workerIdleMs ?? 30_000} ms idle)` : 'in the server thread'}`);

    js = o.plainJs ? await plainJs('serve-child.ts') : undefined;
    if (js) log(`--plain-js: the server runs as ${js.file}, without tsx`);
    if (o.serverArgs.length || Object.keys(o.serverEnv).length) log(`server process: ${[...Object.entries(o.serverEnv).map(([k, v]) => `${k}=${v}`), ...o.serverArgs].join(' ')}`);
    server = await startServeChild(
      { paths: [dir], watch: true, debounceMs: o.debounceMs, noIncremental: !o.incremental, worker: o.worker, workerIdleMs: o.workerIdleMs },
      { execArgv: [...o.serverArgs, ...(o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(process.cwd(), 'bench', 'profiles')] : [])], env: o.serverEnv, ...(js ? { script: js.file } : {}) },
    );
    log(`server up in ${Math.round(server.startMs)} ms (first compile included) on 127.0.0.1:${server.port}`);

    const t0 = now();
    let ready = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${ready}/${nodes.length} streams had their config after 180 s`)), 180_000);
      const target = `127.0.0.1:${server!.port}`;
      for (const node of nodes) {
        followers.set(
          node,
          new Follower(node, target, () => {
            ready += 1;
            if (ready === nodes.length) {
              clearTimeout(timer);
              resolve();
            }
          }),
        );
      }
    });
    const connectMs = now() - t0;
    const failed = [...followers.values()].filter((f) => f.failed);
    log(`${ready} streams connected and ACKed in ${Math.round(connectMs)} ms${failed.length ? `; ${failed.length} failed: ${failed[0].failed}` : ''}`);

    // Each run: a different destination (spread over the mesh; every third a canary, whose two
    // Deployments run as one service account), and a caller it does not admit yet.
    const canaries = mesh.targets.filter((t) => (mesh.workloadsBySa.get(t.destSa)?.length ?? 0) > 1);
    const edits: { target: MeshIndex['targets'][number]; source: string }[] = [];
    for (let r = 0; r < o.repeat; r++) {
      const pool = r % 3 === 1 && canaries.length > 0 ? canaries : mesh.targets;
      const target = pool[(r * 197 + 11) % pool.length];
      let k = (r * 389 + 500) % mesh.serviceAccounts.length;
      while (target.sources.has(mesh.serviceAccounts[k]) || mesh.serviceAccounts[k] === target.destSa) k = (k + 1) % mesh.serviceAccounts.length;
      edits.push({ target, source: mesh.serviceAccounts[k] });
    }
    const runs: RunResult[] = [];
    for (const edit of edits) {
      const r = await run(server, followers, dir, mesh, edit);
      runs.push(r);
      log(
        `run ${runs.length}: ${r.destination} admits ${r.newSource}: write→config ${Math.round(r.writeToConfigMs)} ms, ` +
          `push after compile ${r.pushAfterCompileMs.toFixed(1)} ms, pushed to ${r.pushed.length} (expected ${r.expected.length}` +
          `${r.unexpected.length ? `, unexpected ${r.unexpected.join(' ')}` : ''}${r.missed.length ? `, missed ${r.missed.join(' ')}` : ''}), content ${r.contentOk ? 'ok' : 'WRONG'}`,
      );
    }

    const m = await machine();
    const mem = await server.memory(true);
    const col = (pick: (r: RunResult) => number): number[] => runs.map(pick);
    const row = (label: string, pick: (r: RunResult) => number): (string | number)[] => {
      const xs = col(pick);
      const q = quantiles(xs);
      return [label, q.min, q.p50, q.p90, q.p99, q.max];
    };
    const phaseNames = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
    const summary = {
      machine: m,
      options: o,
      workloads: nodes.length,
      streams: ready,
      connectMs,
      serverStartMs: server.startMs,
      serverAfter: mem,
      runs,
      overTarget: runs.filter((r) => r.writeToConfigMs > 100).length,
      p99WriteToConfigMs: quantiles(col((r) => r.writeToConfigMs)).p99,
      median: {
        writeToConfigMs: median(col((r) => r.writeToConfigMs)),
        pushAfterCompileMs: median(col((r) => r.pushAfterCompileMs)),
        recompileMs: median(col((r) => r.recompileMs)),
      },
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      log('');
      log(`${runs.length} runs, ms (min / median / p90 / p99 / max, nearest rank); machine: ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, load ${m.load.join(' ')}`);
      log(
        table([
          ['', 'min', 'median', 'p90', 'p99', 'max'],
          row('write → last affected proxy has it', (r) => r.writeToConfigMs),
          row('  watch: file event + debounce', (r) => r.watchMs),
          row('  compile', (r) => r.compileMs),
          ...phaseNames.map((p) => row(`    ${p}`, (r) => r.phases[p] ?? NaN)),
          row('  snapshot (encode, intern)', (r) => r.snapshotMs),
          row('  diff', (r) => r.diffMs),
          row('  push (evaluate + hand to gRPC)', (r) => r.pushMs),
          row('  delivery (to the last response read)', (r) => r.deliveryMs),
          row('compile + snapshot + diff + push', (r) => r.recompileMs),
          row('push after compile (diff → delivered)', (r) => r.pushAfterCompileMs),
          row('server CPU for the run', (r) => r.serverCpuMs),
          row('server GC pauses in the run (sum)', (r) => r.gcMs),
          row('  longest', (r) => r.gcMaxMs),
          row('proxies pushed', (r) => r.pushed.length),
          row('  expected (destination + caller)', (r) => r.expected.length),
          row('streams evaluated by the server', (r) => r.serverStreams),
          row('responses', (r) => r.responses),
        ]),
      );
      log(tail(runs.map((r) => ({ ...r, pushed: r.pushed.length })), 100));
      const wrong = runs.filter((r) => r.unexpected.length || r.missed.length || !r.contentOk);
      log(wrong.length ? `${wrong.length} run(s) pushed to other proxies than expected or with the wrong content (see --json)` : 'every run pushed to exactly the affected proxies, with the new source in their config');
      log(`server after the runs: RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB (after GC: ${mem.gc}), ${mem.streams} streams`);
    }
  } finally {
    for (const f of followers.values()) f.close();
    await server?.stop();
    js?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
