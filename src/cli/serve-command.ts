/** `smi-compile serve <paths...>`: the xDS control plane. Runs until SIGTERM or SIGINT. */
import { createLogger, runServe, type LogLevel } from '../serve/index.ts';
import { UsageError } from './io.ts';

export interface ServeCommandOptions {
  address: string;
  port: number;
  adminAddress: string;
  adminPort?: number;
  debugEndpoints?: boolean;
  watch?: boolean;
  debounce: number;
  trustDomain?: string;
  logLevel: LogLevel;
  logFormat?: 'json' | 'text';
  maxFileSize?: number;
  /** The CA directory; with it, xDS requires mTLS and certificates are served over SDS. */
  ca?: string;
  caProvider: 'builtin' | 'file';
  certLifetime: number;
  compileWorker?: boolean;
  compileWorkerIdle?: number;
}

export async function runServeCommand(paths: string[], opts: ServeCommandOptions): Promise<number> {
  if (paths.includes('-')) throw new UsageError('serve reads manifests from files or directories, not standard input');
  if (opts.compileWorkerIdle !== undefined && !opts.compileWorker) throw new UsageError('--compile-worker-idle needs --compile-worker');
  if (opts.caProvider === 'file' && !opts.ca) throw new UsageError('--ca-provider file needs --ca DIR (the directory holding tls.crt, tls.key and ca.crt)');
  return runServe({
    paths,
    address: opts.address,
    port: opts.port,
    adminAddress: opts.adminAddress,
    adminPort: opts.adminPort,
    debugEndpoints: Boolean(opts.debugEndpoints),
    watch: Boolean(opts.watch),
    debounceMs: opts.debounce,
    compileInWorker: Boolean(opts.compileWorker),
    workerIdleMs: opts.compileWorkerIdle,
    compileOptions: { trustDomain: opts.trustDomain, maxFileSize: opts.maxFileSize },
    ca: opts.ca ? { provider: opts.caProvider, dir: opts.ca, lifetimeMs: opts.certLifetime } : undefined,
    logger: createLogger({ level: opts.logLevel, json: opts.logFormat === undefined ? undefined : opts.logFormat === 'json' }),
  });
}
