/**
 * The compile worker: `serve` compiles and encodes in a worker thread (worker-compiler.ts starts
 * it), so that the compiler's memory is not the server's.
 *
 * A 1,000-service compile leaves the heap of whoever runs it ≈ 200 MiB larger than the server
 * needs (the compile memo, emit's shared-object tables, each resource's JSON, V8 heap grown for
 * the compile's garbage, the compiler's code); in a worker all of it is released when the worker
 * is retired, and the ADS event loop never pauses for a compile.
 *
 * Per request it compiles (incrementally, with a compile memo, when asked), versions every resource as
 * the in-process server does (`buildSnapshot`: same versions, maps and order), and answers with
 * the snapshot in wire form: per proxy the versions of its resources, and the encoded bytes and
 * JSON of only those resources the server does not hold yet (only those are encoded at all).
 * After a one-policy edit that is a few dozen resources, not the 15,000 of the mesh. Between
 * compiles the worker keeps its compile memo and emit's shared objects, and no resource.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compilePaths } from '../../compiler/compile.ts';
import type { Diagnostic } from '../../diagnostics/diagnostic.ts';
import { resourceName, type EnvoyResource, type ProxyConfig } from '../../emit/types.ts';
import { encodeProtoJsonAny, SharedMessages } from '../../envoy/protos.ts';
import { CompileMemo } from '../../compiler/compile-memo.ts';
import { JsonTexts, resourceVersion } from '../../emit/versions.ts';
import { packProxylessMesh, proxylessMeshOf } from '../../emit/proxyless/index.ts';
import { encodeProxy, snapshotVersion } from './encode-proxy.ts';
import type { CompileReply, CompileRequest, InstalledMessage, WireProxy, WireResource, WireSnapshot, WorkerInit } from './worker-protocol.ts';

/**
 * Versions of emitted resources, by content: the same function as `ResourceInterner` (snapshot.ts)
 * uses, with its identity shortcut for frozen objects (emit shares them across proxies and
 * compiles). It keeps no resource: what the server holds it never needs again.
 */
class Versions {
  private readonly byObject = new WeakMap<object, { readonly typeUrl: string; readonly version: string }>();
  private readonly texts = new JsonTexts();
  of(typeUrl: string, json: EnvoyResource): string {
    const frozen = Object.isFrozen(json);
    if (frozen) {
      const hit = this.byObject.get(json);
      if (hit && hit.typeUrl === typeUrl) return hit.version;
    }
    const version = resourceVersion(typeUrl, json, this.texts);
    if (frozen) this.byObject.set(json, { typeUrl, version });
    return version;
  }
}

/**
 * What `buildSnapshot` makes, in wire form (encode-proxy.ts, the same for both): per proxy the
 * versions of its resources. Only resources the server does not hold are encoded (the ones it
 * holds encoded before, and the same content encodes the same).
 */
function wireSnapshot(configs: readonly ProxyConfig[], versions: Versions, holds: ReadonlySet<string>): { wire?: WireSnapshot; live: Set<string>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const fresh = new Map<string, WireResource>();
  const live = new Set<string>();
  const messages = new SharedMessages(); // this build's, dropped with it
  const encode = (typeUrl: string, json: EnvoyResource): string => {
    const version = versions.of(typeUrl, json);
    if (!holds.has(version) && !fresh.has(version)) fresh.set(version, { name: resourceName(json), typeUrl, version, any: encodeProtoJsonAny(typeUrl, json, messages), json });
    live.add(version);
    return version;
  };
  const proxies: WireProxy[] = [];
  for (const config of configs) {
    const p = encodeProxy(config, encode, (v) => v, diagnostics);
    const types = [...p.byType].map(([typeUrl, named]) => [typeUrl, [...named.values()]] as const);
    proxies.push({ nodeId: config.nodeId, namespace: config.namespace, workload: config.workload, identity: config.identity, version: p.version, types });
  }
  if (diagnostics.length > 0) return { live, diagnostics };
  return { wire: { version: snapshotVersion(proxies), proxies, fresh: [...fresh.values()] }, live, diagnostics };
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('compile-worker.ts runs in a worker thread');
  const init = workerData as WorkerInit;
  const memo = init.incremental ? new CompileMemo() : undefined;
  const versions = new Versions();
  /** What the server holds (as of its last 'installed'), and what it will hold if it installs the last reply. */
  let holds = new Set<string>(init.holds);
  let pending: { id: number; versions: Set<string> } | undefined;

  port.on('message', (m: CompileRequest | InstalledMessage) => {
    if (m.cmd === 'installed') {
      if (pending?.id === m.id) holds = pending.versions;
      pending = undefined;
      return;
    }
    const t0 = performance.now();
    let reply: CompileReply;
    try {
      const result = compilePaths(m.paths, m.options, undefined, memo);
      const t1 = performance.now();
      let diagnostics: readonly Diagnostic[] = result.diagnostics;
      let wire: WireSnapshot | undefined;
      if (!diagnostics.some((d) => d.level === 'error')) {
        const built = wireSnapshot(result.proxies, versions, holds);
        diagnostics = [...diagnostics, ...built.diagnostics];
        if (built.wire) {
          const proxyless = proxylessMeshOf(result.mesh);
          wire = { ...built.wire, proxyless: proxyless && packProxylessMesh(proxyless) };
          pending = { id: m.id, versions: built.live };
        }
      }
      reply = { id: m.id, diagnostics, phases: result.timings ?? {}, compileMs: t1 - t0, snapshotMs: performance.now() - t1, snapshot: wire, read: result.read };
    } catch (err) {
      reply = { id: m.id, diagnostics: [], phases: {}, compileMs: performance.now() - t0, snapshotMs: 0, internalError: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
}

main();
