/**
 * The recompile path: compile (in this thread or in the compile worker), build the snapshot,
 * and serve it if it compiled without errors: swap it in, push it to the streams it concerns,
 * log the "serving snapshot" line. A compile with error-level diagnostics is logged and changes
 * nothing: proxies keep running on the last good snapshot.
 */
import type { CompileOptions } from '../shared/options.ts';
import { diagnostic, formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { ProxyConfig } from '../emit/types.ts';
import type { SourceObject } from '../parser/source.ts';
import { inputsMoved, type ReadRecord } from '../parser/read-inputs.ts';
import { logAtLevel, type Logger } from '../shared/logger.ts';
import type { ResourceInterner } from './snapshot/interner.ts';
import type { XdsMetrics } from './ops/metrics.ts';
import { lazyProxylessMesh } from '../emit/proxyless/index.ts';
import { buildSnapshot, diffSnapshots, snapshotFromWire } from './snapshot/snapshot.ts';
import type { Snapshot } from './snapshot/snapshot-types.ts';
import type { WorkerCompiler } from './snapshot/worker-compiler.ts';
import type { CompileReply } from './snapshot/worker-protocol.ts';

/** The compiler as the server uses it; tests may substitute one. */
export type Compiler = (
  paths: readonly string[],
  options: CompileOptions,
) => {
  readonly proxies: readonly ProxyConfig[];
  readonly diagnostics: readonly Diagnostic[];
  /** Milliseconds per compiler phase, when the compiler reports them. */
  readonly timings?: Readonly<Partial<Record<string, number>>>;
  /** What it read of each file, when it reports that: `--watch` checks the disk against it. */
  readonly read?: readonly ReadRecord[];
  /** The planned mesh, when the compiler reports it: the proxyless flavour is emitted from its plans. */
  readonly mesh?: object;
};

export interface RecompileOutcome {
  readonly ok: boolean;
  readonly version?: string;
  /** Node ids whose resources changed (added and removed ones included). */
  readonly changed: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
  readonly timings: RecompileTimings;
  /** With the compile worker: resources it handed over (the ones this server did not hold yet). */
  readonly handedOver?: number;
}

/** Where a recompile's time went, in milliseconds (also logged with the "serving snapshot" line). */
export interface RecompileTimings {
  /** The compiler: read, parse, build, passes, emit. */
  readonly compile: number;
  /** The compiler's own phases, when it reports them. */
  readonly phases: Readonly<Partial<Record<string, number>>>;
  /** Encoding and interning the proxies' resources. */
  readonly snapshot: number;
  /** Finding the proxies whose resources changed. */
  readonly diff: number;
  /** Evaluating the affected streams and handing their responses to gRPC (the first batch; the rest follow between I/O). */
  readonly push: number;
  /** Streams to evaluate for the push. */
  readonly streams: number;
}

/** Objects from somewhere other than files, and a signal when they change (already debounced). */
export interface ObjectSource {
  objects(): readonly SourceObject[];
  onChange(listener: () => void): void;
  close(): Promise<void>;
}

/** The compiler in the server's own thread (loaded only then): incremental under --watch. */
export async function inThreadCompiler(incremental: boolean, source?: ObjectSource): Promise<Compiler> {
  const { compilePaths } = await import('../compiler/compile.ts');
  const memo = incremental ? new (await import('../compiler/compile-memo.ts')).CompileMemo() : undefined;
  return (paths, options) => compilePaths(paths, options, undefined, memo, source?.objects());
}

export interface RecompilerOptions {
  readonly paths: readonly string[];
  readonly compileOptions: CompileOptions;
  readonly logger: Logger;
  readonly metrics: XdsMetrics;
  readonly interner: ResourceInterner;
  /** Exactly one of the two: the compiler in this thread, or the compile worker. */
  readonly compiler?: Compiler;
  readonly worker?: WorkerCompiler;
  /** The new snapshot is current (a place to check what depends on it, e.g. streams' identities). */
  served(next: Snapshot): void;
  /** Pushes to the streams of the nodes that changed; returns how many streams are due. */
  push(changed: ReadonlySet<string>): number;
  /** The server is shutting down: nothing moves any more. */
  stopped(): boolean;
}

/** What a compile produced, in this thread or in the worker: the rest of a recompile is the same. */
interface Compiled {
  readonly diagnostics: readonly Diagnostic[];
  readonly next?: Snapshot;
  readonly vanished: boolean;
  readonly timings: { compile: number; phases: Readonly<Partial<Record<string, number>>>; snapshot: number; diff: number; push: number; streams: number };
  readonly seconds: number;
  readonly reply?: CompileReply;
  readonly read?: readonly ReadRecord[];
}

const internalError = (err: unknown): Diagnostic => diagnostic('internal-error', { detail: err instanceof Error ? err.message : String(err) });

/** Logs each diagnostic at its own level, with file:line:column in the message and as fields. */
export function logDiagnostics(logger: Logger, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const fields = { code: d.code, ...(d.source ? { file: d.source.file, line: d.source.line, column: d.source.column } : {}) };
    logAtLevel(logger, d.level, formatDiagnostic(d), fields, 'debug');
  }
}

