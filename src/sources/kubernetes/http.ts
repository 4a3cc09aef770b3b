/** One request to the API server with the kubeconfig's credentials (the source's lists, the sidecar certificates' writes). */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A failed request: `statusCode` is the HTTP status (0 when no answer came), `reason` the Status object's. */
export interface KubeRequestError extends Error {
  statusCode: number;
  reason?: string;
}

export function statusOf(err: unknown): number {
  return (err as { statusCode?: number } | undefined)?.statusCode ?? 0;
}

/** JSON in, JSON out; rejects with a KubeRequestError on a status outside 2xx or no answer in 30 s. */
export async function kubeRequest(kc: KubeConfig, method: string, path: string, body?: unknown, accept = 'application/json'): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { accept };
  if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
  const opts: HttpsRequestOptions = { method, headers };
  await kc.applyToHTTPSOptions(opts);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, opts, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(err);
          }
          return;
        }
        let message = text.slice(0, 500);
        let reason: string | undefined;
        try {
          const st = JSON.parse(text) as { message?: string; reason?: string };
          message = st.message ?? message;
          reason = st.reason;
        } catch {
          // not a Status object: keep the text
        }
        reject(Object.assign(new Error(`${method} ${path}: ${status} ${message}`), { statusCode: status, reason }));
      });
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.end(payload);
  });
}

/** An error as one line: HTTP status, system code, message. */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { statusCode?: number; code?: string | number; message?: string };
    return [e.statusCode ? `HTTP ${e.statusCode}` : '', e.code ? String(e.code) : '', e.message ?? ''].filter(Boolean).join(' ');
  }
  return String(err);
}
