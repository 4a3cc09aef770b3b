/**
 * The compiler as a function: sources in, proxy configs and diagnostics out. The CLI and the
 * xDS server are thin shells around it. It never throws for bad input; an exception escaping
 * a stage is a compiler bug and is reported as SMI9002 with the stage it came from.
 */
import { compareDiagnostics, diagnostic, DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { checkProtos, EmitSession, emitProxy } from '../emit/index.ts';
import { nodeId } from '../emit/names.ts';
import type { ProxyConfig } from '../emit/types.ts';
import { buildMesh, meshFromLists } from '../ir/build/index.ts';
import type { Mesh } from '../ir/types.ts';
import { parseObjects, parseSources } from '../parser/parse.ts';
import { readInputs, type ReadRecord } from '../parser/read-inputs.ts';
import type { SourceFile, SourceObject } from '../parser/source.ts';
import { passContext } from '../passes/context.ts';
import { runPasses, type PlannedMesh } from '../passes/index.ts';
import type { CompileMemo } from './compile-memo.ts';
import type { CompileOptions } from '../shared/options.ts';
import { compareStrings as compareKeys } from '../shared/compare.ts';

/** `endpoints`: deciding whether only endpoint sets changed, and if so updating the plans (endpoint-path.ts). */
export type Phase = 'read' | 'parse' | 'build' | 'endpoints' | 'passes' | 'emit' | 'protoCheck';

export interface CompileResult {
  readonly proxies: readonly ProxyConfig[];
  /** Sorted by file, line, column. */
  readonly diagnostics: readonly Diagnostic[];
  /** True when no diagnostic is an error: only then may output be written or served. */
  readonly ok: boolean;
  /** The normalised and analysed mesh (undefined when a stage failed internally). */
  readonly mesh?: PlannedMesh | Mesh;
  /** Milliseconds per phase. */
  readonly timings: Partial<Record<Phase, number>>;
  /** What was read of each input file (compiles of paths): `inputsMoved` tells whether the disk has moved on since. */
  readonly read?: readonly ReadRecord[];
}

export interface CompileRunOptions extends CompileOptions {
  /** Stop after the passes (lint needs diagnostics, not Envoy resources). */
  readonly analyseOnly?: boolean;
}

class InternalError extends Error {}

function timed<T>(timings: Partial<Record<Phase, number>>, phase: Phase, bag: DiagnosticBag, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } catch (err) {
    const detail = `${phase} failed: ${err instanceof Error ? err.message : String(err)}`;
    bag.report(diagnostic('internal-error', { detail }));
    if (process.env.SMI_COMPILE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    throw new InternalError(detail);
  } finally {
    timings[phase] = (timings[phase] ?? 0) + (performance.now() - t0);
  }
}

function finish(bag: DiagnosticBag, proxies: readonly ProxyConfig[], timings: CompileResult['timings'], mesh?: PlannedMesh | Mesh): CompileResult {
  const diagnostics = [...bag.items].sort(compareDiagnostics);
  return { proxies, diagnostics, ok: !diagnostics.some((d) => d.level === 'error'), mesh, timings };
}

/** Which order `CompileSession.proxies()` hands the proxies out in. */
export type ProxyOrder =
  /** The passes' order (workloads as found): what `compile()` returns. */
  | 'plan'
  /**
   * By output directory `<namespace>/<workload>/`, i.e. the order of the output tree's file
   * paths (renderTree): lets a writer or a golden diff stream the tree in path order.
   */
  | 'path';

/**
 * A compile whose emit is pulled one proxy at a time: read, parse, build and the passes have
 * run when the session is made (their errors are known before anything is emitted); each
 * `proxies()` step emits one proxy and proto-checks it before handing it out. A caller that
 * writes each proxy and drops it holds the mesh, the shared objects and one proxy, never the
 * whole output. `compile()` is this with every proxy collected.
 */
export interface CompileSession {
  /** How many proxies `proxies()` will hand out (0 after an internal error, or with `analyseOnly`). */
  readonly proxyCount: number;
  /** True while no error diagnostic has been reported: after the passes, then after each proxy's proto check. */
  ok(): boolean;
  /**
   * Emits and proto-checks the proxies one at a time. Once per session. A caller may stop early
   * (`break`); an internal error (SMI9002) in emit or the check ends the iteration.
   */
  proxies(order?: ProxyOrder): Generator<ProxyConfig, void, undefined>;
  /** Diagnostics so far (sorted), ok and timings. `proxies` is empty: the caller had them one at a time. */
  result(): CompileResult;
  /** True when a stage threw (reported as SMI9002): the proxies handed out so far are not a whole compile. */
  failedInternally(): boolean;
}

/** `<namespace>/<workload>/`: sorting on this sorts the proxies as their files sort in the output tree. */
function pathKey(plan: { readonly namespace: string; readonly workload: string }): string {
  return `${nodeId(plan)}/`;
}

function startSession(
  bag: DiagnosticBag,
  timings: CompileResult['timings'],
  inputs: readonly SourceFile[] | undefined,
  options: CompileRunOptions,
  memo?: CompileMemo,
  objects: readonly SourceObject[] = [],
): CompileSession {
  let mesh: PlannedMesh | Mesh | undefined;
  let planned: PlannedMesh | undefined;
  let failed = inputs === undefined; // reading failed internally
  let errors = 0;
  let counted = 0;
  /** Counts errors incrementally: the check runs after every proxy, and a bag holds thousands of warnings. */
  const errorsSoFar = (): number => {
    for (; counted < bag.items.length; counted++) if (bag.items[counted].level === 'error') errors++;
    return errors;
  };
  const ok = (): boolean => errorsSoFar() === 0 && !failed;
  if (inputs) {
    try {
      const build = { trustDomain: options.trustDomain };
      if (memo) {
        // Parse and build only the files that changed (their time is 'parse').
        timed(timings, 'parse', bag, () => memo.load(inputs, bag, objects));
        // Only endpoint sets changed: the latest plans brought up to date, without the passes.
        const fast = timed(timings, 'endpoints', bag, () => memo.endpointPath(options));
        if (fast) {
          for (const d of fast.diagnostics) bag.report(d);
          mesh = planned = fast.mesh;
        } else {
          const loaded = bag.items.length;
          const built = timed(timings, 'build', bag, () => meshFromLists(memo.lists(), bag, build));
          mesh = built;
          planned = timed(timings, 'passes', bag, () => runPasses(built, passContext(bag, options), memo.passes, memo.namespaces()));
          mesh = planned;
          memo.rememberPlanned(planned, bag.items.slice(loaded), options);
        }
      } else {
        const docs = timed(timings, 'parse', bag, () => [...parseSources([...inputs], bag, { keepRefused: true }), ...parseObjects(objects, bag, { keepRefused: true })]);
        const built = timed(timings, 'build', bag, () => buildMesh(docs, bag, build));
        mesh = built;
        planned = timed(timings, 'passes', bag, () => runPasses(built, passContext(bag, options)));
        mesh = planned;
      }
    } catch (err) {
      if (!(err instanceof InternalError)) throw err;
      failed = true;
    }
  }
  const plans = !failed && planned && !options.analyseOnly ? planned.proxies : [];
  // The memo's session carries shared objects over to the next compile; without one they live as long as this compile.
  const emit = memo?.emit ?? new EmitSession();
  let started = false;
  return {
    proxyCount: plans.length,
    ok,
    *proxies(order: ProxyOrder = 'plan') {
      if (started) throw new Error('CompileSession.proxies() runs once');
      started = true;
      const list = order === 'path' ? byPath(plans) : plans;
      try {
        for (const plan of list) {
          let proxy: ProxyConfig;
          try {
            const emitted = memo?.emittedFor(plan, options);
            if (emitted) {
              proxy = emitted; // the same plan object as last compile: the same config, checked then
            } else {
              proxy = timed(timings, 'emit', bag, () => emitProxy(emit, plan, options));
              const before = errorsSoFar();
              if (options.protoCheck !== false) timed(timings, 'protoCheck', bag, () => checkProtos(emit.protoCheck, proxy, bag));
              if (memo && errorsSoFar() === before) proxy = memo.remember(plan, proxy);
            }
          } catch (err) {
            if (!(err instanceof InternalError)) throw err;
            failed = true;
            return;
          }
          yield proxy;
        }
      } finally {
        memo?.afterEmit();
      }
    },
    result: () => finish(bag, [], timings, mesh),
    failedInternally: () => failed,
  };
}

/** The plans sorted by output directory, each key made once (not twice per comparison). */
function byPath<T extends { readonly namespace: string; readonly workload: string }>(plans: readonly T[]): T[] {
  return plans
    .map((plan) => ({ plan, key: pathKey(plan) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map((entry) => entry.plan);
}

/** Every proxy of a session, collected; none when emit or the check failed internally (SMI9002). */
function collect(session: CompileSession): CompileResult {
  const proxies = [...session.proxies()];
  const result = session.result();
  return session.failedInternally() ? result : { ...result, proxies };
}

/** Starts a compile of `inputs`: see CompileSession. */
export function startCompile(inputs: readonly SourceFile[], options: CompileRunOptions = {}, memo?: CompileMemo): CompileSession {
  return startSession(new DiagnosticBag(), {}, inputs, options, memo);
}

/**
 * Reads files, directories and `-` (stdin), then starts a compile of them and of `objects` (read
 * from the Kubernetes API, after the files): see CompileSession.
 */
export function startCompilePaths(
  paths: readonly string[],
  options: CompileRunOptions = {},
  stdin?: (maxBytes: number) => string | Buffer,
  memo?: CompileMemo,
  objects?: readonly SourceObject[],
): CompileSession {
  const bag = new DiagnosticBag();
  const timings: CompileResult['timings'] = {};
  let inputs: SourceFile[] | undefined;
  const record: ReadRecord[] = [];
  try {
    inputs = timed(timings, 'read', bag, () => readInputs([...paths], bag, { stdin, maxFileSize: options.maxFileSize, texts: memo?.texts, record }));
  } catch (err) {
    if (!(err instanceof InternalError)) throw err;
  }
  const session = startSession(bag, timings, inputs, options, memo, objects);
  return { ...session, result: () => ({ ...session.result(), read: record }) };
}

export function compile(inputs: readonly SourceFile[], options: CompileRunOptions = {}): CompileResult {
  return collect(startCompile(inputs, options));
}

/** Reads files, directories and `-` (stdin), then compiles them and `objects` (see startCompilePaths). */
export function compilePaths(
  paths: readonly string[],
  options: CompileRunOptions = {},
  stdin?: (maxBytes: number) => string | Buffer,
  memo?: CompileMemo,
  objects?: readonly SourceObject[],
): CompileResult {
  return collect(startCompilePaths(paths, options, stdin, memo, objects));
}
