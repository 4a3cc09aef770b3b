/**
 * Envoy's own verdict on a bootstrap: `envoy --mode validate -c FILE`, which builds every
 * listener, filter chain, route, cluster and TLS context as a running Envoy would (reading the
 * certificate files it names) but opens no socket and contacts nothing. One worker thread and a
 * dynamic base id, so that any number of validations (and running Envoys) coexist on a host.
 */
import { spawn, spawnSync } from 'node:child_process';

/** Accepted, rejected with Envoy's reason, or no verdict at all (Envoy crashed, was killed, or said something else). */
export type EnvoyVerdict =
  | { readonly verdict: 'accepted' }
  | { readonly verdict: 'rejected'; readonly reason: string }
  | { readonly verdict: 'none'; readonly detail: string };

/** Longest a validation may take before it counts as no verdict: a 40 MB YAML bootstrap takes ≈ 20 s on this project's machines. */
const VALIDATE_TIMEOUT_MS = 300_000;

/** `1.40.0` from `envoy --version`; throws with Envoy's output when the binary does not run. */
export function envoyVersion(envoyBin: string): string {
  const r = spawnSync(envoyBin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /version: [0-9a-f]+\/(\d+\.\d+\.\d+[^/\s]*)\//.exec(out);
  if (r.error || r.status !== 0 || !m) throw new Error(`${envoyBin} --version: ${r.error?.message ?? (out.trim() || `exit ${r.status}`)}`);
  return m[1];
}

const REJECTED = /error initializing configuration '[^']*': ([\s\S]*)$/;

export function validateBootstrap(envoyBin: string, file: string): Promise<EnvoyVerdict> {
  const args = ['--mode', 'validate', '-c', file, '--concurrency', '1', '--disable-hot-restart', '-l', 'error', '--log-format', '%v'];
  return new Promise((resolve) => {
    const child = spawn(envoyBin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: VALIDATE_TIMEOUT_MS });
    let out = '';
    const keep = (d: Buffer): void => {
      if (out.length < 64 * 1024) out += d.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ verdict: 'none', detail: err.message }));
    child.on('close', (code, signal) => {
      const text = out.trim();
      if (code === 0) return resolve({ verdict: 'accepted' });
      const m = REJECTED.exec(text);
      if (code === 1 && m) return resolve({ verdict: 'rejected', reason: m[1].trim() });
      resolve({ verdict: 'none', detail: `${signal ? `killed by ${signal}` : `exit ${code}`}${text ? `: ${text.split('\n').slice(-3).join(' ')}` : ''}` });
    });
  });
}

/**
 * The Envoy object a rejection names, as Envoy names it: a listener by address (mapped back
 * to its name through `listenerNames`), a filter chain, a cluster or a secret by name.
 */
export function namedResource(reason: string, listenerNames: ReadonlyMap<string, string> = new Map()): string | undefined {
  const parts: string[] = [];
  const listener = /listener '([^']+)'/.exec(reason);
  if (listener) parts.push(`listener ${listenerNames.get(listener[1]) ?? listener[1]}`);
  const chain = /filter chain '([^']+)'/.exec(reason);
  if (chain) parts.push(`filter chain ${chain[1]}`);
  const cluster = /cluster '([^']+)'/.exec(reason);
  if (cluster) parts.push(`cluster ${cluster[1]}`);
  const secret = /static (?:secret|certificate validation context|[a-z ]+secret): ([^\s,]+)/i.exec(reason);
  if (secret) parts.push(`secret ${secret[1]}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}
