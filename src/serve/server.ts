/**
 * `smi-compile serve`: the compiler behind an ADS server.
 *
 * It holds the last snapshot that compiled without errors and serves it to Envoy sidecars
 * (`StreamAggregatedResources`, `DeltaAggregatedResources`) and proxyless gRPC clients. With
 * `watch`, a change to the manifests recompiles; only proxies whose resources changed are
 * looked at, and they are sent only the types that changed. A compile with error-level
 * diagnostics is logged and changes nothing: proxies keep running on the last good snapshot.
 */
import { hostname } from 'node:os';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { DEFAULT_TRUST_DOMAIN, type CompileOptions } from '../compiler/options.ts';
import { diagnostic, formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { CertificateError } from '../identity/provider.ts';
import { startAdmin, type AdminServer } from './admin.ts';
import { adsServerDefinition } from './ads-service.ts';
import { DeltaStream } from './delta-stream.ts';
import { ConnectionLedger, MAX_REQUEST_BYTES, MAX_STREAMS_PER_CONNECTION } from './limits.ts';
import { createLogger, type Logger } from './logger.ts';
import { XdsMetrics } from './metrics.ts';
import type { CaServeOptions, Security } from './security.ts';
import type { CompileReply } from './compile-worker.ts';
import type { SourceObject } from '../parser/source.ts';
import { buildSnapshot, diffSnapshots, ResourceInterner, snapshotFromWire, type Snapshot } from './snapshot.ts';
import { SotwStream } from './sotw-stream.ts';
import { StreamClosed, type AnyStream, type StreamHost } from './stream-core.ts';
import { watchPaths, type Watcher } from './watch.ts';
import { inputsMoved, type ReadRecord } from '../parser/read-inputs.ts';
import { DEFAULT_WORKER_IDLE_MS, WorkerCompiler } from './worker-compiler.ts';

export const DEFAULT_ADDRESS = '127.0.0.1';
/**
 * The admin port binds loopback unless told otherwise, whatever `address` says: it serves
 * metrics and, with `debugEndpoints`, every proxy's configuration, without authentication.
 */
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1';
export const DEFAULT_PORT = 15128;
/** The admin port defaults to the xDS port + 1 (15129). */
export const DEFAULT_ADMIN_OFFSET = 1;
/** Streams evaluated per turn of the event loop after a change (see `push` in startServer). */
const PUSH_BATCH = 500;
/**
 * Streams that may wait for an ACK at once before a push evaluates more (see `push`): what bounds
 * the responses queued in memory when a change concerns 10,000 streams. A full window still lets
 * a tenth of itself through every `waitMs`: clients that never ACK cannot stall the others.
 */
export const DEFAULT_PUSH_WINDOW = { streams: 1000, waitMs: 100 } as const;

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
};

