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
import { compilePaths } from '../compiler/compile.ts';
import type { CompileOptions } from '../compiler/options.ts';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { resourceName, TYPE_URL, XDS_KINDS, type EnvoyResource, type ProxyConfig } from '../emit/types.ts';
import { encodeProtoJsonAny, forgetConverted } from '../envoy/protos.ts';
import { CompileMemo } from '../compiler/compile-memo.ts';
import type { ReadRecord } from '../parser/read-inputs.ts';
import type { EncodedResource, ProxySnapshot } from './snapshot.ts';
import { JsonTexts, resourceVersion, setVersion } from '../emit/versions.ts';

/** A resource the server does not hold yet: everything `EncodedResource` has. */
export type WireResource = EncodedResource;

export interface WireProxy {
  readonly nodeId: string;
  readonly namespace: string;
  readonly workload: string;
  readonly identity?: ProxySnapshot['identity'];
  readonly version: string;
  /** Per type URL (in the proxy's order), the versions of its resources in emit order. */
  readonly types: readonly (readonly [typeUrl: string, versions: readonly string[]])[];
}

export interface WireSnapshot {
  readonly version: string;
  readonly proxies: readonly WireProxy[];
  /** Resources of this snapshot that the server did not hold (by the worker's account). */
  readonly fresh: readonly WireResource[];
}

export interface CompileRequest {
  readonly cmd: 'compile';
  readonly id: number;
  readonly paths: readonly string[];
  readonly options: CompileOptions;
}

/** The server installed the snapshot of request `id`: it now holds exactly that snapshot's resources. */
export interface InstalledMessage {
  readonly cmd: 'installed';
  readonly id: number;
}

export interface CompileReply {
  readonly id: number;
  readonly diagnostics: readonly Diagnostic[];
  /** The compiler's own phases. */
  readonly phases: Readonly<Partial<Record<string, number>>>;
  /** Read, parse, build, passes, emit (ms). */
  readonly compileMs: number;
  /** Encoding and interning (ms). */
  readonly snapshotMs: number;
  readonly snapshot?: WireSnapshot;
  /** An exception in the compiler (a bug): reported as SMI9002 by the server. */
  readonly internalError?: string;
  /** What the compile read of each file (see inputsMoved). */
  readonly read?: readonly ReadRecord[];
}

export interface WorkerInit {
  readonly incremental: boolean;
  /** Versions the server holds already (a worker started after another was retired). */
  readonly holds: readonly string[];
}

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
 * What `buildSnapshot` makes, in wire form: the same versions, maps and order, and proto-encode
 * diagnostics for resources that do not encode. Only resources the server does not hold are
 * encoded (the ones it holds encoded before, and the same content encodes the same).
 */
function wireSnapshot(configs: readonly ProxyConfig[], versions: Versions, holds: ReadonlySet<string>): { wire?: WireSnapshot; live: Set<string>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const fresh = new Map<string, WireResource>();
  const failed = new Set<string>();
  const live = new Set<string>();
  const proxies: WireProxy[] = [];
  for (const config of configs) {
    const types: [string, string[]][] = [];
    const all: { name: string; version: string }[] = [];
    for (const kind of XDS_KINDS) {
      const typeUrl = TYPE_URL[kind];
      const named = new Map<string, string>();
      for (const json of config.resources[kind] ?? []) {
        const version = versions.of(typeUrl, json);
        const name = resourceName(json);
        if (!holds.has(version) && !fresh.has(version) && !failed.has(version)) {
          try {
            fresh.set(version, { name, typeUrl, version, any: encodeProtoJsonAny(typeUrl, json), json });
          } catch (err) {
            failed.add(version);
            diagnostics.push(
              diagnostic('proto-encode', { typeName: typeUrl.replace(/^.*\//, ''), name, detail: err instanceof Error ? err.message : String(err) }),
            );
            continue;
          }
        } else if (failed.has(version)) {
          continue;
        }
        named.set(name, version);
        all.push({ name: `${typeUrl}/${name}`, version });
        live.add(version);
      }
      types.push([typeUrl, [...named.values()]]);
    }
    proxies.push({ nodeId: config.nodeId, namespace: config.namespace, workload: config.workload, identity: config.identity, version: setVersion(all), types });
  }
  if (diagnostics.length > 0) return { live, diagnostics };
  const version = setVersion(proxies.map((p) => ({ name: p.nodeId, version: p.version })));
  return { wire: { version, proxies, fresh: [...fresh.values()] }, live, diagnostics };
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
        let built: ReturnType<typeof wireSnapshot>;
        try {
          built = wireSnapshot(result.proxies, versions, holds);
        } finally {
          forgetConverted(); // one build's converted messages, as in the server's own thread (snapshot.ts)
        }
        diagnostics = [...diagnostics, ...built.diagnostics];
        if (built.wire) {
          wire = built.wire;
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
