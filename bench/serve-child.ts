/**
 * The xDS server of the serve benchmarks, in a process of its own: `startServer` on
 * 127.0.0.1, ephemeral ports, reporting to its parent over the IPC channel.
 *
 *   node --import tsx [--expose-gc] [--cpu-prof] bench/serve-child.ts '<JSON ServeChildOptions>'
 *
 * Messages to the parent: `{ type: 'ready', port, adminPort, startMs }`, then one
 * `{ type: 'event', msg, at, fields }` for each log record the benchmarks time (a change seen,
 * a recompile served; `at` = performance.timeOrigin + performance.now(), comparable across
 * processes on one machine), warnings and errors as `{ type: 'log' }`. Requests from the
 * parent: `{ id, cmd: 'mem', gc?: boolean }` (process.memoryUsage, after a full GC when asked
 * and the process runs with --expose-gc, plus V8's committed heap, open streams and CPU time), `{ id, cmd:
 * 'heap-snapshot', path }` (v8.writeHeapSnapshot, to see what streams cost), `{ id, cmd: 'profile-start' }`
 * and `{ id, cmd: 'profile-stop', path }` (a CPU profile of just that window, through the inspector:
 * `--cpu-prof` would cover start-up and connecting as well), `{ id, cmd: 'cpu' }` (process.cpuUsage, user + system µs), `{ id, cmd: 'gc-since', since }` (the
 * garbage collections that started at or after `since`, on the same clock as `at`: start, duration
 * and kind, the last 4,096 kept), `{ id, cmd: 'stop' }`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Logger, LogFields } from '../src/shared/logger.ts';
import { startServer, type ServeOptions } from '../src/serve/server.ts';

export interface ServeChildOptions {
  readonly paths: string[];
  readonly watch: boolean;
  readonly debounceMs?: number;
  /** Without incremental recompiles (every recompile does everything): a before/after figure. */
  readonly noIncremental?: boolean;
  /** Compile in the server's compile worker (ServeOptions.compileInWorker) instead of its own thread. */
  readonly worker?: boolean;
  /** How long the compile worker may idle before it is retired (ms; the server's default when absent). */
  readonly workerIdleMs?: number;
  /** grpc-js channelz accounting on (the server turns it off). */
  readonly channelz?: boolean;
}

export interface ServeChildMemory {
  readonly rss: number;
  /** Peak RSS of the process so far (bytes). */
  readonly maxRss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** Pages the V8 heap holds (v8.getHeapStatistics().total_physical_size): heapUsed plus what V8 keeps free. */
  readonly heapCommitted: number;
  /** Of which the new space (two semi-spaces; V8 shrinks it only when the process idles). */
  readonly newSpace: number;
  /**
   * RSS by kind of mapping (/proc/self/smaps): `brk` is the main thread's malloc arena (nghttp2,
   * Node's buffers and handles), `anon` other anonymous memory (V8's heap pages, other threads'
   * arenas and stacks), `file` mapped files (the node executable); `lazyFree` the part of RSS
   * given back with MADV_FREE (V8 shrinking its heap does so), which the kernel reclaims only under
   * memory pressure. Linux only; zeros elsewhere.
   */
  readonly mapped: { readonly brk: number; readonly anon: number; readonly file: number; readonly lazyFree: number };
  readonly streams: number;
  readonly proxies: number;
  /** process.cpuUsage(), user + system, microseconds. */
  readonly cpuMicros: number;
  readonly gc: boolean;
}

/** Log records the benchmarks time; everything else at info level and below is dropped. */
const TIMED = new Set(['manifests changed; recompiling', 'serving snapshot', 'recompiled: no change']);

const now = (): number => performance.timeOrigin + performance.now();

function mapped(): ServeChildMemory['mapped'] {
  const out = { brk: 0, anon: 0, file: 0, lazyFree: 0 };
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return out;
  }
  let kind: 'brk' | 'anon' | 'file' = 'anon';
  const kib = (line: string): number => Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === '[heap]' ? 'brk' : head[1].startsWith('/') ? 'file' : 'anon';
    else if (line.startsWith('Rss:')) out[kind] += kib(line);
    else if (line.startsWith('LazyFree:')) out.lazyFree += kib(line);
  }
  return out;
}

function send(message: object): void {
  process.send?.(message);
}

