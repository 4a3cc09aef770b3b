/**
 * `smi-compile serve`: the compiler behind an ADS server.
 *
 * It holds the last snapshot that compiled without errors and serves it to Envoy sidecars
 * (`StreamAggregatedResources`, `DeltaAggregatedResources`) and proxyless gRPC clients. With
 * `watch`, a change to the manifests recompiles; only proxies whose resources changed are
 * looked at, and they are sent only the types that changed.
 *
 * This file wires the parts together and owns their lifetime: the recompile path
 * (recompile.ts), the stream registry (stream-registry.ts), the push pacer (push-pacer.ts), the
 * gRPC server, the admin port, the CA and the sources of changes.
 */
import { hostname } from 'node:os';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { DEFAULT_TRUST_DOMAIN, type CompileOptions } from '../shared/options.ts';
import { diagnostic, formatDiagnostic } from '../diagnostics/diagnostic.ts';
import { CertificateError } from '../identity/provider.ts';
import type { Logger } from '../shared/logger.ts';
import { startAdmin, type AdminServer } from './ops/admin.ts';
import { adsServerDefinition } from './xds/ads-service.ts';
import { DeltaStream } from './xds/delta-stream.ts';
import { meshFlavours } from './flavours/mesh-flavours.ts';
import { ResourceInterner } from './snapshot/interner.ts';
import { ConnectionLedger, MAX_REQUEST_BYTES, MAX_STREAMS_PER_CONNECTION } from './ops/limits.ts';
import { createLogger } from './ops/logger.ts';
import { XdsMetrics } from './ops/metrics.ts';
import { DEFAULT_PUSH_WINDOW, PushPacer, type PushWindow } from './xds/push-pacer.ts';
import { inThreadCompiler, Recompiler, type Compiler, type ObjectSource, type RecompileOutcome } from './recompile.ts';
import type { CaServeOptions, Security } from './security/security.ts';
import type { Snapshot } from './snapshot/snapshot-types.ts';
import { SotwStream } from './xds/sotw-stream.ts';
import { StreamClosed } from './xds/stream-closed.ts';
import type { StreamHost } from './xds/stream-core.ts';
import { StreamRegistry } from './xds/stream-registry.ts';
import { watchPaths, type Watcher } from '../sources/files/watch.ts';
import { DEFAULT_WORKER_IDLE_MS, WorkerCompiler } from './snapshot/worker-compiler.ts';

