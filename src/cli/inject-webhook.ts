/**
 * `serve --inject-webhook`: the injection webhook beside the xDS server, its serving certificate
 * issued by the mesh CA (`--ca`) for `<service>.<namespace>.svc` (and `.svc.cluster.local`, and
 * the listen address when it is a specific IP: a `url:` webhook on it, as the tests register),
 * renewed at two thirds of its lifetime. The API server trusts it through the caBundle of
 * deploy/inject-webhook/webhook.yaml, the CA's ca.crt.
 */
import { isIP } from 'node:net';
import { CONTROL_PLANE_ACCOUNT, type CertificateProvider } from '../identity/index.ts';
import { DEFAULT_XDS_SERVICE } from '../inject/constants.ts';
import { serviceDnsNames } from '../ir/names.ts';
import { startInjectionWebhook, type InjectionWebhook } from '../inject/webhook.ts';
import type { Logger } from '../serve/index.ts';
import { loadProvider, type CaProviderKind } from './ca-command.ts';
import { injectOptionsFrom, type InjectFlags } from './inject-options.ts';

export interface WebhookFlags extends InjectFlags {
  injectWebhookAddress: string;
  injectWebhookPort: number;
  /** `<name>.<namespace>` of the Service in front of the webhook. */
  injectWebhookService: string;
  /** The control plane as pods reach it (default: deploy/service.yaml's Service), at `port`. */
  injectXdsAddress?: string;
  port: number;
  ca?: string;
  caProvider: CaProviderKind;
  certLifetime: number;
}

export interface RunningWebhook {
  readonly port: number;
  close(): Promise<void>;
}

/** The DNS names of the webhook's Service, given as `<name>.<namespace>`. */
export function webhookDnsNames(service: string): string[] {
  const dot = service.indexOf('.');
  if (dot <= 0) throw new Error(`--inject-webhook-service ${service}: expected <name>.<namespace>`);
  return serviceDnsNames({ name: service.slice(0, dot), namespace: service.slice(dot + 1) });
}

export async function startWebhookForServe(flags: WebhookFlags, logger: Logger): Promise<RunningWebhook> {
  if (!flags.ca) throw new Error('--inject-webhook needs --ca: the API server calls the webhook over HTTPS, with a serving certificate from the mesh CA');
  const provider: CertificateProvider = await loadProvider(flags.caProvider, flags.ca);
  const trustDomain = flags.trustDomain ?? 'cluster.local';
  const altNames = [...webhookDnsNames(flags.injectWebhookService), ...(isIP(flags.injectWebhookAddress) && !/^(0\.0\.0\.0|::)$/.test(flags.injectWebhookAddress) ? [flags.injectWebhookAddress] : [])];
  const issue = async () => {
    const c = await provider.issue({ identity: { ...CONTROL_PLANE_ACCOUNT, trustDomain }, lifetimeMs: flags.certLifetime, altNames });
    return { certPem: c.chainPem, keyPem: c.privateKeyPem };
  };
  const options = injectOptionsFrom(
    { ...flags, ca: undefined },
    // The xDS Service, not the webhook's (which exposes only the webhook); `--port 0` (tests) has no port a pod could know.
    { address: flags.injectXdsAddress ?? DEFAULT_XDS_SERVICE.address, port: flags.port || DEFAULT_XDS_SERVICE.port },
  );
  const withBundle = { ...options, trustBundle: provider.trustBundle().pem };
  let webhook: InjectionWebhook;
  try {
    webhook = await startInjectionWebhook({ address: flags.injectWebhookAddress, port: flags.injectWebhookPort, tls: await issue(), options: withBundle, log: logger });
  } catch (err) {
    await provider.close();
    throw err;
  }
  const renew = setInterval(() => {
    issue().then(
      (tls) => webhook.setCertificate(tls),
      (err: unknown) => logger.error(`renewing the injection webhook's certificate failed: ${String(err)}`),
    );
  }, Math.max(1000, Math.floor((flags.certLifetime * 2) / 3)));
  renew.unref();
  logger.info('injection webhook listening', { address: flags.injectWebhookAddress, port: webhook.port, dnsNames: altNames });
  return {
    port: webhook.port,
    close: async () => {
      clearInterval(renew);
      await webhook.close();
      await provider.close();
    },
  };
}
