/** `smi-compile serve <paths...>`: the xDS control plane. Runs until SIGTERM or SIGINT. */
import { createLogger, runServe, type LogLevel } from '../serve/index.ts';
import type { KubernetesSource } from '../sources/kubernetes/source.ts';
import type { RunningWebhook } from './inject-webhook.ts';
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
  /** Read the cluster's objects live from the Kubernetes API (src/sources/kubernetes). */
  kubernetes?: boolean;
  kubeconfig?: string;
  meshName: string;
  /** With --kubernetes and --ca: keep the Secrets injected sidecars mount (commander: --no-sidecar-certs sets false). */
  sidecarCerts?: boolean;
  osmNamespace: string;
  /** The sidecar injection webhook (inject-webhook.ts) and its flags. */
  injectWebhook?: boolean;
  injectWebhookAddress: string;
  injectWebhookPort: number;
  injectWebhookService: string;
  injectXdsAddress?: string;
  envoyImage: string;
  initImage: string;
  envoyRequests?: Record<string, string>;
  envoyLimits?: Record<string, string>;
  envoyLogLevel: string;
}

export async function runServeCommand(paths: string[], opts: ServeCommandOptions): Promise<number> {
  if (paths.includes('-')) throw new UsageError('serve reads manifests from files or directories, not standard input');
  if (paths.length === 0 && !opts.kubernetes) throw new UsageError('serve needs manifest paths, --kubernetes, or both');
  if (opts.kubeconfig && !opts.kubernetes) throw new UsageError('--kubeconfig needs --kubernetes');
  if (opts.kubernetes && opts.compileWorker) throw new UsageError('--compile-worker cannot read the Kubernetes API; drop one of them');
  if (opts.compileWorkerIdle !== undefined && !opts.compileWorker) throw new UsageError('--compile-worker-idle needs --compile-worker');
  if (opts.caProvider === 'file' && !opts.ca) throw new UsageError('--ca-provider file needs --ca DIR (the directory holding tls.crt, tls.key and ca.crt)');
  if (opts.injectWebhook && !opts.ca) throw new UsageError('--inject-webhook needs --ca DIR: its serving certificate comes from the mesh CA');
  const logger = createLogger({ level: opts.logLevel, json: opts.logFormat === undefined ? undefined : opts.logFormat === 'json' });
  let webhook: RunningWebhook | undefined;
  if (opts.injectWebhook) {
    try {
      webhook = await (await import('./inject-webhook.ts')).startWebhookForServe(opts, logger);
    } catch (err) {
      logger.error(`cannot start the injection webhook: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  }
  let objects: KubernetesSource | undefined;
  if (opts.kubernetes) {
    // Loaded only with --kubernetes: the client library is ≈ 1 s of start-up a file-fed server never needs.
    const { KubernetesSource } = await import('../sources/kubernetes/source.ts');
    try {
      objects = await KubernetesSource.start({ kubeconfig: opts.kubeconfig, meshName: opts.meshName, osmNamespace: opts.osmNamespace, debounceMs: opts.debounce, logger });
    } catch (err) {
      logger.error(`cannot read the Kubernetes API: ${err instanceof Error ? err.message : String(err)}`);
      await webhook?.close();
      return 1;
    }
  }
  try {
    return await runServe({
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
      logger,
      objects,
      sidecarCerts:
        objects && opts.ca && opts.sidecarCerts !== false
          ? (await import('../sources/kubernetes/sidecar-certs.ts')).sidecarCertsFor(objects, logger.child({ component: 'sidecar-certs' }))
          : undefined,
    });
  } finally {
    await objects?.close();
    await webhook?.close();
  }
}
