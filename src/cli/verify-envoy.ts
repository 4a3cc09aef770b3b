/**
 * `compile --verify-envoy`: Envoy's own verdict on every workload, beside ours. Each proxy, as
 * emitted, gets its static packaging (src/emit/static-bootstrap.ts: the same resources `serve`
 * hands out, inline) written as JSON into a private temporary directory (JSON: Envoy reads it
 * ≈ 5 times faster than the same YAML) and `envoy --mode validate` runs on it
 * (src/envoy/validate.ts). Its certificate slots hold certificates of a throwaway in-memory CA,
 * whatever `--ca` says: the verdict is on the config's shape, and `--emit-secrets`' own key
 * files are not in place yet while the tree is staged.
 *
 * Validations run as the compile goes, as many at once as there are cores; `add` waits while
 * they are all busy, so the temporary directory holds at most that many bootstraps. Each
 * rejection is an SMI7001 naming the workload and the resource Envoy named; a validation
 * without a verdict is SMI7002.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { staticBootstrap } from '../emit/static-bootstrap.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { namedResource, validateBootstrap, type EnvoyVerdict } from '../envoy/validate.ts';
import { BuiltinCa } from '../identity/index.ts';
import { nodeId } from '../ir/names.ts';
import { ProxyCertificates } from './compile-secrets.ts';
import { byKey } from '../shared/compare.ts';

interface Outcome {
  readonly workload: string;
  readonly diagnostic?: Diagnostic;
}

export class EnvoyVerifier {
  private readonly running = new Set<Promise<void>>();
  /** The validation using each workload directory: two workloads that share one (same namespace and name) take turns. */
  private readonly byDir = new Map<string, Promise<void>>();
  private readonly outcomes: Outcome[] = [];
  private closed = false;
  accepted = 0;

  private constructor(
    private readonly envoyBin: string,
    private readonly version: string,
    private readonly dir: string,
    private readonly certs: ProxyCertificates,
    private readonly parallel: number,
  ) {}

  static async open(envoyBin: string, version: string, parallel = availableParallelism()): Promise<EnvoyVerifier> {
    const dir = mkdtempSync(join(tmpdir(), 'smi-verify-envoy-'));
    try {
      const provider = await BuiltinCa.ephemeral();
      const certs = await ProxyCertificates.open({ ca: '', caProvider: 'builtin', emitSecrets: true, outDir: dir, provider });
      return new EnvoyVerifier(envoyBin, version, dir, certs, Math.max(1, parallel));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Starts Envoy on the proxy (as emitted, before `--ca`); waits first while every slot is busy. */
  async add(proxy: ProxyConfig): Promise<void> {
    if (this.closed) throw new Error('EnvoyVerifier: add() after close()');
    while (this.running.size >= this.parallel) await Promise.race(this.running);
    const workload = nodeId(proxy);
    await this.byDir.get(workload);
    const { proxy: certified, files } = await this.certs.apply(proxy);
    const dir = join(this.dir, proxy.namespace, proxy.workload);
    mkdirSync(dir, { recursive: true });
    for (const f of files) writeFileSync(join(this.dir, f.path), f.content, { mode: f.mode ?? 0o644 });
    const file = join(dir, 'bootstrap-static.json');
    writeFileSync(file, JSON.stringify(staticBootstrap(certified)));
    const listeners = new Map<string, string>();
    for (const l of certified.resources.listeners) {
      const sa = (l.address as { socket_address?: { address?: string; port_value?: number } } | undefined)?.socket_address;
      if (sa) listeners.set(`${sa.address}:${sa.port_value}`, String(l.name));
    }
    const run = validateBootstrap(this.envoyBin, file).then((v) => {
      this.record(workload, v, listeners);
      rmSync(dir, { recursive: true, force: true });
    });
    const tracked = run.finally(() => {
      this.running.delete(tracked);
      if (this.byDir.get(workload) === tracked) this.byDir.delete(workload);
    });
    this.running.add(tracked);
    this.byDir.set(workload, tracked);
  }

  /** Waits for every validation; the diagnostics in workload order. Removes the temporary directory. */
  async finish(): Promise<Diagnostic[]> {
    await Promise.all(this.running);
    await this.close();
    return this.outcomes
      .filter((o): o is Required<Outcome> => o.diagnostic !== undefined)
      .sort(byKey((a) => a.workload))
      .map((o) => o.diagnostic);
  }

  /** Stops taking proxies and removes the temporary directory once running validations are done. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.running);
    await this.certs.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private record(workload: string, v: EnvoyVerdict, listeners: ReadonlyMap<string, string>): void {
    const version = this.version;
    if (v.verdict === 'accepted') {
      this.accepted++;
      this.outcomes.push({ workload });
    } else if (v.verdict === 'rejected') {
      const resource = namedResource(v.reason, listeners) ?? 'the bootstrap';
      this.outcomes.push({ workload, diagnostic: diagnostic('envoy-rejects', { version, workload, resource, reason: v.reason }) });
    } else {
      this.outcomes.push({ workload, diagnostic: diagnostic('envoy-no-verdict', { version, workload, detail: v.detail }) });
    }
  }
}