export const DEFAULT_ADDRESS = '127.0.0.1';
/**
 * The admin port binds loopback unless told otherwise, whatever `address` says: it serves
 * metrics and, with `debugEndpoints`, every proxy's configuration, without authentication.
 */
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1';
export const DEFAULT_PORT = 15128;
/** The admin port defaults to the xDS port + 1 (15129). */
export const DEFAULT_ADMIN_OFFSET = 1;
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
   * retires, but while it lives the process holds two heaps, and its peak memory is the higher
   * for it (bench/serve-fanout.ts --worker measures both): off by default. `serve --compile-worker`.
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
  pushWindow?: PushWindow;
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
      ? new WorkerCompiler({ incremental, idleMs: opts.watch ? (opts.workerIdleMs ?? DEFAULT_WORKER_IDLE_MS) : 0, holds: () => interner.liveVersions(), retired: () => logger.debug('compile worker retired') })
      : undefined;
  const compiler: Compiler | undefined = workerCompiler ? undefined : (opts.compiler ?? (await inThreadCompiler(incremental, opts.objects)));
  const registry = new StreamRegistry(metrics);
  const pacer = new PushPacer(opts.pushWindow ?? DEFAULT_PUSH_WINDOW);
  let shuttingDown = false;
  let bound = false;
  let security: Security | undefined;

  const requestedPort = opts.port ?? DEFAULT_PORT;
  // The server encodes every resource itself (an encode failure is SMI9001 there too), so the
  // compiler's own proto check would only do the same work twice.
  // stableObjects: unchanged per-proxy resources come back as the same objects each recompile.
  const compileOptions: CompileOptions = { protoCheck: false, stableObjects: true, ...opts.compileOptions };

  const recompiler = new Recompiler({
    paths: opts.paths,
    compileOptions,
    logger,
    metrics,
    interner,
    compiler,
    worker: workerCompiler,
    served: (next) => security?.recheck(registry.all(), next), // a workload whose service account changed must prove it again
    push: (changed) => {
      const due = registry.due(changed);
      pacer.push(due);
      return due.length;
    },
    stopped: () => shuttingDown,
  });
  const current = (): Snapshot | undefined => recompiler.current;

  const host: StreamHost = {
    current,
    interner,
    logger,
    metrics,
    controlPlane: `smi-compile@${hostname()}`,
    flavours: meshFlavours(interner, () => security?.secrets),
    streamId: () => registry.streamId(),
    connections,
    authorize: (stream, call, proxy) => security?.authorizer.authorize(stream, call, proxy),
    awaiting: (_stream, waiting) => pacer.awaiting(waiting),
    attach(stream) {
      security?.attach(stream, current()!.proxies.get(stream.nodeId!)!);
      registry.attach(stream);
    },
    detach(stream) {
      security?.detach(stream);
      registry.detach(stream);
    },
  };

  const first = await recompiler.recompile();
  if (!first.ok && !live) {
    await workerCompiler?.close();
    throw new Error(`the manifests do not compile (${first.diagnostics.filter((d) => d.level === 'error').length} error(s)); nothing to serve`);
  }

  if (opts.ca) {
    const trustDomain = [...(current()?.proxies.values() ?? [])].find((p) => p.identity)?.identity?.trustDomain ?? compileOptions.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    try {
      // Loaded only with a CA: @peculiar/x509 and its ASN.1 stack are ≈ 3 MiB of heap a server without one never uses.
      const { startSecurity } = await import('./security/security.ts');
      security = await startSecurity(opts.ca, { logger, trustDomain, address });
    } catch (err) {
      throw new Error(err instanceof CertificateError ? formatDiagnostic(err.diagnostic) : err instanceof Error ? err.message : String(err));
    }
    // A renewed certificate or a new trust bundle goes out at once to the streams it concerns.
    security.onChange((concerns) => {
      for (const s of [...registry.all()]) if (concerns(s)) s.onSnapshot();
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
    // No channelz service is offered, and its per-connection accounting costs memory on every
    // connection (bench/ads-bare-server.ts with --channelz shows how much).
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
        snapshot: current,
        streams: () => registry.all(),
        notReady: () => (shuttingDown ? 'shutting down' : !bound ? 'xDS port not bound' : !current() ? 'no snapshot compiled yet' : undefined),
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
        void recompiler.recompile();
      },
      moved: () => recompiler.inputsMovedSinceCompile(),
    });
  }

  opts.objects?.onChange(() => {
    if (shuttingDown) return;
    logger.info('cluster changed; recompiling');
    void recompiler.recompile();
  });

  logger.info('xDS server listening', { address, port, adminAddress, adminPort: admin.port, debugEndpoints: Boolean(opts.debugEndpoints), watch: Boolean(opts.watch), kubernetes: Boolean(opts.objects), paths: opts.paths, mtls: Boolean(security) });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    shuttingDown = true;
    pacer.close();
    await watcher?.close();
    await opts.objects?.close();
    await workerCompiler?.close();
    // ADS streams never end by themselves, so graceful means: tell every proxy to go elsewhere
    // (UNAVAILABLE makes Envoy and gRPC reconnect, to another replica behind the Service), then
    // wait for the connections to drain.
    for (const s of [...registry.all()]) s.close(new StreamClosed(status.UNAVAILABLE, 'xDS server shutting down', 'shutdown'));
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
    snapshot: current,
    recompile: () => recompiler.recompile(),
    close: () => (closing ??= close()),
  };
}

/**
 * What the CLI runs: start, then stop gracefully on SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
 * Resolves with the process exit code.
 */
export async function runServe(opts: ServeOptions): Promise<number> {
  const logger = opts.logger ?? createLogger();
  // The handlers go in before the server starts: a signal between "listening" and the end of
  // start-up (a pod deleted as it comes up) must stop it gracefully, not kill it mid-start.
  let signalled: NodeJS.Signals | undefined;
  let stopped: (() => void) | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    signalled = signal;
    stopped?.();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let handle: ServerHandle;
  try {
    handle = await startServer({ ...opts, logger });
  } catch (err) {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    logger.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  if (!signalled) await new Promise<void>((resolve) => (stopped = resolve));
  logger.info('shutting down', { signal: signalled });
  await handle.close();
  return 0;
}