export interface ServeOptions {
  /** Manifest files and directories, as for `compile`. */
  paths: string[];
  /** Address of the xDS port (default 127.0.0.1; `0.0.0.0` in a cluster). */
  address?: string;
  /**
   * Address of the admin port (default 127.0.0.1, independent of `address`). In a cluster the
   * kubelet's probes and Prometheus reach the pod IP: `0.0.0.0` there (docs/xds-server.md).
   */
  adminAddress?: string;
  /**
   * Serve `/debug/snapshot`, `/debug/streams` and `/debug/config` on the admin port (default
   * false: 404). They show every proxy's configuration to whoever reaches the port.
   */
  debugEndpoints?: boolean;
  /** xDS port (default 15128; 0 picks a free port). */
  port?: number;
  /** Admin port for /healthz, /readyz, /metrics (default xDS port + 1; 0 picks a free port). */
  adminPort?: number;
  /** Recompile and push when the manifests change. */
  watch?: boolean;
  /** Quiet period after a change before recompiling (default DEFAULT_DEBOUNCE_MS, 25 ms; watch.ts says why). */
  debounceMs?: number;
  compileOptions?: CompileOptions;
  logger?: Logger;
  /** The compiler, run in this thread (tests substitute one). */
  compiler?: Compiler;
  /**
   * Compile in a worker thread (compile-worker.ts) instead (default false; ignored with `compiler`):
   * ADS traffic never waits for a compile, and the compiler's memory is released when the worker
   * retires, but while it lives the process holds two heaps. At 1,000 services and 10,000 streams
   * (bench/serve-fanout.ts) it held 563 MiB against 570 in this thread, and peaked at 963 MiB
   * against 687: off by default.
   */
  compileInWorker?: boolean;
  /**
   * With `watch`: recompile incrementally (src/compiler/compile-memo.ts: parse only the files
   * that changed, rerun the passes only for the namespaces they touched, replan and re-emit only
   * the proxies whose inputs changed; default true). False recompiles everything every time.
   */
  incremental?: boolean;
  /** With `watch`: retire the compile worker after this long without a change (default 30 s). */
  workerIdleMs?: number;
  /** Pacing of pushes after a change (default DEFAULT_PUSH_WINDOW). */
  pushWindow?: { readonly streams: number; readonly waitMs: number };
  /** Extra grpc-js server options (benchmarks: `{ 'grpc.enable_channelz': 1 }`). */
  grpcOptions?: Readonly<Record<string, string | number>>;
  /** How long shutdown waits for streams to close before cutting them (default 5 s). */
  shutdownGraceMs?: number;
  /** Node's process metrics on /metrics (default true). */
  processMetrics?: boolean;
  /** A CA: mTLS on the xDS port, certificates over SDS (security.ts). Without it xDS is unauthenticated. */
  ca?: CaServeOptions;
  /**
   * Live objects compiled with the files (`serve --kubernetes`: src/sources/kubernetes): every
   * compile reads them whole; a change recompiles, incrementally. The server closes it. Not with
   * the compile worker, which cannot reach it.
   */
  objects?: ObjectSource;
  /**
   * With `ca`: started once the CA is loaded, closed before it (`serve --kubernetes --ca`: the
   * Secrets sidecars mount, src/sources/kubernetes/sidecar-certs.ts). Its failures are its own:
   * they never stop xDS.
   */
  sidecarCerts?: (ca: CaIssuer) => { close(): Promise<void> };
}

/** What a keeper of certificates outside the server needs from its CA. */
export type CaIssuer = Pick<Security, 'issue' | 'trustBundlePem' | 'renewFraction' | 'lifetimeMs' | 'trustDomain'>;

/** Objects from somewhere other than files, and a signal when they change (already debounced). */
export interface ObjectSource {
  objects(): readonly SourceObject[];
  onChange(listener: () => void): void;
  close(): Promise<void>;
}

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
  /** Evaluating the affected streams and handing their responses to gRPC (the first batch of 500; the rest follow between I/O). */
  readonly push: number;
  /** Streams to evaluate for the push. */
  readonly streams: number;
}

export interface ServerHandle {
  readonly address: string;
  readonly port: number;
  readonly adminAddress: string;
  readonly adminPort: number;
  readonly metrics: XdsMetrics;
  snapshot(): Snapshot | undefined;
  /**
   * Recompiles now (what the watcher calls after its debounce). With a `compiler` in this thread
   * the new snapshot is served before this returns; with the compile worker, once it resolves.
   */
  recompile(): Promise<RecompileOutcome>;
  close(): Promise<void>;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Logs each diagnostic at its own level, with file:line:column in the message and as fields. */
function logDiagnostics(logger: Logger, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const fields = { code: d.code, ...(d.source ? { file: d.source.file, line: d.source.line, column: d.source.column } : {}) };
    const msg = formatDiagnostic(d);
    if (d.level === 'error') logger.error(msg, fields);
    else if (d.level === 'warning') logger.warn(msg, fields);
    else logger.debug(msg, fields);
  }
}

/** The compiler in the server's own thread (loaded only then): incremental under --watch. */
async function inThreadCompiler(incremental: boolean, source?: ObjectSource): Promise<Compiler> {
  const { compilePaths } = await import('../compiler/compile.ts');
  const memo = incremental ? new (await import('../compiler/compile-memo.ts')).CompileMemo() : undefined;
  return (paths, options) => compilePaths(paths, options, undefined, memo, source?.objects());
}

