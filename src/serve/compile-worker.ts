/**
 * The compile worker: `serve` compiles and encodes in a worker thread (worker-compiler.ts starts
 * it), so that the compiler's memory is not the server's.
 *
 * A 1,000-service compile leaves the heap of whoever runs it ≈ 200 MiB larger than the server
 * needs (the parse cache, emit's shared-object tables, each resource's JSON, V8 heap grown for
 * the compile's garbage, the compiler's code); in a worker all of it is released when the worker
 * is retired, and the ADS event loop never pauses for a compile.
 *
 * Per request it compiles (with the per-file parse cache when asked), encodes and interns every
 * resource exactly as the in-process server does (`buildSnapshot`, same versions), and answers
 * with the snapshot in wire form: per proxy the versions of its resources, and the encoded bytes
 * and JSON of only those resources the server does not hold yet. After a one-policy edit that is
 * a few dozen resources, not the 15,000 of the mesh.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compilePaths } from '../compiler/compile.ts';
import type { CompileOptions } from '../compiler/options.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { ParseCache } from './parse-cache.ts';
import { buildSnapshot, ResourceInterner, type EncodedResource, type ProxySnapshot, type Snapshot } from './snapshot.ts';

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
}

export interface WorkerInit {
  readonly parseCache: boolean;
  /** Versions the server holds already (a worker started after another was retired). */
  readonly holds: readonly string[];
}

function toWire(snapshot: Snapshot, holds: ReadonlySet<string>): WireSnapshot {
  const fresh: WireResource[] = [];
  const seen = new Set<string>();
  const proxies: WireProxy[] = [];
  for (const p of snapshot.proxies.values()) {
    const types: [string, string[]][] = [];
    for (const [typeUrl, byName] of p.resources) {
      const versions: string[] = [];
      for (const r of byName.values()) {
        versions.push(r.version);
        if (!holds.has(r.version) && !seen.has(r.version)) {
          seen.add(r.version);
          fresh.push(r);
        }
      }
      types.push([typeUrl, versions]);
    }
    proxies.push({ nodeId: p.nodeId, namespace: p.namespace, workload: p.workload, identity: p.identity, version: p.version, types });
  }
  return { version: snapshot.version, proxies, fresh };
}

function versionsOf(snapshot: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const p of snapshot.proxies.values()) for (const byName of p.resources.values()) for (const r of byName.values()) out.add(r.version);
  return out;
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('compile-worker.ts runs in a worker thread');
  const init = workerData as WorkerInit;
  const parseCache = init.parseCache ? new ParseCache() : undefined;
  const interner = new ResourceInterner();
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
      const result = parseCache ? compilePaths(m.paths, m.options, undefined, parseCache.parse) : compilePaths(m.paths, m.options);
      const t1 = performance.now();
      let diagnostics: readonly Diagnostic[] = result.diagnostics;
      let wire: WireSnapshot | undefined;
      if (!diagnostics.some((d) => d.level === 'error')) {
        const built = buildSnapshot(result.proxies, interner);
        diagnostics = [...diagnostics, ...built.diagnostics];
        if (built.snapshot) {
          wire = toWire(built.snapshot, holds);
          pending = { id: m.id, versions: versionsOf(built.snapshot) };
        }
      }
      reply = { id: m.id, diagnostics, phases: result.timings ?? {}, compileMs: t1 - t0, snapshotMs: performance.now() - t1, snapshot: wire };
    } catch (err) {
      reply = { id: m.id, diagnostics: [], phases: {}, compileMs: performance.now() - t0, snapshotMs: 0, internalError: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
}

main();
