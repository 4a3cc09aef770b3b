/**
 * `serve --inject-webhook`: the mutating admission webhook (admission.k8s.io/v1). The API server
 * POSTs an AdmissionReview for every Pod CREATE in a namespace the MutatingWebhookConfiguration
 * selects (deploy/inject-webhook/webhook.yaml: `openservicemesh.io/monitor`); the answer allows the pod,
 * with a JSON Patch that adds what `inject` adds offline (the same injectTemplate), or without one
 * when the pod opted out or already has the sidecar. A pod whose injection annotations OSM would
 * refuse is refused, with SMI8010's message, as OSM's webhook refuses it.
 *
 * `reviewResponse` is the pure part; `startInjectionWebhook` serves it over HTTPS with a
 * certificate that can be replaced while running (renewal).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { diagnostic, formatDiagnostic } from '../diagnostics/diagnostic.ts';
import { injectTemplate, workloadOfPod, type InjectOptions } from './inject.ts';
import { jsonPatch } from './json-patch.ts';
import type { LooseJson as Json } from '../shared/json.ts';

export const WEBHOOK_PATH = '/mutate-pod-creation';
/** The API server sends at most its own request limit (3 MiB) of object; a review is a little more. */
export const MAX_REVIEW_BYTES = 4 * 1024 * 1024;

export class BadReview extends Error {}

/** The AdmissionReview answering `review`. Throws BadReview when it is not a v1 review of a Pod. */
export function reviewResponse(review: unknown, options: InjectOptions): Json {
  const r = review as Json;
  if (r?.apiVersion !== 'admission.k8s.io/v1' || r?.kind !== 'AdmissionReview') throw new BadReview(`expected apiVersion admission.k8s.io/v1, kind AdmissionReview; got ${String(r?.apiVersion)} ${String(r?.kind)}`);
  const request = r.request as Json | undefined;
  if (typeof request?.uid !== 'string') throw new BadReview('the review has no request.uid');
  const answer = (response: Json): Json => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.uid, allowed: true, ...response } });
  const pod = request.object as Json | undefined;
  // Anything but a Pod CREATE is allowed untouched: the configuration should not send it, and refusing it would block the cluster.
  if (request.kind?.kind !== 'Pod' || request.operation !== 'CREATE' || !pod || typeof pod !== 'object') return answer({});
  const namespace = String(request.namespace ?? pod.metadata?.namespace ?? 'default');
  const result = injectTemplate({ metadata: pod.metadata, spec: pod.spec }, { namespace, workload: workloadOfPod(pod.metadata) }, options);
  if (result.outcome === 'skipped') return answer({});
  if (result.outcome === 'invalid') {
    const name = `${namespace}/${pod.metadata?.name ?? pod.metadata?.generateName ?? ''}`;
    const message = result.problems
      .map((p) => formatDiagnostic(diagnostic('inject-bad-annotation', { kind: 'Pod', name, annotation: p.annotation, value: JSON.stringify(p.value), detail: p.detail })))
      .join('; ');
    return answer({ allowed: false, status: { code: 400, reason: 'BadRequest', message } });
  }
  const patch = jsonPatch(pod, { ...pod, metadata: result.template.metadata, spec: result.template.spec });
  return answer({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
}

export interface WebhookTls {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface InjectionWebhook {
  readonly port: number;
  /** Serves new connections with this certificate (renewal); open ones keep theirs. */
  setCertificate(tls: WebhookTls): void;
  close(): Promise<void>;
}

export interface WebhookLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export async function startInjectionWebhook(opts: { address: string; port: number; tls: WebhookTls; options: InjectOptions; log: WebhookLog }): Promise<InjectionWebhook> {
  const server: Server = createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url?.split('?')[0] !== WEBHOOK_PATH) {
      reply(404, { error: `POST ${WEBHOOK_PATH}` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REVIEW_BYTES) {
        reply(413, { error: `an AdmissionReview larger than ${MAX_REVIEW_BYTES} bytes` });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      try {
        const review = reviewResponse(JSON.parse(Buffer.concat(chunks).toString('utf8')), opts.options);
        const r = review.response as Json;
        opts.log.info(r.patch ? 'injected the sidecar' : r.allowed ? 'admitted without injection' : 'refused', { uid: r.uid });
        reply(200, review);
      } catch (err) {
        const detail = err instanceof BadReview || err instanceof SyntaxError ? err.message : String(err);
        const d = diagnostic('inject-webhook-bad-review', { detail });
        opts.log.error(formatDiagnostic(d), { code: d.code });
        reply(400, { error: d.message });
      }
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    setCertificate: (tls) => server.setSecureContext({ cert: tls.certPem, key: tls.keyPem }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
