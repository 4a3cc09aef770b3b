/**
 * The server's side of the compile worker (compile-worker.ts).
 *
 * One worker at a time; compiles are queued, never concurrent (the watcher's debounce already
 * coalesces bursts). The worker keeps its compile memo and resource cache between compiles while
 * edits come; once no compile has been asked for `idleMs`, it is retired (terminated), and its
 * whole heap with it: what the server keeps is the snapshot alone. The next compile starts a
 * fresh worker, told which resources the server already holds so that they are not sent again.
 */
import { Worker } from 'node:worker_threads';
import type { CompileOptions } from '../../shared/options.ts';
import type { CompileReply, CompileRequest, InstalledMessage, WorkerInit } from './worker-protocol.ts';

/** Default: a worker idle this long is retired (its memory returned). */
export const DEFAULT_WORKER_IDLE_MS = 30_000;

export interface WorkerCompilerOptions {
  readonly incremental: boolean;
  /** Retire the worker after this long without a compile; 0 retires it after every compile. */
  readonly idleMs: number;
  /** The versions the server holds now (asked when a worker starts). */
  holds(): Iterable<string>;
  /** A worker was terminated (idle, or closing) and its memory returned. */
  retired?(): void;
}

export class WorkerCompiler {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: CompileReply) => void; reject: (e: Error) => void }>();
  private idleTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Workers started so far (a test reads it). */
  started = 0;

  constructor(private readonly opts: WorkerCompilerOptions) {}

  /** Compiles in the worker; one compile at a time, in call order. */
  compile(paths: readonly string[], options: CompileOptions): Promise<CompileReply> {
    const run = this.queue.then(() => this.run(paths, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The server installed the snapshot of `reply`: the worker counts its resources as held. */
  installed(reply: CompileReply): void {
    const message: InstalledMessage = { cmd: 'installed', id: reply.id };
    this.worker?.postMessage(message);
  }

  private run(paths: readonly string[], options: CompileOptions): Promise<CompileReply> {
    if (this.closed) return Promise.reject(new Error('compile worker closed'));
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const request: CompileRequest = { cmd: 'compile', id, paths: [...paths], options: { ...options } };
    // A compile in flight keeps the process alive (the server may be waiting for its first one).
    worker.ref();
    return new Promise<CompileReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage(request);
    }).finally(() => {
      if (this.waiting.size === 0) worker.unref();
      this.scheduleRetire();
    });
  }

  private start(): Worker {
    const init: WorkerInit = { incremental: this.opts.incremental, holds: [...this.opts.holds()] };
    // execArgv []: the entry registers tsx itself, however the server was started.
    const worker = new Worker(new URL('./compile-worker.mjs', import.meta.url), { workerData: init, execArgv: [], stdout: false, stderr: false });
    this.started += 1;
    worker.on('message', (reply: CompileReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      w?.resolve(reply);
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`compile worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private scheduleRetire(): void {
    if (this.closed || !this.worker || this.waiting.size > 0) return;
    if (this.opts.idleMs <= 0) return void this.retire();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.waiting.size === 0) void this.retire();
    }, this.opts.idleMs);
    this.idleTimer.unref();
  }

  private async retire(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    await worker.terminate();
    this.opts.retired?.();
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    await this.retire();
  }
}
