/**
 * What the server and its compile worker say to each other (worker-compiler.ts on the server's
 * side, compile-worker.ts in the worker): a compile request, its reply with the snapshot in wire
 * form, and the server's word that it installed that snapshot.
 */
import type { CompileOptions } from '../../shared/options.ts';
import type { Diagnostic } from '../../diagnostics/diagnostic.ts';
import type { EnvoyResource, ProxyConfig } from '../../emit/types.ts';
import type { ReadRecord } from '../../parser/read-inputs.ts';

/** A resource the server does not hold yet: everything the server's `EncodedResource` has. */
export interface WireResource {
  readonly name: string;
  readonly typeUrl: string;
  readonly version: string;
  readonly any: Uint8Array;
  readonly json: EnvoyResource;
}

export interface WireProxy {
  readonly nodeId: string;
  readonly namespace: string;
  readonly workload: string;
  readonly identity?: ProxyConfig['identity'];
  readonly version: string;
  /** Per type URL (in the proxy's order), the versions of its resources in emit order. */
  readonly types: readonly (readonly [typeUrl: string, versions: readonly string[]])[];
}

export interface WireSnapshot {
  readonly version: string;
  readonly proxies: readonly WireProxy[];
  /** Resources of this snapshot that the server did not hold (by the worker's account). */
  readonly fresh: readonly WireResource[];
  /** The plans the proxyless flavour is emitted from, packed (emit/proxyless packProxylessMesh). */
  readonly proxyless?: Uint8Array;
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
