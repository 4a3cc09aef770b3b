/**
 * What `serve --ca` adds to the server, in one place: the CA (built-in or files), the
 * certificates it keeps renewed, SDS secrets, the TLS credentials of the xDS port itself, and the
 * check that a stream's certificate matches the workload it asks for.
 *
 * The xDS port's own certificate is a mesh certificate too (identity
 * `smi-compile.smi-system.<trustDomain>`, plus the names clients dial), renewed like any other;
 * grpc-js takes the renewed certificate and trust bundle for new connections without a restart.
 */
import { hostname } from 'node:os';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { BuiltinCa } from '../../identity/builtin-ca.ts';
import { CertificateManager, DEFAULT_RENEW_FRACTION, type CertificateEvent } from '../../identity/certificate-manager.ts';
import type { Clock } from '../../identity/clock.ts';
import { FileProvider } from '../../identity/file-provider.ts';
import { CONTROL_PLANE_ACCOUNT, principalName, type WorkloadIdentity } from '../../identity/identity.ts';
import { serviceDnsNames } from '../../ir/names.ts';
import type { CertificateProvider, IssuedCertificate } from '../../identity/provider.ts';
import { XdsAuthorizer } from './auth.ts';
import type { Logger } from '../../shared/logger.ts';
import { proxyIdentity, SdsSecrets } from './secrets.ts';
import type { ProxySnapshot, Snapshot } from '../snapshot/snapshot-types.ts';
import type { AnyStream } from '../xds/stream-core.ts';

export interface CaServeOptions {
  /** `builtin`: a root made by `ca init`; `file`: an operator's CA (tls.crt, tls.key, ca.crt). */
  readonly provider: 'builtin' | 'file';
  readonly dir: string;
  /** Workload certificate lifetime (default 24 h). */
  readonly lifetimeMs?: number;
  /** Renew at this fraction of the lifetime (default 2/3). */
  readonly renewFraction?: number;
  /** The xDS server's own identity (default smi-compile in smi-system, as deploy/ runs it). */
  readonly serverIdentity?: { readonly namespace: string; readonly serviceAccount: string };
  /** More names for the xDS server's certificate (the addresses proxies dial). */
  readonly serverNames?: readonly string[];
  readonly clock?: Clock;
  /** Poll interval of the CA directory watch (default 30 s). */
  readonly pollMs?: number;
  /** A provider made elsewhere (tests); `provider` and `dir` are then only for logs. */
  readonly instance?: CertificateProvider;
}

/** grpc-js's certificate-provider interface, fed by the manager: renewals reach new TLS handshakes. */
class GrpcCertificateFeed implements experimental.CertificateProvider {
  private readonly ca = new Set<experimental.CaCertificateUpdateListener>();
  private readonly identity = new Set<experimental.IdentityCertificateUpdateListener>();
  constructor(
    private readonly manager: CertificateManager,
    private readonly server: WorkloadIdentity,
  ) {}
  private caUpdate(): experimental.CaCertificateUpdate {
    return { caCertificate: Buffer.from(this.manager.trustBundle().pem) };
  }
  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    const c = this.manager.current(this.server);
    return c ? { certificate: Buffer.from(c.chainPem), privateKey: Buffer.from(c.privateKeyPem) } : null;
  }
  push(event: CertificateEvent): void {
    if (event.kind === 'trust-bundle') for (const l of this.ca) l(this.caUpdate());
    else if (event.principal === principalName(this.server)) for (const l of this.identity) l(this.identityUpdate());
  }
  // grpc-js registers its own watcher only after adding these listeners: the current state must
  // reach them asynchronously, or it lands before anyone listens and the port never gets a context.
  addCaCertificateListener(l: experimental.CaCertificateUpdateListener): void {
    this.ca.add(l);
    queueMicrotask(() => this.ca.has(l) && l(this.caUpdate()));
  }
  removeCaCertificateListener(l: experimental.CaCertificateUpdateListener): void {
    this.ca.delete(l);
  }
  addIdentityCertificateListener(l: experimental.IdentityCertificateUpdateListener): void {
    this.identity.add(l);
    queueMicrotask(() => this.identity.has(l) && l(this.identityUpdate()));
  }
  removeIdentityCertificateListener(l: experimental.IdentityCertificateUpdateListener): void {
    this.identity.delete(l);
  }
}

