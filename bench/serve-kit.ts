/**
 * What the two serve benchmarks share: child processes spoken to over IPC (the server of
 * bench/serve-child.ts, the clients of bench/ads-load-client.ts), with their file descriptor
 * limit raised, the versions each proxy must end up with, and small statistics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/bundle.mjs';
import { compilePaths } from '../src/compiler/compile.ts';
import { buildSnapshot } from '../src/serve/snapshot/snapshot.ts';
import { ResourceInterner } from '../src/serve/snapshot/interner.ts';
import { setVersion } from '../src/emit/versions.ts';
import type { ServeChildMemory, ServeChildOptions } from './serve-child.ts';

export const HERE = dirname(fileURLToPath(import.meta.url));

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A scratch directory on tmpfs when there is one (the shared disk is noisy), else the temp dir. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
}

export interface IpcChild {
  readonly process: ChildProcess;
  request<T>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  on(type: string, fn: (message: Record<string, unknown>) => void): void;
  exited: Promise<number | null>;
  kill(): void;
}

/**
 * `node --import tsx FILE ARGS` with an IPC channel, started by a shell that first raises the
 * open-file limit (each ADS connection is a descriptor on both sides). A `.mjs` FILE (see
 * `plainJs`) runs without tsx.
 */
export function spawnIpc(file: string, args: string[], opts: { nofile?: number; execArgv?: string[]; env?: Readonly<Record<string, string>>; label: string }): IpcChild {
  const nofile = opts.nofile ?? 65536;
  const loader = file.endsWith('.mjs') ? [] : ['--import', 'tsx'];
  const child = spawn(
    'sh',
    ['-c', `ulimit -n ${nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$@"`, 'sh', process.execPath, ...(opts.execArgv ?? []), ...loader, file, ...args],
    { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], cwd: join(HERE, '..'), env: { ...process.env, ...opts.env } },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const handlers = new Map<string, ((m: Record<string, unknown>) => void)[]>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  child.on('message', (m: Record<string, unknown>) => {
    if (m.type === 'reply') {
      const p = pending.get(m.id as number);
      if (!p) return;
      pending.delete(m.id as number);
      clearTimeout(p.timer);
      if (m.error) p.reject(new Error(`${opts.label}: ${String(m.error)}`));
      else p.resolve(m.value);
      return;
    }
    for (const fn of handlers.get(m.type as string) ?? []) fn(m);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${opts.label} exited (${code}) before answering:\n${stderr.slice(-3000)}`));
      }
      pending.clear();
      resolve(code);
    }),
  );
  return {
    process: child,
    request: <T>(message: Record<string, unknown>, timeoutMs = 120_000) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${opts.label}: no answer to ${String(message.cmd)} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        // A child that has died (its 'exit' rejects what is pending) must not make this an unhandled 'error' event.
        const failed = (err: Error): void => {
          pending.delete(id);
          clearTimeout(timer);
          reject(new Error(`${opts.label}: cannot send ${String(message.cmd)}: ${err.message}\n${stderr.slice(-3000)}`));
        };
        if (!child.connected) failed(new Error('the IPC channel is closed'));
        else child.send({ ...message, id }, (err) => err && failed(err));
      }),
    on(type, fn) {
      handlers.set(type, [...(handlers.get(type) ?? []), fn]);
    },
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

/**
 * `bench/<script>` bundled to plain JavaScript the way the container image's CLI is
 * (scripts/bundle.mjs), in a scratch directory with a link to node_modules, to run without tsx:
 * under tsx, Node 20 runs the loader hooks in a thread of their own, with its own V8 heap, for
 * the life of the process. Returns the file and a function that deletes the directory.
 */
export async function plainJs(script: string): Promise<{ file: string; remove: () => void }> {
  const dir = scratchDir('smi-bench-js-');
  symlinkSync(join(HERE, '..', 'node_modules'), join(dir, 'node_modules'));
  const file = join(dir, script.replace(/\.ts$/, '.mjs'));
  await bundle({ entry: join(HERE, script), outfile: file });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServeChild extends IpcChild {
  readonly port: number;
  readonly adminPort: number;
  readonly startMs: number;
  memory(gc?: boolean): Promise<ServeChildMemory>;
  stop(): Promise<void>;
  /** Warnings and errors the server logged (most recent last, at most 200). */
  readonly logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
}

/** `--server-env NAME=VALUE` into `env`; false when it is not of that form. */
export function addServerEnv(env: Record<string, string>, arg: string | undefined): boolean {
  const eq = arg?.indexOf('=') ?? -1;
  if (!arg || eq < 1) return false;
  env[arg.slice(0, eq)] = arg.slice(eq + 1);
  return true;
}

/** `script`: another server speaking the same IPC (bench/ads-bare-server.ts, the floor), or a path (plainJs). */
export async function startServeChild(options: ServeChildOptions, opts: { execArgv?: string[]; env?: Readonly<Record<string, string>>; nofile?: number; script?: string } = {}): Promise<ServeChild> {
  const script = opts.script ?? 'serve-child.ts';
  const child = spawnIpc(script.startsWith('/') ? script : join(HERE, script), [JSON.stringify(options)], { ...opts, execArgv: ['--expose-gc', ...(opts.execArgv ?? [])], label: 'server' });
  const logs: ServeChild['logs'] = [];
  child.on('log', (m) => {
    logs.push(m as never);
    if (logs.length > 200) logs.shift();
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.on('ready', resolve);
    void child.exited.then((code) => reject(new Error(`server exited (${code}) before it was ready: ${logs.map((l) => l.msg).join('\n')}`)));
  });
  return {
    ...child,
    port: ready.port as number,
    adminPort: ready.adminPort as number,
    startMs: ready.startMs as number,
    logs,
    memory: (gc = true) => child.request<ServeChildMemory>({ cmd: 'mem', gc }),
    async stop() {
      const killer = setTimeout(() => child.kill(), 15_000);
      await child.request({ cmd: 'stop' }, 15_000).catch(() => child.kill());
      await child.exited;
      clearTimeout(killer);
    },
  };
}

/** Node id → type URL → the version_info a wildcard sidecar stream ends up with (as the server computes it). */
export type ExpectedVersions = Record<string, Record<string, string>>;

/**
 * Compiles `paths` as the server does and returns, per proxy and type, the version of the full
 * set of its resources: what each of the load clients must have ACKed once a change is served.
 */
export function expectedVersions(paths: string[]): ExpectedVersions {
  const result = compilePaths(paths, { protoCheck: false });
  const errors = result.diagnostics.filter((d) => d.level === 'error');
  if (errors.length > 0) throw new Error(`benchmark mesh does not compile: ${errors[0].message}`);
  const { snapshot } = buildSnapshot(result.proxies, new ResourceInterner());
  if (!snapshot) throw new Error('benchmark mesh does not encode');
  const out: ExpectedVersions = {};
  for (const [node, proxy] of snapshot.proxies) {
    out[node] = {};
    for (const [typeUrl, byName] of proxy.resources) out[node][typeUrl] = setVersion([...byName.values()]);
  }
  return out;
}

export interface Quantiles {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function quantiles(xs: readonly number[]): Quantiles {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
  return { n: s.length, min: s[0] ?? NaN, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] ?? NaN };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const mib = (bytes: number): number => bytes / (1024 * 1024);

/** Right-aligned columns; the first column left-aligned. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (Math.abs(n) >= 100) return Math.round(n).toString();
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Load average and cores, to print beside every figure (the machine is shared). */
export async function machine(): Promise<{ cores: number; memGiB: number; load: number[]; node: string }> {
  const os = await import('node:os');
  return { cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), load: os.loadavg().map((l) => Math.round(l * 100) / 100), node: process.version };
}

/** One edit's timings, as bench/serve-incremental.ts measures them (ms; `pushed`: proxies pushed). */
export interface TailRun {
  readonly writeToConfigMs: number;
  readonly watchMs: number;
  readonly compileMs: number;
  readonly snapshotMs: number;
  readonly diffMs: number;
  readonly pushMs: number;
  readonly deliveryMs: number;
  readonly gcMs: number;
  readonly gcMaxMs: number;
  readonly pushed: number;
}

/**
 * The tail, explained run by run: how many runs missed `limitMs`, and for the first five runs
 * and every slow one, where the time went (watch, compile, snapshot, diff, push, delivery; the
 * server's GC inside the run).
 */
export function tail(runs: readonly TailRun[], limitMs: number): string {
  const over = runs.map((r, i) => ({ r, i })).filter(({ r }) => !(r.writeToConfigMs <= limitMs));
  const show = runs.map((r, i) => ({ r, i })).filter(({ r, i }) => i < 5 || !(r.writeToConfigMs <= limitMs));
  const q = quantiles(runs.map((r) => r.writeToConfigMs));
  const head = `write → config over ${limitMs} ms: ${over.length} of ${runs.length} runs (p99 ${fmtMs(q.p99)}, max ${fmtMs(q.max)}); the first 5 runs and every slow one:`;
  const rows: (string | number)[][] = [['run', 'write→config', 'watch', 'compile', 'snapshot', 'diff', 'push', 'delivery', 'GC sum / longest', 'proxies']];
  for (const { r, i } of show) rows.push([`${i + 1}${r.writeToConfigMs > limitMs ? ' *' : ''}`, r.writeToConfigMs, r.watchMs, r.compileMs, r.snapshotMs, r.diffMs, r.pushMs, r.deliveryMs, `${fmtMs(r.gcMs)} / ${fmtMs(r.gcMaxMs)}`, r.pushed]);
  return `${head}\n${table(rows)}`;
}

const fmtMs = (n: number): string => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 1) : '-');