export class Recompiler {
  private served: Snapshot | undefined;
  /** Compiles through the worker queue: one at a time, and a call made while one waits to start joins it. */
  private chain: Promise<unknown> = Promise.resolve();
  private queued: Promise<RecompileOutcome> | undefined;
  /** What the latest compile read, whether it was served or not: `--watch` compares the disk with it. */
  private lastRead: readonly ReadRecord[] | undefined;

  constructor(private readonly opts: RecompilerOptions) {}

  /** The snapshot served now: the last that compiled without errors. */
  get current(): Snapshot | undefined {
    return this.served;
  }

  /**
   * Recompiles now. With a compiler in this thread the new snapshot is served before this
   * returns; with the compile worker, once it resolves.
   */
  recompile(): Promise<RecompileOutcome> {
    const { compiler, worker } = this.opts;
    if (!worker) return Promise.resolve(this.serve(this.compileHere(compiler!)));
    if (this.queued) return this.queued;
    const run = this.chain
      .then(() => {
        this.queued = undefined;
        return this.compileInWorker(worker);
      })
      .then((compiled) => this.serve(compiled));
    this.queued = run;
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Whether the manifests have moved on from what the latest compile read (once the compiles queued now have run). */
  async inputsMovedSinceCompile(): Promise<boolean> {
    await this.chain;
    return !this.opts.stopped() && this.lastRead !== undefined && inputsMoved(this.opts.paths, this.lastRead, this.opts.compileOptions.maxFileSize);
  }

  /** Manifests that vanished (a directory emptied by a checkout or a volume mid-update) are not an empty mesh to push to every proxy. */
  private vanishedInput(diagnostics: readonly Diagnostic[]): boolean {
    return this.served !== undefined && diagnostics.some((d) => d.code === 'SMI1012');
  }

  private compileHere(run: Compiler): Compiled {
    const t0 = performance.now();
    let result: ReturnType<Compiler>;
    try {
      result = run(this.opts.paths, this.opts.compileOptions);
    } catch (err) {
      // The compiler reports bad input as diagnostics; an exception is a bug, not a reason to stop serving.
      result = { proxies: [], diagnostics: [internalError(err)] };
    }
    const t1 = performance.now();
    let diagnostics = result.diagnostics;
    let next: Snapshot | undefined;
    const vanished = this.vanishedInput(diagnostics);
    if (!vanished && !diagnostics.some((d) => d.level === 'error')) {
      const built = buildSnapshot(result.proxies, this.opts.interner, lazyProxylessMesh(result.mesh));
      diagnostics = [...diagnostics, ...built.diagnostics];
      next = built.snapshot;
    }
    const t2 = performance.now();
    return { diagnostics, next, vanished, read: result.read, seconds: (t2 - t0) / 1000, timings: { compile: t1 - t0, phases: result.timings ?? {}, snapshot: t2 - t1, diff: 0, push: 0, streams: 0 } };
  }

  private async compileInWorker(worker: WorkerCompiler): Promise<Compiled> {
    const t0 = performance.now();
    let reply: CompileReply | undefined;
    let diagnostics: readonly Diagnostic[];
    try {
      reply = await worker.compile(this.opts.paths, this.opts.compileOptions);
      diagnostics = reply.internalError ? [internalError(reply.internalError)] : reply.diagnostics;
    } catch (err) {
      diagnostics = [internalError(err)];
    }
    const vanished = this.vanishedInput(diagnostics);
    let next: Snapshot | undefined;
    if (reply?.snapshot && !vanished && !diagnostics.some((d) => d.level === 'error')) {
      try {
        next = snapshotFromWire(reply.snapshot, this.opts.interner);
      } catch (err) {
        diagnostics = [...diagnostics, internalError(err)];
      }
    }
    const t2 = performance.now();
    const compile = reply?.compileMs ?? t2 - t0;
    // The snapshot's time: encoding in the worker, the hand-over, and assembling it here.
    return { diagnostics, next, vanished, reply, read: reply?.read, seconds: (t2 - t0) / 1000, timings: { compile, phases: reply?.phases ?? {}, snapshot: t2 - t0 - compile, diff: 0, push: 0, streams: 0 } };
  }

  /** Serves what a compile produced (or logs why not): diff, push, log line. */
  private serve(compiled: Compiled): RecompileOutcome {
    const { next, vanished, seconds, timings } = compiled;
    const { logger, metrics } = this.opts;
    if (compiled.read) this.lastRead = compiled.read;
    const diagnostics = compiled.diagnostics;
    logDiagnostics(logger, diagnostics);
    const current = this.served;
    if (!next) {
      metrics.compileSeconds.observe({ result: 'error' }, seconds);
      const errors = diagnostics.filter((d) => d.level === 'error').length;
      if (current) {
        const d = vanished
          ? diagnostic('serve-input-vanished', { paths: this.opts.paths.join(', '), version: current.version })
          : diagnostic('serve-keeps-last-good', { count: errors, version: current.version });
        logger.error(formatDiagnostic(d), { code: d.code, errors });
      } else {
        logger.error(`compile failed with ${errors} error(s); nothing to serve yet`, { errors });
      }
      return { ok: false, changed: [], diagnostics, timings };
    }
    if (compiled.reply) this.opts.worker?.installed(compiled.reply);
    const handedOver = compiled.reply?.snapshot?.fresh.length;
    metrics.compileSeconds.observe({ result: 'ok' }, seconds);
    const tDiff = performance.now();
    const diff = diffSnapshots(current, next);
    const changed = [...diff.added, ...diff.changed, ...diff.removed];
    this.served = next;
    this.opts.served(next);
    metrics.snapshotServed(next);
    const t3 = performance.now();
    // Only proxies whose resources changed are re-evaluated (and whatever `push` adds).
    timings.streams = this.opts.push(new Set(changed));
    timings.diff = t3 - tDiff;
    timings.push = performance.now() - t3;
    const ms = (v: number): number => Math.round(v * 10) / 10;
    logger.info(current?.version === next.version ? 'recompiled: no change' : 'serving snapshot', {
      version: next.version,
      proxies: next.stats.proxies,
      changed: changed.length,
      resources: next.stats.resources,
      distinct: next.stats.uniqueResources,
      bytes: next.stats.encodedBytes,
      ms: Math.round(seconds * 1000),
      compileMs: ms(timings.compile),
      phases: Object.fromEntries(Object.entries(timings.phases).map(([k, v]) => [k, ms(v ?? 0)])),
      snapshotMs: ms(timings.snapshot),
      ...(handedOver !== undefined ? { handedOver } : {}),
      diffMs: ms(timings.diff),
      pushMs: ms(timings.push),
      streams: timings.streams,
    });
    return { ok: true, version: next.version, changed, diagnostics, timings, ...(handedOver !== undefined ? { handedOver } : {}) };
  }
}