export interface Security {
  readonly secrets: SdsSecrets;
  readonly authorizer: XdsAuthorizer;
  /** TLS for the xDS port, client certificates required. */
  readonly credentials: ServerCredentials;
  /** A stream was identified: keep its identity's certificate issued and renewed (sidecars only: gRPC reads files). */
  attach(stream: AnyStream, proxy: ProxySnapshot): void;
  detach(stream: AnyStream): void;
  /** Calls `fn` with a predicate telling which streams a certificate or trust-bundle change concerns. */
  onChange(fn: (concerns: (stream: AnyStream) => boolean) => void): void;
  recheck(streams: Iterable<AnyStream>, snapshot: Snapshot): void;
  /** A certificate outside the manager (a Secret's, renewed by its own keeper), with the manager's lifetime. */
  issue(identity: WorkloadIdentity): Promise<IssuedCertificate>;
  trustBundlePem(): string;
  readonly renewFraction: number;
  readonly lifetimeMs: number;
  readonly trustDomain: string;
  close(): Promise<void>;
}

/** Loads the CA and gets the xDS port's own certificate. Throws CertificateError when the CA does not load. */
export async function startSecurity(opts: CaServeOptions, ctx: { logger: Logger; trustDomain: string; address: string }): Promise<Security> {
  const log = ctx.logger.child({ component: 'ca' });
  const provider =
    opts.instance ??
    (opts.provider === 'file'
      ? await FileProvider.load(opts.dir, { clock: opts.clock, log, pollMs: opts.pollMs })
      : await BuiltinCa.load(opts.dir, { clock: opts.clock, log, watch: true, pollMs: opts.pollMs }));
  const manager = new CertificateManager(provider, { lifetimeMs: opts.lifetimeMs, renewFraction: opts.renewFraction, clock: opts.clock, log });
  const server: WorkloadIdentity = { ...CONTROL_PLANE_ACCOUNT, ...opts.serverIdentity, trustDomain: ctx.trustDomain };
  const names = [
    'localhost',
    '127.0.0.1',
    '::1',
    hostname(),
    // The control plane's Service is named after its account (deploy/service.yaml).
    ...serviceDnsNames({ namespace: server.namespace, name: server.serviceAccount }),
    ...(ctx.address === '0.0.0.0' || ctx.address === '::' ? [] : [ctx.address]),
    ...(opts.serverNames ?? []),
  ];
  const own = manager.hold(server, [...new Set(names)]);
  await own.ready;
  const feed = new GrpcCertificateFeed(manager, server);
  const credentials = experimental.createCertificateProviderServerCredentials(feed, feed, true);
  const authorizer = new XdsAuthorizer(ctx.logger);
  const secrets = new SdsSecrets(manager);
  const held = new Map<AnyStream, () => void>();
  const listeners: ((concerns: (s: AnyStream) => boolean) => void)[] = [];
  const principals = new WeakMap<AnyStream, string>();
  manager.onChange((event) => {
    feed.push(event);
    const concerns =
      event.kind === 'trust-bundle' ? (s: AnyStream) => s.flavour !== 'proxyless' : (s: AnyStream) => principals.get(s) === event.principal;
    for (const l of listeners) l(concerns);
  });
  log.info('xDS requires mTLS with mesh certificates; certificates served over SDS', {
    provider: provider.kind,
    dir: opts.dir,
    roots: provider.trustBundle().roots.map((r) => r.subject),
    lifetimeS: Math.round(manager.lifetimeMs / 1000),
  });

  return {
    secrets,
    authorizer,
    credentials,
    attach(stream, proxy) {
      const identity = proxyIdentity(proxy);
      if (!identity || stream.flavour === 'proxyless' || held.has(stream)) return;
      principals.set(stream, principalName(identity));
      const h = manager.hold(identity);
      h.ready.catch(() => undefined); // failures are logged (SMI6006) and retried by the manager
      held.set(stream, h.release);
    },
    detach(stream) {
      held.get(stream)?.();
      held.delete(stream);
    },
    onChange(fn) {
      listeners.push(fn);
    },
    recheck: (streams, snapshot) => authorizer.recheck(streams, snapshot),
    issue: (identity) => provider.issue({ identity, lifetimeMs: manager.lifetimeMs }),
    trustBundlePem: () => manager.trustBundle().pem,
    renewFraction: opts.renewFraction ?? DEFAULT_RENEW_FRACTION,
    lifetimeMs: manager.lifetimeMs,
    trustDomain: ctx.trustDomain,
    async close() {
      own.release();
      manager.close();
      await provider.close();
    },
  };
}