class ForwardingLogger implements Logger {
  constructor(private readonly base: LogFields = {}) {}
  private record(level: string, msg: string, fields?: LogFields): void {
    const at = now();
    if (TIMED.has(msg)) send({ type: 'event', msg, at, fields: { ...fields } });
    else if (level === 'warn' || level === 'error') send({ type: 'log', level, msg, at, fields: { ...this.base, ...fields } });
  }
  debug(): void {}
  info(msg: string, fields?: LogFields): void {
    this.record('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.record('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.record('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new ForwardingLogger({ ...this.base, ...fields });
  }
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ServeChildOptions;
  const t0 = performance.now();
  const serveOptions: ServeOptions = {
    paths: options.paths,
    address: '127.0.0.1',
    port: 0,
    adminPort: 0,
    watch: options.watch,
    debounceMs: options.debounceMs,
    logger: new ForwardingLogger(),
    incremental: !options.noIncremental,
    compileInWorker: Boolean(options.worker),
    ...(options.workerIdleMs !== undefined ? { workerIdleMs: options.workerIdleMs } : {}),
    ...(options.channelz ? { grpcOptions: { 'grpc.enable_channelz': 1 } } : {}),
  };
  const server = await startServer(serveOptions);
  send({ type: 'ready', port: server.port, adminPort: server.adminPort, startMs: performance.now() - t0 });

  const gauge = async (name: 'streams' | 'proxies'): Promise<number> =>
    (await server.metrics[name].get()).values.reduce((sum, v) => sum + v.value, 0);

  // Every GC pause, to tell a slow change's GC from its work (bench/serve-incremental.ts).
  const gcs: { at: number; ms: number; kind: number }[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: ((e as { detail?: { kind?: number } }).detail)?.kind ?? 0 });
    if (gcs.length > 4096) gcs.splice(0, gcs.length - 4096);
  }).observe({ entryTypes: ['gc'] });

  let profiler: Session | undefined;
  process.on('message', (m: { id: number; cmd: string; gc?: boolean }) => {
    void (async () => {
      if (m.cmd === 'mem') {
        const gc = Boolean(m.gc && typeof globalThis.gc === 'function');
        if (gc) globalThis.gc!();
        const u = process.memoryUsage();
        const cpu = process.cpuUsage();
        const newSpace = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space');
        const reply: ServeChildMemory = {
          rss: u.rss,
          maxRss: process.resourceUsage().maxRSS * 1024,
          heapUsed: u.heapUsed,
          heapTotal: u.heapTotal,
          external: u.external,
          arrayBuffers: u.arrayBuffers,
          heapCommitted: v8.getHeapStatistics().total_physical_size,
          newSpace: newSpace?.physical_space_size ?? 0,
          mapped: mapped(),
          streams: await gauge('streams'),
          proxies: await gauge('proxies'),
          cpuMicros: cpu.user + cpu.system,
          gc,
        };
        send({ type: 'reply', id: m.id, value: reply });
      } else if (m.cmd === 'cpu') {
        // CPU time alone, cheaply: 'mem' reads /proc/self/smaps, which is work of its own.
        const cpu = process.cpuUsage();
        send({ type: 'reply', id: m.id, value: cpu.user + cpu.system });
      } else if (m.cmd === 'gc-since') {
        const since = (m as { since?: number }).since ?? 0;
        send({ type: 'reply', id: m.id, value: gcs.filter((g) => g.at >= since) });
      } else if (m.cmd === 'heap-snapshot') {
        // For finding what the streams cost: v8.writeHeapSnapshot (GC first; pauses the process).
        const { writeHeapSnapshot } = await import('node:v8');
        send({ type: 'reply', id: m.id, value: writeHeapSnapshot((m as { path?: string }).path) });
      } else if (m.cmd === 'profile-start') {
        profiler ??= new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
        send({ type: 'reply', id: m.id, value: true });
      } else if (m.cmd === 'profile-stop' && profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        writeFileSync((m as { path?: string }).path!, JSON.stringify(profile));
        send({ type: 'reply', id: m.id, value: true });
      } else if (m.cmd === 'stop') {
        await server.close();
        send({ type: 'reply', id: m.id, value: true });
        process.disconnect?.();
        // --cpu-prof writes its profile on a normal exit.
        setTimeout(() => process.exit(0), 50).unref();
      }
    })();
  });
  // The parent went away without asking: do not outlive it.
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  send({ type: 'log', level: 'error', msg: err instanceof Error ? err.stack ?? err.message : String(err), at: now() });
  process.exit(1);
});