export async function startServer(opts: ServeOptions): Promise<ServerHandle> {
  const address = opts.address ?? DEFAULT_ADDRESS;
  const logger = opts.logger ?? createLogger();
  const metrics = new XdsMetrics({ processMetrics: opts.processMetrics });
  const connections = new ConnectionLedger();
  metrics.heldBy(() => connections.total());
  const interner = new ResourceInterner();
  // With --watch, a recompile redoes only what the change can reach (compile-memo.ts).
  const live = Boolean(opts.watch) || opts.objects !== undefined;
  const incremental = live && opts.incremental !== false;
  if (opts.objects && opts.compileInWorker && !opts.compiler) throw new Error('live objects (--kubernetes) cannot be compiled in the compile worker');
  const workerCompiler =
    opts.compileInWorker === true && !opts.compiler
      ? new WorkerCompiler({ incremental, idleMs: opts.watch ? (opts.workerIdleMs ?? DEFAULT_WORKER_IDLE_MS) : 0, holds: () => interner.liveVersions() })
      : undefined;
  const compiler: Compiler | undefined = workerCompiler ? undefined : (opts.compiler ?? (await inThreadCompiler(incremental, opts.objects)));
  /** Open, identified streams, with the flavour label their gauge was raised under (a stream may turn proxyless later). */
  const streams = new Map<AnyStream, string>();
  const perNode = new Map<string, number>();
  let current: Snapshot | undefined;
  let shuttingDown = false;
  let bound = false;
  let security: Security | undefined;

  const requestedPort = opts.port ?? DEFAULT_PORT;
  // The server encodes every resource itself (an encode failure is SMI9001 there too), so the
  // compiler's own proto check would only do the same work twice.
  // stableObjects: unchanged per-proxy resources come back as the same objects each recompile.
  const compileOptions: CompileOptions = { protoCheck: false, stableObjects: true, ...opts.compileOptions };

  const host: StreamHost = {
    current: () => current,
    interner,
    logger,
    metrics,
    controlPlane: `smi-compile@${hostname()}`,
    connections,
    authorize: (stream, call, proxy) => security?.authorizer.authorize(stream, call, proxy),
    get secrets() {
      return security?.secrets;
    },
    awaiting(_stream, waiting) {
      awaitingAck += waiting ? 1 : -1;
      // ACKs open the window again: the streams still queued get their turn.
      if (!waiting && pushQueue.size > 0 && awaitingAck < pacing.streams) schedulePush(false);
    },
    attach(stream) {
      security?.attach(stream, current!.proxies.get(stream.nodeId!)!);
      const flavour = stream.flavour ?? 'sidecar';
      streams.set(stream, flavour);
      const n = (perNode.get(stream.nodeId!) ?? 0) + 1;
      perNode.set(stream.nodeId!, n);
      metrics.proxies.set(perNode.size);
      metrics.streams.inc({ protocol: stream.protocol, flavour });
    },
    detach(stream) {
      security?.detach(stream);
      const flavour = streams.get(stream);
      if (flavour === undefined) return;
      streams.delete(stream);
      const n = (perNode.get(stream.nodeId!) ?? 1) - 1;
      if (n <= 0) perNode.delete(stream.nodeId!);
      else perNode.set(stream.nodeId!, n);
      metrics.proxies.set(perNode.size);
      metrics.streams.dec({ protocol: stream.protocol, flavour });
    },
  };

  /**
   * Streams waiting to be evaluated against the current snapshot. The first PUSH_BATCH go at
   * once; the rest follow a batch per turn of the event loop, so that ACKs (which send the next
   * type) are read in between, and only while fewer than PUSH_WINDOW streams wait for an ACK:
   * a change for 10,000 streams does not queue 50,000 responses (≈ 120 MB at 1,000 services) in
   * memory before the first is on the wire. A stream evaluated late sees the latest snapshot.
   */
  const pushQueue = new Set<AnyStream>();
  const pacing = opts.pushWindow ?? DEFAULT_PUSH_WINDOW;
  /** The next batch: on the next turn of the event loop, or (`waits`) once the window wait is over. */
  let pushTimer: { readonly waits: boolean; readonly handle: NodeJS.Timeout | NodeJS.Immediate } | undefined;
  let awaitingAck = 0;
  function cancelPush(): void {
    if (pushTimer?.waits) clearTimeout(pushTimer.handle as NodeJS.Timeout);
    else if (pushTimer) clearImmediate(pushTimer.handle as NodeJS.Immediate);
    pushTimer = undefined;
  }
  function schedulePush(waits: boolean): void {
    if (pushTimer && (waits || !pushTimer.waits)) return; // as soon, or sooner, already
    cancelPush();
    const run = (): void => {
      pushTimer = undefined;
      if (!shuttingDown) push([], waits);
    };
    pushTimer = { waits, handle: waits ? setTimeout(run, pacing.waitMs) : setImmediate(run) };
  }
  function push(due: Iterable<AnyStream>, waited = false): void {
    for (const s of due) pushQueue.add(s);
    // After a wait with the window still full, a tenth of the window goes anyway.
    const overdraft = waited ? Math.max(1, Math.floor(pacing.streams / 10)) : 0;
    let n = 0;
    for (const s of pushQueue) {
      if (awaitingAck >= pacing.streams && n >= overdraft) break;
      pushQueue.delete(s);
      s.onSnapshot();
      if (++n >= PUSH_BATCH) break;
    }
    if (pushQueue.size > 0) schedulePush(awaitingAck >= pacing.streams);
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

  /** Manifests that vanished (a directory emptied by a checkout or a volume mid-update) are not an empty mesh to push to every proxy. */
  const vanishedInput = (diagnostics: readonly Diagnostic[]): boolean => current !== undefined && diagnostics.some((d) => d.code === 'SMI1012');
  const internalError = (err: unknown): Diagnostic => diagnostic('internal-error', { detail: err instanceof Error ? err.message : String(err) });

  function compileHere(run: Compiler): Compiled {
    const t0 = performance.now();
    let result: ReturnType<Compiler>;
    try {
      result = run(opts.paths, compileOptions);
    } catch (err) {
      // The compiler reports bad input as diagnostics; an exception is a bug, not a reason to stop serving.
      result = { proxies: [], diagnostics: [internalError(err)] };
    }
    const t1 = performance.now();
    let diagnostics = result.diagnostics;
    let next: Snapshot | undefined;
    const vanished = vanishedInput(diagnostics);
    if (!vanished && !diagnostics.some((d) => d.level === 'error')) {
      const built = buildSnapshot(result.proxies, interner);
      diagnostics = [...diagnostics, ...built.diagnostics];
      next = built.snapshot;
    }
    const t2 = performance.now();
    return { diagnostics, next, vanished, read: result.read, seconds: (t2 - t0) / 1000, timings: { compile: t1 - t0, phases: result.timings ?? {}, snapshot: t2 - t1, diff: 0, push: 0, streams: 0 } };
  }

  async function compileInWorker(worker: WorkerCompiler): Promise<Compiled> {
    const t0 = performance.now();
    let reply: CompileReply | undefined;
    let diagnostics: readonly Diagnostic[];
    try {
      reply = await worker.compile(opts.paths, compileOptions);
      diagnostics = reply.internalError ? [internalError(reply.internalError)] : reply.diagnostics;
    } catch (err) {
      diagnostics = [internalError(err)];
    }
    const vanished = vanishedInput(diagnostics);
    let next: Snapshot | undefined;
    if (reply?.snapshot && !vanished && !diagnostics.some((d) => d.level === 'error')) {
      try {
        next = snapshotFromWire(reply.snapshot, interner);
      } catch (err) {
        diagnostics = [...diagnostics, internalError(err)];
      }
    }
    const t2 = performance.now();
    const compile = reply?.compileMs ?? t2 - t0;
    // The snapshot's time: encoding in the worker, the hand-over, and assembling it here.
    return { diagnostics, next, vanished, reply, read: reply?.read, seconds: (t2 - t0) / 1000, timings: { compile, phases: reply?.phases ?? {}, snapshot: t2 - t0 - compile, diff: 0, push: 0, streams: 0 } };
  }

  /** Compiles through the worker queue: one at a time, and a call made while one waits to start joins it. */
  let chain: Promise<unknown> = Promise.resolve();
  let queued: Promise<RecompileOutcome> | undefined;
  function recompile(): Promise<RecompileOutcome> {
    if (!workerCompiler) return Promise.resolve(serve(compileHere(compiler!)));
    if (queued) return queued;
    const run = chain
      .then(() => {
        queued = undefined;
        return compileInWorker(workerCompiler);
      })
      .then(serve);
    queued = run;
    chain = run.catch(() => undefined);
    return run;
  }

  /** What the latest compile read, whether it was served or not: `--watch` compares the disk with it. */
  let lastRead: readonly ReadRecord[] | undefined;
  /** Whether the manifests have moved on from what the latest compile read (once the compiles queued now have run). */
  async function inputsMovedSinceCompile(): Promise<boolean> {
    await chain;
    return !shuttingDown && lastRead !== undefined && inputsMoved(opts.paths, lastRead, compileOptions.maxFileSize);
  }

  /** Serves what a compile produced (or logs why not): diff, push, log line. */
  function serve(compiled: Compiled): RecompileOutcome {
    const { next, vanished, seconds, timings } = compiled;
    if (compiled.read) lastRead = compiled.read;
    const diagnostics = compiled.diagnostics;
    logDiagnostics(logger, diagnostics);
    if (!next) {
      metrics.compileSeconds.observe({ result: 'error' }, seconds);
      const errors = diagnostics.filter((d) => d.level === 'error').length;
      if (current) {
        const d = vanished
          ? diagnostic('serve-input-vanished', { paths: opts.paths.join(', '), version: current.version })
          : diagnostic('serve-keeps-last-good', { count: errors, version: current.version });
        logger.error(formatDiagnostic(d), { code: d.code, errors });
      } else {
        logger.error(`compile failed with ${errors} error(s); nothing to serve yet`, { errors });
      }
      return { ok: false, changed: [], diagnostics, timings };
    }
    if (compiled.reply) workerCompiler?.installed(compiled.reply);
    const handedOver = compiled.reply?.snapshot?.fresh.length;
    metrics.compileSeconds.observe({ result: 'ok' }, seconds);
    const tDiff = performance.now();
    const diff = diffSnapshots(current, next);
    const changed = [...diff.added, ...diff.changed, ...diff.removed];
    const previous = current;
    current = next;
    security?.recheck(streams.keys(), next); // a workload whose service account changed must prove it again
    metrics.snapshotServed(next);
    const t3 = performance.now();
    // Only proxies whose resources changed are re-evaluated. Proxyless streams always are:
    // their routes carry their destinations' inbound policy, which lives in other proxies.
    const affected = new Set(changed);
    const due: AnyStream[] = [];
    for (const s of streams.keys()) if (s.flavour === 'proxyless' || affected.has(s.nodeId!)) due.push(s);
    timings.streams = due.length;
    push(due);
    timings.diff = t3 - tDiff;
    timings.push = performance.now() - t3;
    const ms = (v: number): number => Math.round(v * 10) / 10;
    logger.info(previous?.version === next.version ? 'recompiled: no change' : 'serving snapshot', {
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

  const first = await recompile();
  if (!first.ok && !live) {
    await workerCompiler?.close();
    throw new Error(`the manifests do not compile (${first.diagnostics.filter((d) => d.level === 'error').length} error(s)); nothing to serve`);
  }

  if (opts.ca) {
    const trustDomain = [...(current?.proxies.values() ?? [])].find((p) => p.identity)?.identity?.trustDomain ?? compileOptions.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    try {
      // Loaded only with a CA: @peculiar/x509 and its ASN.1 stack are ≈ 3 MiB of heap a server without one never uses.
      const { startSecurity } = await import('./security.ts');
      security = await startSecurity(opts.ca, { logger, trustDomain, address });
    } catch (err) {
      throw new Error(err instanceof CertificateError ? formatDiagnostic(err.diagnostic) : err instanceof Error ? err.message : String(err));
    }
    // A renewed certificate or a new trust bundle goes out at once to the streams it concerns.
    security.onChange((concerns) => {
      for (const s of [...streams.keys()]) if (concerns(s)) s.onSnapshot();
    });
  }

  const server = new Server({
    // Find dead proxies (a node that vanished without closing its stream) within a minute.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    // Requests only (limits.ts says why 4 MiB); responses, which can be large, are not capped.
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
    // One hostile connection must not multiply the per-stream bounds (limits.ts says why 8).
    'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
    // No channelz service is offered, and its per-connection accounting costs ≈1.6 KiB of memory
    // a connection (10,000 connections: 420 → 404 MiB RSS for bench/ads-bare-server.ts).
    'grpc.enable_channelz': 0,
    ...opts.grpcOptions,
  });
  server.addService(adsServerDefinition, {
    StreamAggregatedResources: (call: ConstructorParameters<typeof SotwStream>[1]) => {
      if (shuttingDown) return call.emit('error', { code: status.UNAVAILABLE, details: 'server shutting down' });
      new SotwStream(host, call);
    },
    DeltaAggregatedResources: (call: ConstructorParameters<typeof DeltaStream>[1]) => {
      if (shuttingDown) return call.emit('error', { code: status.UNAVAILABLE, details: 'server shutting down' });
      new DeltaStream(host, call);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(hostPort(address, requestedPort), security?.credentials ?? ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  ).catch(async (err: unknown) => {
    await security?.close();
    throw err;
  });
  bound = true;
  if (!security) {
    const d = diagnostic('xds-unauthenticated', { address, port });
    logger.warn(formatDiagnostic(d), { code: d.code });
  }

  const adminPort = opts.adminPort ?? (requestedPort === 0 ? 0 : requestedPort + DEFAULT_ADMIN_OFFSET);
  const adminAddress = opts.adminAddress ?? DEFAULT_ADMIN_ADDRESS;
  let admin: AdminServer;
  try {
    admin = await startAdmin(
      {
        snapshot: () => current,
        streams: () => streams.keys(),
        notReady: () => (shuttingDown ? 'shutting down' : !bound ? 'xDS port not bound' : !current ? 'no snapshot compiled yet' : undefined),
        metrics,
        logger,
        debugEndpoints: Boolean(opts.debugEndpoints),
      },
      adminAddress,
      adminPort,
    );
  } catch (err) {
    server.forceShutdown();
    await security?.close();
    throw err;
  }

  // After everything that can fail at start, so that nothing has to stop it on those paths.
  const sidecarCerts = security ? opts.sidecarCerts?.(security) : undefined;

  let watcher: Watcher | undefined;
  if (opts.watch) {
    watcher = await watchPaths(opts.paths, {
      debounceMs: opts.debounceMs,
      logger,
      onChange: (changedFiles) => {
        if (shuttingDown) return;
        logger.info('manifests changed; recompiling', { files: changedFiles.length, first: changedFiles[0] });
        void recompile();
      },
      moved: inputsMovedSinceCompile,
    });
  }

  opts.objects?.onChange(() => {
    if (shuttingDown) return;
    logger.info('cluster changed; recompiling');
    void recompile();
  });

  logger.info('xDS server listening', { address, port, adminAddress, adminPort: admin.port, debugEndpoints: Boolean(opts.debugEndpoints), watch: Boolean(opts.watch), kubernetes: Boolean(opts.objects), paths: opts.paths, mtls: Boolean(security) });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    shuttingDown = true;
    cancelPush();
    pushQueue.clear();
    await watcher?.close();
    await opts.objects?.close();
    await workerCompiler?.close();
    // ADS streams never end by themselves, so graceful means: tell every proxy to go elsewhere
    // (UNAVAILABLE makes Envoy and gRPC reconnect, to another replica behind the Service), then
    // wait for the connections to drain.
    for (const s of [...streams.keys()]) s.close(new StreamClosed(status.UNAVAILABLE, 'xDS server shutting down', 'shutdown'));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, opts.shutdownGraceMs ?? 5_000);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await admin.close();
    await sidecarCerts?.close();
    await security?.close();
    logger.info('xDS server stopped');
  }

  return {
    address,
    port,
    adminAddress,
    adminPort: admin.port,
    metrics,
    snapshot: () => current,
    recompile,
    close: () => (closing ??= close()),
  };
}

/**
 * What the CLI runs: start, then stop gracefully on SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
 * Resolves with the process exit code.
 */
export async function runServe(opts: ServeOptions): Promise<number> {
  const logger = opts.logger ?? createLogger();
  let handle: ServerHandle;
  try {
    handle = await startServer({ ...opts, logger });
  } catch (err) {
    logger.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info('shutting down', { signal });
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void handle.close().then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
